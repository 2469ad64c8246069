"""Masking personal data for pages anyone may open (the public verification page)."""

MASK = "•"


def initials(full_name: str) -> str:
    """Return "A. S." for "Anna Sokolova": enough to recognise, not to identify."""
    return " ".join(f"{word[0]}." for word in full_name.split() if word[0].isalpha())


def last_digits(value: str, keep: int = 4) -> str:
    """Return the value with all but its last `keep` digits masked: "••••••7890"."""
    digits = [c for c in value if c.isdigit()]
    shown = "".join(digits[-keep:]) if keep else ""
    return MASK * max(len(digits) - keep, 0) + shown
