"""Exact money and percentages: parsed from what people type, never held as floats."""

import re
from decimal import Decimal

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("1000000")

# Digits with an optional decimal part of one or two places; thousands may be
# separated by spaces as Russian speakers write them ("1 234,50").
_AMOUNT = re.compile(
    r"^(?P<whole>[0-9]{1,3}(?: [0-9]{3})+|[0-9]{1,12})(?:[.,](?P<fraction>[0-9]{1,2}))?$"
)
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})


class AmountError(ValueError):
    """The text is not an amount with at most two decimal places."""


def parse_amount(text: str) -> Decimal:
    """Parse "1 234,50" or "1234.5" into an exact Decimal with two places."""
    match = _AMOUNT.match(text.strip().translate(_SPACES))
    if match is None:
        raise AmountError(text)
    whole = match["whole"].replace(" ", "")
    fraction = match["fraction"] or "0"
    return Decimal(f"{whole}.{fraction}").quantize(CENT)


def as_hundredths(value: Decimal) -> int:
    """Return the value in hundredths, refusing anything finer than a cent."""
    hundredths = value * 100
    if hundredths != hundredths.to_integral_value():
        raise AmountError(str(value))
    return int(hundredths)


def from_hundredths(hundredths: int) -> Decimal:
    """Return the exact Decimal for a count of hundredths."""
    return (Decimal(hundredths) / 100).quantize(CENT)
