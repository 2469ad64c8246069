"""Receipt PDFs from HTML with WeasyPrint: fonts and stylesheets prepared once per process.

The template is rendered from plain values; the URL fetcher lets the renderer
read nothing but an allow-list of the app's own static files (and data: URIs),
so markup or CSS typed into any field can fetch nothing, local or remote.

Fonts are read where they lie in static/fonts. WeasyPrint's own FontConfiguration
copies each @font-face font into a temporary folder and deletes that folder when the
object is collected; a copy of the object inherited through fork is collected in
every worker that exits, so the folder vanished under the other workers and their
receipts embedded empty fonts. No process here owns such a folder, and each process
builds its own renderer (see `renderer`), so nothing of WeasyPrint's crosses a fork.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement, tostring

from webapp.config import PROJECT_ROOT
from webapp.receipts.errors import ReceiptError

log = logging.getLogger(__name__)

STATIC = PROJECT_ROOT / "static"
# Relative URLs in the receipt resolve against this base, which no network can
# reach (.invalid): the fetcher answers it from disk for allow-listed files only.
STATIC_BASE = "https://handover-static.invalid/static/"
ALLOWED_STATIC = ("fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf", "css/receipt.css")


class RenderError(ReceiptError):
    """The receipt could not be rendered (or not within its time budget)."""


def font_files() -> list[Path]:
    """The font files receipts are set in."""
    return [STATIC / name for name in ALLOWED_STATIC if name.endswith(".ttf")]


def static_allow_list() -> dict[str, Path]:
    """Map each allowed URL to its file, resolved on disk once."""
    return {STATIC_BASE + name: (STATIC / name).resolve(strict=True) for name in ALLOWED_STATIC}


@cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serve allow-listed static files and data: URIs; refuse everything else."""

        def __init__(self, allowed: dict[str, Path]):
            super().__init__(allowed_protocols=("data",), allow_redirects=False)
            self.allowed = allowed

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = self.allowed.get(url)
            if path is None:
                scheme = url.split(":", 1)[0][:16]
                # Log the kind of request only: the URL may carry typed personal data.
                log.warning("receipt renderer refused a %s: URL", scheme)
                raise ValueError("the receipt renderer fetches only its own static files")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    return StaticOnlyFetcher


def make_fetcher(allowed: dict[str, Path] | None = None):
    """Return a fetcher serving the allow-listed static files (and data: URIs) only."""
    return _fetcher_class()(allowed if allowed is not None else static_allow_list())


@cache
def _font_configuration_class():
    from weasyprint.text.constants import FONTCONFIG_STYLE, FONTCONFIG_WEIGHT
    from weasyprint.text.ffi import ffi, fontconfig, pangoft2
    from weasyprint.text.fonts import FontConfiguration

    class StaticFontConfiguration(FontConfiguration):
        """A FontConfiguration whose @font-face fonts are the allow-listed files in
        static/fonts, registered with Fontconfig in place: never copied, never deleted."""

        def __init__(self, allowed: dict[str, Path]):
            super().__init__()
            self.allowed = allowed

        def add_font_face(self, rule_descriptors, url_fetcher):
            for kind, url in rule_descriptors["src"]:
                path = self.allowed.get(url) if kind == "external" else None
                if path is not None and path.suffix == ".ttf":
                    return self._register(path, rule_descriptors)
            log.warning("receipt stylesheet names a font outside static/fonts; ignored")
            return None

        def _register(self, path: Path, rule_descriptors) -> None:
            # The same Fontconfig rules WeasyPrint writes for a copied font (the family
            # prepended, weight and style assigned), pointing at the file itself.
            root = Element("fontconfig")
            match = SubElement(root, "match", target="scan")
            test = SubElement(match, "test", name="file", compare="eq")
            SubElement(test, "string").text = path.as_posix()
            edit = SubElement(match, "edit", name="family", mode="prepend")
            SubElement(edit, "string").text = rule_descriptors["font_family"]
            if "font_weight" in rule_descriptors:
                edit = SubElement(match, "edit", name="weight", mode="assign_replace")
                weight = FONTCONFIG_WEIGHT[rule_descriptors["font_weight"]]
                SubElement(edit, "int").text = str(weight)
            if "font_style" in rule_descriptors:
                edit = SubElement(match, "edit", name="slant", mode="assign_replace")
                SubElement(edit, "const").text = FONTCONFIG_STYLE[rule_descriptors["font_style"]]
            xml = b'<?xml version="1.0"?>' + tostring(root, encoding="unicode").encode()
            fontconfig.FcConfigParseAndLoadFromMemory(self._config, xml, True)
            if not fontconfig.FcConfigAppFontAddFile(self._config, os.fsencode(path)):
                raise RenderError(f"font {path.name} could not be loaded")
            pangoft2.pango_fc_font_map_config_changed(
                ffi.cast("PangoFcFontMap *", self.font_map)
            )

        def __del__(self):
            """Nothing to clean: no temporary folder was made."""

    return StaticFontConfiguration


