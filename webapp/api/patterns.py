"""Regular expressions the API publishes and applies: the OpenAPI document states a
pattern, and the server matches exactly that pattern, so a value the document allows
is accepted and one it forbids is refused.

Each pattern reads the same in Python's `re` (the server's, and Schemathesis') and in
ECMA-262 with the `u` flag (JSON Schema validators such as Ajv): it is anchored with ^
and $ and the server matches it whole (`fullmatch`, so Python's `$` cannot let a
trailing newline through); digits are [0-9], never \\d (Python's \\d takes any
script's); characters of the Basic Multilingual Plane are written as \\uXXXX escapes,
the few beyond it as themselves, one at a time (never a range), so that an engine
reading UTF-16 code units (ECMA-262 without `u`, as OpenAPI 3.0 cites it) still
compiles the pattern, and there refuses every character beyond the BMP, being stricter
rather than looser than the server.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from collections.abc import Callable, Iterable
from decimal import Decimal
from functools import cache

import phonenumbers

from webapp.domain.text import has_control_characters

BMP = range(0x10000)
EVERY_CODE_POINT = range(sys.maxunicode + 1)


def _escape(code: int) -> str:
    return f"\\u{code:04x}"


def _ranges(codes: Iterable[int]) -> list[tuple[int, int]]:
    found: list[tuple[int, int]] = []
    for code in codes:
        if found and found[-1][1] == code - 1:
            found[-1] = (found[-1][0], code)
        else:
            found.append((code, code))
    return found


def _members(codes: Iterable[int]) -> str:
    """Class members for these code points: BMP ranges as \\u escapes, the others as
    literal characters one by one."""
    parts = []
    for low, high in _ranges(codes):
        if high <= 0xFFFF:
            parts.append(_escape(low) if low == high else f"{_escape(low)}-{_escape(high)}")
        else:
            parts += [_escape(c) if c <= 0xFFFF else chr(c) for c in range(low, high + 1)]
    return "".join(parts)


def character_class(allowed: Callable[[str], bool]) -> str:
    """A class of the BMP code points `allowed` takes (nothing beyond the BMP)."""
    return "[" + _members(code for code in BMP if allowed(chr(code))) + "]"


def negated_class(refused: Iterable[int]) -> str:
    """A class of every code point but the `refused` ones (in order): cheap to generate
    from, and it takes characters beyond the BMP (emoji) as the server does."""
    return "[^" + _members(refused) + "]"


@cache
def _refused() -> tuple[int, ...]:
    """What free text may not hold: has_control_characters' characters, and lone
    surrogates (which JSON may carry but no database can store).

    has_control_characters judges a character by its general category, so it is asked
    once per category (tests/test_api.py checks the result against it for every code
    point)."""
    category = unicodedata.category
    # Surrogates are left out: a pattern naming them compiles in no engine whose strings
    # cannot hold them (Rust's, Schemathesis' among them). The API refuses a lone
    # surrogate when it reads the JSON body, before any pattern (webapp/api/smorest.py).
    verdicts: dict[str, bool] = {"Cs": False}
    refused = []
    for code in EVERY_CODE_POINT:
        ch = chr(code)
        kind = category(ch)
        verdict = verdicts.get(kind)
        if verdict is None:
            verdict = verdicts[kind] = has_control_characters(ch)
        if verdict:
            refused.append(code)
    return tuple(refused)


def _space(ch: str) -> bool:
    return ch.isspace() or unicodedata.category(ch) == "Zs"


def _printable(ch: str) -> bool:
    """A character a printable-only value may hold: letters, marks, numbers, punctuation,
    symbols and the plain space (str.isprintable, plus the space)."""
    return ch == " " or (ch.isprintable() and not has_control_characters(ch)
                         and unicodedata.category(ch) != "Cs")


def _bounded(end: str, middle: str, max_length: int) -> str:
    if max_length == 1:
        return f"^{end}$"
    return f"^{end}(?:{middle}{{0,{max_length - 2}}}{end})?$"


@cache
def text_pattern(max_length: int, printable: bool = False) -> str:
    """Free text of 1 to max_length characters: no control, invisible-format or
    line-separator characters (has_control_characters), no white space at either end.
    With `printable`: only printable characters of the BMP and the plain space."""
    if printable:
        return _bounded(character_class(lambda ch: _printable(ch) and not _space(ch)),
                        character_class(_printable), max_length)
    return _bounded(_classes()[0], _classes()[1], max_length)


@cache
def _classes() -> tuple[str, str]:
    """The classes of free text's first and last character, and of those between."""
    refused = _refused()
    spaces = [code for code in BMP if _space(chr(code))]
    return negated_class(sorted(set(refused) | set(spaces))), negated_class(refused)


# --- Whole numbers and amounts as decimal text ---------------------------------------------


def _digit_class(low: int, high: int) -> str:
    if low == high:
        return str(low)
    if (low, high) == (0, 9):
        return "[0-9]"
    return f"[{low}-{high}]"


