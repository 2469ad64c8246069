"""Programs some tests run, directly or through the app (every receipt is read back with
poppler's pdftotext before it is kept). A test that needs one says so with
`@needs("pdftotext")`, or a module with `pytestmark = needs(...)`: without the program it
is skipped, and the skip names the program and the Debian package that has it.

CI sets REQUIRE_TOOLS=1 (`.ci/run`): there a missing program fails the test instead, as
REQUIRE_BROWSER, REQUIRE_REDIS and REQUIRE_POSTGRESQL do for theirs. (Chromium and
axe-core are checked by tests/browser.py, Redis by tests/services.py.)
"""

from __future__ import annotations

import os
import shutil

import pytest

# The Debian package of each program; `make test` installs them as root.
PACKAGES = {
    "pdftotext": "poppler-utils",
    "pdffonts": "poppler-utils",
    "pdftoppm": "poppler-utils",
    "pdfsig": "poppler-utils",
    "qpdf": "qpdf",
    "wrk": "wrk",
}
REQUIRE_TOOLS = os.environ.get("REQUIRE_TOOLS") == "1"


def missing(*tools: str) -> list[str]:
    """The programs of these that are not on PATH."""
    return [tool for tool in tools if shutil.which(tool) is None]


def described(tools) -> str:
    """'pdffonts, pdftotext (poppler-utils) and qpdf (qpdf)': each program by package."""
    by_package: dict[str, list[str]] = {}
    for tool in tools:
        by_package.setdefault(PACKAGES[tool], []).append(tool)
    parts = [f"{', '.join(names)} ({package})" for package, names in by_package.items()]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


class _Refused:
    """A skipif condition that fails the test instead of skipping it. pytest takes bool()
    of a condition when the test sets up, and pytest.fail gets through that (it raises
    no Exception), so the test errors with this one line and the others still run."""

    def __init__(self, message: str):
        self.message = message

    def __bool__(self) -> bool:
        pytest.fail(self.message, pytrace=False)


def needs(*tools: str) -> pytest.MarkDecorator:
    """A mark for tests that run these programs: skip naming them when one is missing,
    or, with REQUIRE_TOOLS=1, fail."""
    unknown = [tool for tool in tools if tool not in PACKAGES]
    if not tools or unknown:
        raise ValueError(f"needs() knows {', '.join(PACKAGES)}; not {unknown}")
    absent = missing(*tools)
    named = absent or tools
    reason = (f"needs {described(named)}: make test installs "
              f"{'it' if len(named) == 1 else 'them'} as root")
    if absent and REQUIRE_TOOLS:
        verb = "is" if len(absent) == 1 else "are"
        refused = _Refused(f"REQUIRE_TOOLS=1 but {described(absent)} {verb} not installed")
        return pytest.mark.skipif(refused, reason=reason)
    return pytest.mark.skipif(bool(absent), reason=reason)