def harfbuzz_subsetting_available() -> bool:
    """Tell whether WeasyPrint can subset fonts with HarfBuzz (3-4x faster than fontTools)."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


class Renderer:
    """Turns receipt HTML into PDF bytes. One per process: the font configuration and
    the parsed stylesheet are built once (a fresh pair per receipt costs time and
    leaks memory), and renders run one at a time on a worker thread with a budget."""

    def __init__(self, budget_seconds: float):
        from weasyprint import CSS

        self.budget = budget_seconds
        allowed = static_allow_list()
        self.fetcher = make_fetcher(allowed)
        self.font_config = _font_configuration_class()(allowed)
        self.stylesheet = CSS(
            url=STATIC_BASE + "css/receipt.css",
            font_config=self.font_config,
            url_fetcher=self.fetcher,
        )
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receipt-render")

    def _render(self, html: str) -> bytes:
        from weasyprint import HTML

        document = HTML(string=html, base_url=STATIC_BASE, url_fetcher=self.fetcher)
        return document.write_pdf(
            stylesheets=[self.stylesheet], font_config=self.font_config
        )

    def render(self, html: str) -> bytes:
        """Return the PDF for the HTML, or raise RenderError past the time budget."""
        future = self._worker.submit(self._render, html)
        try:
            return future.result(timeout=self.budget)
        except FutureTimeout:
            log.error("receipt rendering exceeded its %.1f s budget", self.budget)
            # The stuck render cannot be killed, but it must not block the next one:
            # later receipts get a fresh worker thread.
            self._worker.shutdown(wait=False, cancel_futures=True)
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receipt-render")
            raise RenderError("receipt rendering exceeded its time budget") from None

    def close(self) -> None:
        """Let the worker thread end once any render still running is done."""
        self._worker.shutdown(wait=False, cancel_futures=True)


@dataclass
class Health:
    """Whether this process's renderer last made a readable receipt, and when a
    broken one was last tried again (see webapp.receipts.service.renderer_status)."""

    problem: str | None = None
    retried_at: float = 0.0


_renderers: dict[tuple[int, float], Renderer] = {}
_health: dict[int, Health] = {}
_lock = threading.Lock()


def health() -> Health:
    """Return this process's renderer health."""
    with _lock:
        return _health.setdefault(os.getpid(), Health())


def report_broken(budget_seconds: float, problem: str) -> None:
    """Record that this process's renderer failed; the next render builds a fresh one."""
    with _lock:
        _health.setdefault(os.getpid(), Health()).problem = problem
        failed = _renderers.pop((os.getpid(), budget_seconds), None)
    if failed is not None:
        failed.close()


def report_working() -> None:
    """Record that this process's renderer made a readable document."""
    with _lock:
        _health.setdefault(os.getpid(), Health()).problem = None


def renderer(budget_seconds: float) -> Renderer:
    """Return this process's renderer, created on first use in this very process.

    Keyed by process id: a renderer inherited through fork (font maps, caches, a
    thread pool whose thread stayed behind) is never used by the child."""
    pid = os.getpid()
    with _lock:
        for inherited in [key for key in _renderers if key[0] != pid]:
            del _renderers[inherited]
        if (pid, budget_seconds) not in _renderers:
            _renderers[pid, budget_seconds] = Renderer(budget_seconds)
        return _renderers[pid, budget_seconds]
