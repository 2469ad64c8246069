"""How many SMS segments a text takes, as a gateway bills it (3GPP TS 23.038).

A text in the GSM 7-bit alphabet fits 160 characters in one SMS and 153 in each part
of a longer one (its extension characters count twice); any other character (Cyrillic
among them) sends the whole text as UCS-2: 70 in one SMS, 67 in each part.
"""

from __future__ import annotations

GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = frozenset("^{}\\[~]|€\f")


def segments(text: str) -> int:
    """Return the number of SMS segments the text is sent in."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENSION for ch in text):
        septets = sum(2 if ch in GSM_EXTENSION else 1 for ch in text)
        return 1 if septets <= 160 else -(-septets // 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else -(-units // 67)
