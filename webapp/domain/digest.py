"""SHA-256 as hex: the one digest the app stores and compares (receipt bytes, hashed
tokens and codes, rate-limit keys)."""

from __future__ import annotations

import hashlib


def sha256_hex(data: str | bytes) -> str:
    """Return the SHA-256 of the bytes, or of the text in UTF-8, as 64 hex digits.

    Text that cannot be UTF-8 (a lone surrogate) is hashed with "?" in its place
    instead of failing: every other text hashes exactly as `text.encode()` would."""
    if isinstance(data, str):
        data = data.encode("utf-8", "replace")
    return hashlib.sha256(data).hexdigest()
