"""Opening a receipt by its number and verification code, on any device: how a typed
number and code are read, and the check of one against the other.

The number and code arrive by SMS or e-mail and are printed on the receipt; people
retype them on a phone, so what they type is read generously (any case, spaces or
dashes, Cyrillic letters that look like Latin ones, the number without its "HO").
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from webapp.domain.digest import sha256_hex
from webapp.extensions import db
from webapp.models import Receipt
from webapp.receipts.service import ALPHABET, code_hash, normalise_code

NUMBER_PREFIX = "HO"
NUMBER_LENGTH = 8  # random characters after the prefix
CODE_LENGTH = 10

# A Russian keyboard types these Cyrillic capitals for the Latin letters they look like
# (lower case is upper-cased first). Nothing else is guessed: a 0 or a 1 stays a mistake.
LOOKALIKES = str.maketrans("АВЕКМНОРСТУХ", "ABEKMHOPCTYX")

# What a code is compared with when the number is unknown: the same work as for a
# wrong code, so the answer's timing does not tell which numbers exist.
UNMATCHABLE = sha256_hex(secrets.token_hex(32))


def _folded(text: str) -> str:
    return normalise_code(text.upper().translate(LOOKALIKES))


def canonical_number(text: str) -> str | None:
    """Return the number as stored (HO-7K4M-9QX2) however it was typed, or None."""
    folded = _folded(text)
    if folded.startswith("H0"):  # a zero for the O of the prefix
        folded = NUMBER_PREFIX + folded[2:]
    if len(folded) == NUMBER_LENGTH:  # typed without the prefix
        folded = NUMBER_PREFIX + folded
    random_part = folded[len(NUMBER_PREFIX):]
    if (
        not folded.startswith(NUMBER_PREFIX)
        or len(random_part) != NUMBER_LENGTH
        or any(ch not in ALPHABET for ch in random_part)
    ):
        return None
    return f"{NUMBER_PREFIX}-{random_part[:4]}-{random_part[4:]}"


def canonical_code(text: str) -> str | None:
    """Return the code's ten characters however it was typed, or None."""
    folded = _folded(text)
    if len(folded) != CODE_LENGTH or any(ch not in ALPHABET for ch in folded):
        return None
    return folded


@dataclass(frozen=True)
class CodeCheck:
    """The receipt with the number (None if there is none) and whether the code is its own."""

    receipt: Receipt | None
    right: bool


def check_code(number: str, code: str) -> CodeCheck:
    """Compare the code with the receipt's, doing the same work if the number is unknown."""
    receipt = receipt_by_number(number)
    expected = receipt.code_hash if receipt is not None else UNMATCHABLE
    matches = hmac.compare_digest(expected, code_hash(code))
    return CodeCheck(receipt, receipt is not None and matches)


def receipt_by_number(number: str) -> Receipt | None:
    """Return the receipt with this canonical number, with its handover, or None."""
    return db.session.scalar(
        sa.select(Receipt).options(joinedload(Receipt.handover)).where(Receipt.number == number)
    )
