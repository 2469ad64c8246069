"""Rules for free text that every field shares."""

import unicodedata

# Control (Cc: tabs, newlines, NUL), format (Cf: bidirectional overrides,
# zero-width characters, BOM) and line/paragraph separators (Zl, Zp): none
# belongs in a typed value, and several make text display unlike what is stored.
# Lone surrogates (Cs) come only from a JSON "\ud800" escape and cannot be stored.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def has_control_characters(text: str) -> bool:
    """Tell whether the text holds control, invisible-format or line-separator characters."""
    return any(unicodedata.category(ch) in _REFUSED_CATEGORIES for ch in text)


def N_(message: str) -> str:
    """Mark a message id for the catalogs; it is translated where it is shown."""
    return message


# What every typed value is told when it breaks the rules above: the web forms and the
# API say the same (translated where shown).
FILL_IN = N_("Fill in this field.")
AT_MOST = N_("Use at most %(max)d characters.")
NO_CONTROL_CHARACTERS = N_("Remove control characters (such as tabs or line breaks).")
PRINTABLE_ONLY = N_("Use printable characters only.")
