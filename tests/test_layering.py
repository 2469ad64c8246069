"""Layering, read from the source with `ast` (nothing is imported): blueprints share code
through modules below them, never through each other's pages or forms; the API takes
JSON, never web forms; the benchmarks stand apart from the tests."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = ("admin", "api", "auth", "handovers", "main", "receipts", "subscriber", "support")
# A blueprint's pages: its routes module, and the `bp` it defines there.
PAGES = ("routes", "bp", "forms")
WEB_FORM_LIBRARIES = ("wtforms", "flask_wtf")


def python_files(folder: str) -> list[Path]:
    return sorted(path for path in (ROOT / folder).rglob("*.py") if "__pycache__" not in path.parts)


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def imported(path: Path, root: Path = ROOT) -> frozenset[str]:
    """Every module the file imports, at the top or inside a function, as dotted names;
    `from a import b` counts as a and as a.b (b may be a module)."""
    name = module_name(path, root)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..y import z
                parent = package[: len(package) - node.level + 1]
                base = ".".join([*parent, base] if base else parent)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(found)


def blueprint_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "webapp" and parts[1] in BLUEPRINTS else None


def pages_of_a_blueprint(module: str) -> str | None:
    """The blueprint whose routes, bp or forms the dotted name is, else None."""
    parts = module.split(".")
    return blueprint_of(module) if len(parts) > 2 and parts[2] in PAGES else None


def is_web_form(module: str) -> bool:
    parts = module.split(".")
    return parts[0] in WEB_FORM_LIBRARIES or any(
        part == "forms" or part.endswith("_forms") for part in parts
    )


def violations(paths: list[Path], forbidden) -> str:
    """One line per file and module it imports that forbidden(path, module) refuses
    (a.b, not also a.b.C); empty when there are none."""
    lines = []
    for path in paths:
        bad = {module for module in imported(path) if forbidden(path, module)}
        lines += [f"{path.relative_to(ROOT)} imports {module}" for module in sorted(bad)
                  if not any(module.startswith(f"{other}.") for other in bad)]
    return "\n".join(lines)


def test_no_blueprint_imports_another_blueprints_routes_or_forms():
    def forbidden(path: Path, module: str) -> bool:
        own = blueprint_of(module_name(path))
        return own is not None and pages_of_a_blueprint(module) not in (None, own)

    found = violations(python_files("webapp"), forbidden)
    assert not found, f"shared code belongs below the blueprints:\n{found}"


def test_shared_modules_import_no_blueprints_routes_or_forms():
    """What the blueprints share (templating, forms, …) lies below them all; only the app
    factory registers the blueprints."""
    factory = ROOT / "webapp" / "__init__.py"
    shared = [path for path in python_files("webapp")
              if blueprint_of(module_name(path)) is None and path != factory]
    found = violations(shared, lambda path, module: pages_of_a_blueprint(module) is not None)
    assert not found, found


def test_the_api_imports_no_web_form():
    found = violations(python_files("webapp/api"), lambda path, module: is_web_form(module))
    assert not found, f"the API validates JSON with its schemas, not web forms:\n{found}"


def test_the_benchmarks_import_nothing_from_the_tests():
    found = violations(python_files("bench"), lambda path, module: module.split(".")[0] == "tests")
    assert not found, found


def test_imports_are_read_whole_relative_and_inside_functions(tmp_path):
    """The reader the checks above rely on."""
    package = tmp_path / "webapp" / "api"
    package.mkdir(parents=True)
    source = package / "x.py"
    source.write_text(
        "import wtforms.fields\n"
        "from . import routes\n"
        "from ..handovers.forms import HandoverForm\n"
        "def later():\n"
        "    from webapp.subscriber import bp\n"
    )
    found = imported(source, tmp_path)
    assert {"wtforms.fields", "webapp.api.routes", "webapp.handovers.forms",
            "webapp.handovers.forms.HandoverForm", "webapp.subscriber.bp"} <= found
    assert pages_of_a_blueprint("webapp.subscriber.bp") == "subscriber"
    assert pages_of_a_blueprint("webapp.receipts.downloads") is None
    assert is_web_form("webapp.handovers.forms.HandoverForm") and is_web_form("flask_wtf")
    assert not is_web_form("webapp.api.schemas")


def test_queries_are_written_one_way():
    """sqlalchemy's own select (sa.select), never Flask-SQLAlchemy's re-export beside it."""
    found = [
        str(path.relative_to(ROOT)) for path in python_files("webapp")
        if "db.select(" in path.read_text()
    ]
    assert not found, found
