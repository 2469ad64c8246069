"""Benchmark: support's lookups over many receipts, on SQLite and PostgreSQL, each
beside a sequential ILIKE '%…%' scan measured in the same run.

    python bench/lookups.py [--rows 1000000] [--postgresql URL]

Seeds a fresh database per engine (bench/seed.py), then times the search
support uses (`webapp.support.search.find`, as the page calls it) for exact
lookups (account number, a phone dictated as "8 9xx xxx-xx-xx") and loose ones
(a name or an address with one letter wrong). Prints figures only.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa

from bench.report import Aim, Figure, text_table
from bench.seed import migrate_empty, seed
from bench.stats import percentile
from webapp import create_app
from webapp.config import TestingConfig
from webapp.domain.search import parse_query
from webapp.extensions import db
from webapp.models import Handover
from webapp.support.search import Filters, find

QUERIES = 100
SCANS = 10
PER_PAGE = 20


def typo(word: str, rng: random.Random) -> str:
    """Replace one letter inside the word, as a hurried agent would."""
    position = rng.randrange(1, len(word) - 1)
    replacement = "аоеиуы"[(("аоеиуы".find(word[position]) + 1) % 6)]
    return word[:position] + replacement + word[position + 1 :]


def dictated(phone: str) -> str:
    """Return +79123456789 as a caller reads it out: 8 912 345-67-89."""
    digits = phone[2:]
    return f"8 {digits[:3]} {digits[3:6]}-{digits[6:8]}-{digits[8:]}"


Lookup = tuple[str, str, int]  # the query typed, a pattern for the scan, the handover sought


def workload(rng: random.Random) -> dict[str, list[Lookup]]:
    """Pick receipts and, for each kind of lookup, what an agent would type to find one."""
    top = db.session.scalar(sa.select(sa.func.max(Handover.id)))
    ids = rng.sample(range(1, top + 1), QUERIES)
    rows = db.session.execute(
        sa.select(Handover.id, Handover.account_number, Handover.phone,
                  Handover.subscriber_name, Handover.address).where(Handover.id.in_(ids))
    ).all()
    kinds: dict[str, list[Lookup]] = {
        "exact: account number": [], "exact: phone, dictated": [],
        "loose: name with a typo": [], "loose: address with a typo": [],
    }
    for id_, account, phone, name, address in rows:
        surname, rest = name.split(" ", 1)
        city, street, house, flat = address.split(", ")
        street = street.split(" ", 1)[1]
        kinds["exact: account number"].append((account, account, id_))
        kinds["exact: phone, dictated"].append((dictated(phone), phone, id_))
        kinds["loose: name with a typo"].append((f"{typo(surname, rng)} {rest}", surname, id_))
        kinds["loose: address with a typo"].append(
            (f"{city} {typo(street.split()[-1], rng)} {house} {flat}", street, id_)
        )
    return kinds


def time_lookups(lookups: list[Lookup]) -> tuple[list[float], float]:
    """Return the search's times (ms) and the share of lookups that listed the
    handover sought on the first page."""
    times, hits = [], 0
    for query, _pattern, sought in lookups:
        started = time.perf_counter()
        results = find(parse_query(query), Filters(), 1, PER_PAGE)
        times.append((time.perf_counter() - started) * 1000)
        hits += sought in {handover.id for handover in results.handovers}
        db.session.rollback()
    return times, hits / len(lookups)


def time_scans(lookups: list[Lookup]) -> list[float]:
    """Return the times (ms) of a sequential ILIKE '%…%' scan for the same values."""
    times = []
    for _query, pattern, _sought in lookups[:SCANS]:
        like = f"%{pattern}%"
        statement = sa.select(sa.func.count()).select_from(Handover).where(
            sa.or_(
                Handover.account_number.ilike(like), Handover.phone.ilike(like),
                Handover.subscriber_name.ilike(like), Handover.address.ilike(like),
            )
        )
        started = time.perf_counter()
        db.session.scalar(statement)
        times.append((time.perf_counter() - started) * 1000)
    return times


def already_seeded(rows: int) -> bool:
    """Tell whether the database already holds the receipts (for --reuse)."""
    try:
        return db.session.scalar(sa.select(sa.func.count()).select_from(Handover)) == rows
    except sa.exc.DBAPIError:
        db.session.rollback()
        return False


def fresh_database(rows: int) -> None:
    """Empty the database, migrate it and seed it with `rows` receipts."""
    migrate_empty(db.engine)
    started = time.perf_counter()
    seed(db.engine, rows, progress=lambda done: print(
        f"\r  seeding {db.engine.dialect.name}: {done:,} / {rows:,}", end="", flush=True))
    print(f" ({time.perf_counter() - started:.0f} s)")


def bench(url: str, rows: int, reuse: bool = False) -> list[tuple]:
    app = create_app(type("BenchConfig", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": url,
        "RECEIPT_SIGNING_P12": "unused", "RECEIPT_SIGNING_PASSPHRASE": "unused",
        "RECEIPT_TRUST_ROOT": "unused",
    }))
    with app.app_context():
        if not (reuse and already_seeded(rows)):
            fresh_database(rows)
        rng = random.Random(7)
        figures = []
        for kind, queries in workload(rng).items():
            find(parse_query(queries[0][0]), Filters(), 1, PER_PAGE)  # warm the caches
            db.session.rollback()
            times, found = time_lookups(queries)
            scans = time_scans(queries)
            figures.append((kind, percentile(times, 0.5), percentile(times, 0.95),
                            percentile(scans, 0.5), found))
        db.session.remove()
        db.engine.dispose()
    return figures


def figures_for(engine: str, rows: int, measured: list[tuple]) -> list[Figure]:
    part = f"Lookups over {rows:,} receipts, {engine}"
    figures = []
    for kind, p50, p95, scan, found in measured:
        exact = kind.startswith("exact")
        figures += [
            Figure(part, f"{kind} p50", p50, "ms", "ILIKE scan p50", scan),
            Figure(part, f"{kind} p95", p95, "ms", "ILIKE scan p50", scan,
                   Aim(5) if exact else Aim(0.05, on_ratio=True)),
            Figure(part, f"{kind}: sought job on page 1", found * 100, "%"),
        ]
    return figures


def run(rows: int, postgresql: str | None = None, sqlite: str | None = None,
        reuse: bool = False) -> list[Figure]:
    """Seed and time SQLite (a temporary file unless `sqlite` names one) and PostgreSQL."""
    with tempfile.TemporaryDirectory(prefix="handover-bench-") as directory:
        path = sqlite or f"{directory}/lookups.sqlite3"
        figures = figures_for("SQLite", rows, bench(f"sqlite:///{path}", rows, reuse))
    if postgresql:
        figures += figures_for("PostgreSQL", rows, bench(postgresql, rows, reuse))
    return figures


def settings(postgresql: str | None) -> dict[str, str]:
    """The database versions, for the benchmark's description of the machine."""
    if not postgresql:
        return {"PostgreSQL": "not measured (pass --postgresql URL; make bench does as root)"}
    engine = sa.create_engine(postgresql.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        server = connection.scalar(sa.text("SHOW server_version"))
    engine.dispose()
    return {"PostgreSQL": f"{server}, default settings, same machine"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgresql", help="URL of a database the benchmark may empty")
    parser.add_argument("--sqlite", help="file to keep the SQLite database in (default: temporary)")
    parser.add_argument("--reuse", action="store_true",
                        help="time lookups on databases already seeded with --rows receipts")
    arguments = parser.parse_args()
    print(text_table(run(arguments.rows, arguments.postgresql, arguments.sqlite,
                         arguments.reuse)))


if __name__ == "__main__":
    main()