def _same_width(low: str, high: str) -> list[str]:
    """Alternatives matching every digit string of this width from low to high."""
    width = len(low)
    if low == high:
        return [low]
    if width == 1:
        return [_digit_class(int(low), int(high))]
    rest = width - 1
    tail = "[0-9]" if rest == 1 else f"[0-9]{{{rest}}}"
    if low[1:] == "0" * rest and high[1:] == "9" * rest:
        return [_digit_class(int(low[0]), int(high[0])) + tail]
    if low[0] == high[0]:
        return [low[0] + p for p in _alternatives(_same_width(low[1:], high[1:]))]
    parts = [low[0] + p for p in _alternatives(_same_width(low[1:], "9" * rest))]
    if int(low[0]) + 1 <= int(high[0]) - 1:
        parts.append(_digit_class(int(low[0]) + 1, int(high[0]) - 1) + tail)
    parts += [high[0] + p for p in _alternatives(_same_width("0" * rest, high[1:]))]
    return parts


def _alternatives(parts: list[str]) -> list[str]:
    return parts if len(parts) == 1 else [f"(?:{'|'.join(parts)})"]


def whole_range(low: int, high: int) -> str:
    """A regex (unanchored group) for the numerals low..high, written without leading zeros."""
    if not 0 <= low <= high:
        raise ValueError(f"no numerals from {low} to {high}")
    parts: list[str] = []
    if low == 0:
        parts.append("0")
        low = 1
    if low <= high:
        low_width, high_width = len(str(low)), len(str(high))
        if low == 10 ** (low_width - 1) and high == 10**high_width - 1:
            # Every numeral of these widths: [1-9] and so many more digits.
            fewest, most = low_width - 1, high_width - 1
            tail = "" if most == 0 else "[0-9]" + (
                f"{{{most}}}" if fewest == most else f"{{{fewest},{most}}}"
            )
            parts.append("[1-9]" + tail)
        else:
            for width in range(low_width, high_width + 1):
                first = max(low, 10 ** (width - 1))
                last = min(high, 10**width - 1)
                parts += _same_width(str(first), str(last))
    return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"


def _fraction(low: int, high: int) -> str:
    """The decimal part for hundredths low..high (0..99): none, one digit or two."""
    if (low, high) == (0, 99):
        return r"(?:\.[0-9]{1,2})?"
    parts = []
    tenths = range(-(-low // 10), high // 10 + 1)
    if tenths:
        parts.append(_digit_class(tenths[0], tenths[-1]))
    parts += _same_width(f"{low:02d}", f"{high:02d}")
    decimal = r"\." + (parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})")
    return f"(?:{decimal})?" if low == 0 else decimal


def amount_pattern(minimum: Decimal, maximum: Decimal, exclusive_minimum: bool = False) -> str:
    """An amount written as digits with at most two decimals ("650", "650.5", "650.00"),
    no leading zeros and no sign, from minimum to maximum: the range is in the pattern."""
    low = int(Decimal(minimum) * 100) + (1 if exclusive_minimum else 0)
    high = int(Decimal(maximum) * 100)
    if Decimal(minimum) * 100 != int(Decimal(minimum) * 100) or low < 0 or low > high:
        raise ValueError(f"no amounts from {minimum} to {maximum}")
    low_whole, low_cents = divmod(low, 100)
    high_whole, high_cents = divmod(high, 100)
    if low_whole == high_whole:
        segments = [whole_range(low_whole, low_whole) + _fraction(low_cents, high_cents)]
    else:
        first = low_whole if low_cents == 0 else low_whole + 1
        last = high_whole if high_cents == 99 else high_whole - 1
        segments = []
        if low_cents != 0:
            segments.append(whole_range(low_whole, low_whole) + _fraction(low_cents, 99))
        if first <= last:
            segments.append(whole_range(first, last) + _fraction(0, 99))
        if high_cents != 99:
            segments.append(whole_range(high_whole, high_whole) + _fraction(0, high_cents))
    return "^" + (segments[0] if len(segments) == 1 else f"(?:{'|'.join(segments)})") + "$"


# --- Phone numbers ----------------------------------------------------------------------------

_NUMBER_TYPES = (
    "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number",
    "voip", "pager", "uan", "voicemail",
)


@cache
def phone_pattern(region: str, types: tuple[str, ...] = _NUMBER_TYPES) -> str:
    """The region's valid numbers in E.164, as libphonenumber's metadata states them:
    the country code, then a national number of one of the `types` (fixed line, mobile,
    toll free, …; ("mobile",) for the numbers that take SMS). Every number it matches,
    libphonenumber takes as valid."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    national = [
        desc.national_number_pattern for name in types
        if (desc := getattr(metadata, name)) is not None and desc.national_number_pattern
    ]
    body = "|".join(national).replace(r"\d", "[0-9]")
    return rf"^\+{metadata.country_code}(?:{body})$"


def matches(pattern: str, value: str) -> bool:
    """Apply a published pattern as ECMA-262 reads it: the whole value must match."""
    return _compiled(pattern).fullmatch(value) is not None


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)
