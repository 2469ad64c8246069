"""Phone numbers as callers dictate them, stored and compared in E.164."""

import phonenumbers


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


def format_phone(e164: str) -> str:
    """Return an E.164 number in international format for people to read."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
