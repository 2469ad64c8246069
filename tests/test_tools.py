"""Tests that run a program skip naming it when it is missing, and fail with
REQUIRE_TOOLS=1 (CI); the app itself says clearly that pdftotext is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import tools
from webapp.receipts import readback

ROOT = Path(__file__).resolve().parent.parent
# A module whose every test reads receipts with pdftotext, and one test marked on its own.
NEED_PDFTOTEXT = (
    "tests/test_catalog_coverage.py",
    "tests/test_formats.py::test_the_receipt_writes_money_time_and_phone_in_the_subscriber_language",
)


def pytest_without_poppler(tmp_path: Path, **environ: str) -> subprocess.CompletedProcess:
    """Run those tests in a pytest whose PATH holds nothing but python."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("python", "python3"):
        (bin_dir / name).symlink_to(sys.executable)
    clean = {name: value for name, value in os.environ.items() if name not in (
        "REQUIRE_TOOLS", "TEST_DATABASE_URL", "REQUIRE_POSTGRESQL")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *NEED_PDFTOTEXT],
        cwd=ROOT, env=clean | {"PATH": str(bin_dir)} | environ, capture_output=True,
        text=True, timeout=300, check=False,
    )


def test_without_poppler_the_tests_that_need_it_skip_and_name_it(tmp_path):
    result = pytest_without_poppler(tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "needs pdftotext (poppler-utils)" in output
    assert " skipped" in output.splitlines()[-1] and "passed" not in output.splitlines()[-1]
    assert "FileNotFoundError" not in output


def test_with_require_tools_a_missing_program_fails_the_run(tmp_path):
    result = pytest_without_poppler(tmp_path, REQUIRE_TOOLS="1")
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "REQUIRE_TOOLS=1 but pdftotext (poppler-utils) is not installed" in output
    assert "skipped" not in output.splitlines()[-1]
    assert "FileNotFoundError" not in output


def test_needs_names_each_missing_program_with_its_package(monkeypatch):
    monkeypatch.setattr(tools, "REQUIRE_TOOLS", False)
    monkeypatch.setattr(tools.shutil, "which", lambda name: None if name != "qpdf" else name)
    mark = tools.needs("pdffonts", "pdftotext", "qpdf").mark
    assert mark.args == (True,)
    assert mark.kwargs["reason"] == (
        "needs pdffonts, pdftotext (poppler-utils): make test installs them as root")
    assert tools.described(["pdftotext", "qpdf", "wrk"]) == (
        "pdftotext (poppler-utils), qpdf (qpdf) and wrk (wrk)")

    monkeypatch.setattr(tools, "REQUIRE_TOOLS", True)
    [refused] = tools.needs("pdftotext", "qpdf").mark.args
    with pytest.raises(pytest.fail.Exception, match=r"^REQUIRE_TOOLS=1 but pdftotext \(poppler"):
        bool(refused)  # what pytest asks of the condition when the test sets up

    monkeypatch.setattr(tools.shutil, "which", lambda name: f"/usr/bin/{name}")
    assert tools.needs("pdftotext").mark.args == (False,)
    with pytest.raises(ValueError, match="pdftotxt"):
        tools.needs("pdftotxt")


def test_the_app_says_pdftotext_is_missing_instead_of_crashing(monkeypatch):
    monkeypatch.setattr(readback.shutil, "which", lambda name: None)
    with pytest.raises(readback.ReadbackError, match=r"pdftotext is not installed \(Debian"):
        readback.extracted_text(b"%PDF-1.7")
