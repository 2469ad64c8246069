"""The documents name the tests and commands behind their claims: every one must exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_test_named_in_the_security_document_exists():
    document = (ROOT / "docs" / "security.md").read_text()
    defined = {
        name
        for path in (ROOT / "tests").glob("test_*.py")
        for name in re.findall(r"^def (test_\w+)", path.read_text(), re.M)
    }
    named = set(re.findall(r"\b(test_\w+)`", document)) | set(re.findall(r"::(test_\w+)", document))
    files = set(re.findall(r"tests/(test_\w+\.py)", document))
    assert len(named) > 30
    assert sorted(named - defined) == []
    assert sorted(f for f in files if not (ROOT / "tests" / f).exists()) == []


def test_every_test_file_and_bench_command_named_in_the_benchmarks_document_exists():
    document = (ROOT / "docs" / "benchmarks.md").read_text()
    for path, name in re.findall(r"(tests/test_\w+\.py)::(test_\w+)", document):
        assert re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M), name
    kinds = set(re.findall(r"bench/profile\.py (\w+)", document))
    assert {"subscriber", "close", "receipt"} <= kinds
    profile = (ROOT / "bench" / "profile.py").read_text()
    assert all(f'"{kind}"' in profile for kind in kinds)
