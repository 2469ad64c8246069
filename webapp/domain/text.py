"""Rules for free text that every field shares."""

import unicodedata

# Bidirectional overrides make text display differently from what is stored.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_control_characters(text: str) -> bool:
    """Tell whether the text holds control characters (newlines and tabs included)."""
    return any(unicodedata.category(ch) == "Cc" or ch in _BIDI_CONTROLS for ch in text)
