"""Read a receipt back as anyone holding it would, before it is kept and whenever it
is audited: the text poppler's pdftotext (the extractor expert tools build on) gets
from it, and the font programs it embeds.

A receipt that signs and validates can still be unreadable: a font embedded with no
glyphs leaves pages of lines and boxes, and text no one can extract. The checks here
catch that, independently of how the receipt was rendered.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable, Iterator
from functools import cache
from io import BytesIO

# A subset of one glyph is still a few hundred bytes; the broken ones were 12.
MIN_FONT_BYTES = 200
EXTRACT_SECONDS = 20


class ReadbackError(RuntimeError):
    """The PDF could not be read back at all (no extractor, or not a PDF)."""


def extracted_text(pdf: bytes) -> str:
    """Return the text poppler's pdftotext extracts from the PDF."""
    program = shutil.which("pdftotext")
    if program is None:
        raise ReadbackError("pdftotext is not installed (Debian package poppler-utils)")
    try:
        result = subprocess.run(  # noqa: S603 - a fixed command; the PDF goes to stdin
            [program, "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True,
            timeout=EXTRACT_SECONDS, check=False,
        )
    except subprocess.TimeoutExpired:
        raise ReadbackError("pdftotext did not finish") from None
    if result.returncode != 0:
        raise ReadbackError("pdftotext could not read the PDF")
    return result.stdout.decode("utf-8", "replace")


def _fonts(reader) -> Iterator[tuple[str, object]]:
    """Yield (name, font dictionary) for every font any page uses, each once."""
    seen = set()
    pages = [reader.root["/Pages"]]
    while pages:
        node = pages.pop().get_object()
        if "/Kids" in node:
            pages.extend(node["/Kids"])
            continue
        fonts = _entry(_entry(node, "/Resources") or {}, "/Font") or {}
        for key in fonts:
            font = fonts[key]
            name = str(_entry(font, "/BaseFont") or key)
            if name not in seen:
                seen.add(name)
                yield name, font


def _entry(dictionary, key: str):
    """Return the dictionary's value for the key, resolved, or None."""
    # Not .get(): only indexing resolves an indirect reference.
    return dictionary[key] if key in dictionary else None  # noqa: SIM401


def _font_program(font) -> bytes | None:
    """Return the embedded font program of a simple or composite (Type0) font."""
    if "/DescendantFonts" in font:
        font = font["/DescendantFonts"][0].get_object()
    descriptor = _entry(font, "/FontDescriptor")
    for key in ("/FontFile2", "/FontFile3", "/FontFile"):
        if descriptor is not None and key in descriptor:
            return descriptor[key].data
    return None


def _glyph_count(program: bytes) -> int:
    """Return how many glyphs a TrueType/OpenType program holds (0 if it cannot be parsed)."""
    from fontTools.ttLib import TTFont, TTLibError

    try:
        font = TTFont(BytesIO(program), lazy=True)
        if "glyf" not in font and "CFF " not in font:
            return 0
        return int(font["maxp"].numGlyphs)
    except (TTLibError, KeyError, AssertionError, ValueError, EOFError, OSError):
        return 0


def font_problems(pdf: bytes) -> list[str]:
    """Say what is wrong with the fonts the PDF embeds (none missing, none empty)."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        fonts = list(_fonts(PdfFileReader(BytesIO(pdf), strict=False)))
    except (PdfError, KeyError, TypeError, ValueError, AttributeError) as error:
        raise ReadbackError(f"its fonts could not be read ({type(error).__name__})") from None
    if not fonts:
        return ["no fonts"]
    problems = []
    for name, font in fonts:
        program = _font_program(font)
        if program is None:
            problems.append(f"font {name} is not embedded")
        elif len(program) < MIN_FONT_BYTES or _glyph_count(program) < 2:
            problems.append(f"font {name} is embedded empty ({len(program)} bytes)")
    return problems


@cache
def _drawable() -> frozenset[int]:
    """The characters the receipt's own fonts have glyphs for."""
    from fontTools.ttLib import TTFont

    from webapp.receipts.render import font_files

    return frozenset().union(*(TTFont(path).getBestCmap() for path in font_files()))


def _legible(text: str) -> str:
    """The text as compared: only characters the receipt's fonts can draw (one no font
    has prints as an empty box whatever the renderer does), without white space (line
    breaks and wrapping differ between extractors; the words must not)."""
    drawable = _drawable()
    return "".join(ch for ch in text if ord(ch) in drawable and not ch.isspace())


def problems(pdf: bytes, expected: Iterable[tuple[str, str]]) -> list[str]:
    """Check the PDF reads back: real fonts, and each expected (what, value) in its text.

    Problems name what is missing, never the value: they go to logs."""
    found = font_problems(pdf)
    text = _legible(extracted_text(pdf))
    found += [f"{what} not in the extracted text" for what, value in expected
              if _legible(value) not in text]
    return found
