"""Phone numbers as callers dictate them, stored and compared in E.164."""

import phonenumbers
from phonenumbers import PhoneNumberType

from webapp.domain.privacy import MASK, last_digits
from webapp.domain.text import N_

# What libphonenumber says can take an SMS. Where a country's plan does not tell its
# fixed lines from its mobiles, a number may be either, and it is taken.
SMS_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})
NOT_MOBILE = N_("Enter a mobile number: the receipt is sent to it by SMS.")


class PhoneError(ValueError):
    """The text is not a valid phone number."""


def normalise_phone(text: str, region: str = "RU") -> str:
    """Return the number in E.164 ("+79123456789"), or raise PhoneError."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise PhoneError(text) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(text)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def takes_sms(e164: str) -> bool:
    """Tell whether a number in E.164 is a mobile one, which an SMS can reach."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in SMS_TYPES


def format_phone(e164: str, home: str | None = None) -> str:
    """Return an E.164 number for people to read: as dialled within the `home` region
    ("RU": "8 (912) 345-67-89") if it is from there, else in international format."""
    number = phonenumbers.parse(e164, None)
    local = home is not None and phonenumbers.region_code_for_number(number) == home
    style = phonenumbers.PhoneNumberFormat
    return phonenumbers.format_number(number, style.NATIONAL if local else style.INTERNATIONAL)


def mask_phone(e164: str, keep: int = 4, home: str | None = None) -> str:
    """Return the number as format_phone writes it, all but the last `keep` digits of the
    subscriber's own number masked: "8 (•••) •••-67-89". The country prefix tells nothing."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:  # not E.164 (never stored so, but be safe)
        return last_digits(e164, keep)
    own = len(phonenumbers.national_significant_number(number))
    masked, digits = [], 0
    for char in reversed(format_phone(e164, home)):
        digits += char.isdigit()
        masked.append(MASK if char.isdigit() and keep < digits <= own else char)
    return "".join(reversed(masked))
