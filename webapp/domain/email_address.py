"""E-mail addresses: the one rule the technician's form and the API apply, and the
address as it is stored.

An address is taken when it matches EMAIL_PATTERN (the pattern the API publishes,
beside `format: email`) and email-validator accepts it; it is stored as
email-validator normalises it (the domain in lower case). The pattern is the
stricter of the two, so every address it matches within MAX_LENGTH email-validator
accepts as well, and the API's document says exactly what is recorded
(tests/test_email_address.py checks that).

Only addresses in Latin letters are taken: what an internationalised address may hold
(a Cyrillic domain, or its xn-- form) is decided by the IDNA tables, which no pattern
can state, and a receipt sent through a mail server that cannot carry it would be lost.
"""

from __future__ import annotations

import re

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email

from webapp.domain.text import N_

MAX_LENGTH = 254  # RFC 5321 (with its errata): the longest address a mail server takes
MAX_LOCAL_LENGTH = 64  # RFC 5321: the longest part before the @

INVALID_EMAIL = N_("Enter a valid e-mail address, for example name@example.ru.")
LATIN_EMAIL = N_("Write the e-mail address in Latin letters, for example name@example.ru.")

# RFC 5322's atext: what the part before the @ may hold between its dots. Nothing is
# escaped that needs no escape, so ECMA-262 with the `u` flag reads the class as Python does.
_ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
# A domain's label: letters, digits and inner hyphens, at most 63 characters, and never
# two characters then "--" (the shape of an IDNA label, xn--, which only IDNA can check).
_LABEL = r"(?![A-Za-z0-9-]{2}--)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# The top-level domain: letters, and none of the names reserved for special use
# (.test, .local, …: never delivered), in either case.
_SPECIAL = "|".join(
    "".join(f"[{ch}{ch.upper()}]" for ch in name) for name in SPECIAL_USE_DOMAIN_NAMES
)
_TOP_LEVEL = rf"(?!(?:{_SPECIAL})$)[A-Za-z]{{2,63}}"

# Lookaheads, not a longer spelling: Python's `re`, ECMA-262 and Schemathesis' engine all
# read them, and the part before the @ can be bounded no other way in a pattern of this size.
EMAIL_PATTERN = (
    rf"^(?![^@]{{{MAX_LOCAL_LENGTH + 1}}}){_ATEXT}+(?:\.{_ATEXT}+)*"
    rf"@(?:{_LABEL}\.)+{_TOP_LEVEL}$"
)
_EMAIL = re.compile(EMAIL_PATTERN)


class EmailError(ValueError):
    """The text is not an e-mail address Handover records; `message` says why (a msgid)."""

    def __init__(self, text: str, message: str = INVALID_EMAIL):
        super().__init__(text)
        self.message = message


def normalise_email(text: str) -> str:
    """Return the address as stored ("Ivan@Example.RU": "Ivan@example.ru"); raise EmailError."""
    if not text.isascii():
        raise EmailError(text, LATIN_EMAIL)
    if len(text) > MAX_LENGTH or _EMAIL.fullmatch(text) is None:
        raise EmailError(text)
    try:
        # strict: the part before the @ at most 64 characters, as the pattern says.
        # No DNS lookup: a technician's phone may be offline, and a typo in a real
        # domain passes it anyway.
        address = validate_email(text, check_deliverability=False, strict=True)
    except EmailNotValidError:
        raise EmailError(text) from None
    return address.normalized
