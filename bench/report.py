"""The benchmark's figures, each beside its baseline and aim; the table `make bench`
prints, and the generated part of docs/benchmarks.md with the machine it ran on."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

BEGIN, END = "<!-- make bench: begin -->", "<!-- make bench: end -->"


@dataclass(frozen=True)
class Aim:
    """A limit on the figure itself, or on its ratio to the baseline."""

    limit: float
    at_most: bool = True
    on_ratio: bool = False

    def met(self, figure: Figure) -> bool | None:
        measured = figure.ratio if self.on_ratio else figure.value
        if measured is None:
            return None
        return measured <= self.limit if self.at_most else measured >= self.limit

    def describe(self, unit: str) -> str:
        sign = "≤" if self.at_most else "≥"
        return f"{sign} {self.limit:g} {'× baseline' if self.on_ratio else unit}"


@dataclass(frozen=True)
class Figure:
    part: str
    name: str
    value: float
    unit: str
    baseline: str = ""
    base: float | None = None
    aim: Aim | None = None
    # A median of a few runs shows their lowest and highest beside it.
    spread: tuple[float, float] | None = None
    base_spread: tuple[float, float] | None = None

    @property
    def ratio(self) -> float | None:
        return self.value / self.base if self.base else None

    @property
    def met(self) -> bool | None:
        return self.aim.met(self) if self.aim else None


COLUMNS = ("figure", "value", "baseline (same run)", "ratio", "aim", "met")


def rows(figures: list[Figure]) -> list[tuple[str, ...]]:
    def plain(value: float) -> str:
        digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
        return f"{value:,.{digits}f}"

    def number(value: float | None, unit: str = "",
               spread: tuple[float, float] | None = None) -> str:
        if value is None:
            return "—"
        text = f"{plain(value)} {unit}".strip()
        return f"{text} ({plain(spread[0])}–{plain(spread[1])})" if spread else text

    return [
        (
            f"{f.part}: {f.name}",
            number(f.value, f.unit, f.spread),
            f"{f.baseline}: {number(f.base, f.unit, f.base_spread)}" if f.baseline else "—",
            "—" if f.ratio is None else f"{f.ratio:.{2 if f.ratio >= 0.1 else 3}f}",
            f.aim.describe(f.unit) if f.aim else "—",
            {True: "yes", False: "NO", None: "—"}[f.met],
        )
        for f in figures
    ]


def text_table(figures: list[Figure]) -> str:
    table = [COLUMNS, *rows(figures)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in table
    )


def markdown_table(figures: list[Figure]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(row) + " |" for row in rows(figures)]
    return "\n".join(lines)


def machine(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Describe what the figures were measured on."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"model name\s*:\s*(.+)", cpuinfo)
    memory = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    os_release = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', Path("/etc/os-release").read_text(),
                                 re.MULTILINE))
    import sqlite3

    from webapp.receipts.render import harfbuzz_subsetting_available

    described = {
        "CPU": f"{model.group(1) if model else platform.machine()}, {os.cpu_count()} cores",
        "memory": f"{memory / 2**20:.0f} GiB",
        "system": f"{os_release.get('PRETTY_NAME', platform.system())}, "
                  f"Linux {platform.release()}",
        "Python": platform.python_version(),
        "packages": ", ".join(f"{name} {version(name)}" for name in (
            "Flask", "WTForms", "SQLAlchemy", "gunicorn", "weasyprint", "pyhanko")),
        "HarfBuzz subsetting": "yes" if harfbuzz_subsetting_available() else "no (slow)",
        "SQLite": sqlite3.sqlite_version,
    }
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    if wrk.stdout or wrk.stderr:
        described["load generator"] = (wrk.stdout or wrk.stderr).splitlines()[0].split(" [")[0]
    return described | (extra or {})


def write_markdown(path: Path, figures: list[Figure], described: dict[str, str],
                   command: str) -> None:
    """Replace the generated part of the document, keeping the notes written around it."""
    generated = "\n".join([
        BEGIN,
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC with `{command}` on:",
        "",
        *(f"- {key}: {value}" for key, value in described.items()),
        "",
        markdown_table(figures),
        END,
    ])
    old = path.read_text() if path.exists() else f"# Benchmarks\n\n{BEGIN}\n{END}\n"
    if BEGIN not in old or END not in old:
        old = f"{old.rstrip()}\n\n{BEGIN}\n{END}\n"
    head, rest = old.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    path.write_text(head + generated + tail)
