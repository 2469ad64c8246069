"""Who ends a transaction, checked by reading the code: services add and flush; views,
CLI commands and API handlers commit (the rule in webapp/extensions.py)."""

import ast
from pathlib import Path

WEBAPP = Path(__file__).resolve().parent.parent / "webapp"

# Each blueprint's views, and the API's handlers, live in its routes.py.
VIEWS = "routes.py"

# The other modules allowed to commit or roll back, and why.
CALLERS = {
    "cli.py": "CLI commands: each one commits its own work, as a view does",
    "errors.py": "the 500 handler rolls back whatever the failed request left",
    "demo.py": "demo data for `flask demo` stands in for a series of requests "
               "(create, hand over, sign, close) and commits after each, as they would",
    "outbox/worker.py": "the outbox worker is a long-running command: it commits each "
                        "claim before sending and each result after, so a crash loses "
                        "at most the message in hand",
}

# `with session.begin():` commits at its end, so it counts too.
ENDINGS = frozenset({"commit", "rollback", "begin"})


def endings(source: str) -> list[tuple[int, str]]:
    """Return where the source calls .commit(), .rollback() or .begin() on anything."""
    return sorted(
        (node.lineno, node.func.attr)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ENDINGS
    )


def services() -> list[Path]:
    """Every module under webapp/ that is neither views nor one of the CALLERS."""
    return [
        path for path in sorted(WEBAPP.rglob("*.py"))
        if path.name != VIEWS and path.relative_to(WEBAPP).as_posix() not in CALLERS
    ]


def test_services_never_commit_or_roll_back():
    found = [
        f"webapp/{path.relative_to(WEBAPP).as_posix()}:{line}: .{name}()"
        for path in services()
        for line, name in endings(path.read_text(encoding="utf-8"))
    ]
    assert found == [], (
        "Services add and flush; the view, CLI command or API handler commits "
        "(webapp/extensions.py). Move these to the caller: " + ", ".join(found)
    )


def test_the_services_checked_include_the_ones_that_used_to_commit():
    checked = {path.relative_to(WEBAPP).as_posix() for path in services()}
    assert {
        "audit.py", "staff.py", "handovers/workflow.py", "handovers/service.py",
        "support/service.py", "receipts/service.py", "api/auth.py", "limits.py",
    } <= checked
    assert not any(name.endswith(VIEWS) for name in checked)


def test_every_exception_exists_and_still_needs_to_be_one():
    for name, reason in CALLERS.items():
        assert reason
        assert endings((WEBAPP / name).read_text(encoding="utf-8")), (
            f"webapp/{name} no longer ends a transaction: drop it from CALLERS"
        )


def test_the_check_finds_calls_wherever_they_are_and_only_calls():
    source = (
        "def work():\n"
        "    db.session.commit()\n"
        "    if failed:\n"
        "        session().rollback()\n"
        "    with db.session.begin():\n"
        "        pass\n"
        "    later = db.session.commit\n"  # a reference, not a call
        "    content_commitment = True\n"
    )
    assert endings(source) == [(2, "commit"), (4, "rollback"), (5, "begin")]
