"""The lookup benchmark's seeded receipts are real rows that support's search finds."""

import random
import re

import pytest

from bench.lookups import dictated, typo
from bench.seed import seed
from tests.conftest import add_user
from tests.tools import needs
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import Handover, Receipt


@pytest.fixture
def seeded(app):
    with app.app_context():
        seed(db.engine, 300)
        [(name, phone, address, number)] = db.session.execute(
            db.select(Handover.subscriber_name, Handover.phone, Handover.address, Receipt.number)
            .join(Receipt).where(Handover.id == 123)
        ).all()
        count = db.session.scalar(db.select(db.func.count()).select_from(Handover))
    return count, name, phone, address, number


def titles(client, query: str) -> list[str]:
    page = client.get("/support/", query_string={"q": query}).text
    return re.findall(r'<span class="job-title">([^<]*)</span>', page)


def test_seeded_receipts_are_found_by_phone_number_and_misspelt_address(app, seeded):
    count, name, phone, address, number = seeded
    assert count == 300
    support = app.test_client(user=add_user(app, "agent", Role.SUPPORT))
    assert titles(support, dictated(phone)) == [name]
    assert titles(support, number) == [name]
    _city, street, house, flat = address.split(", ")
    word = street.split()[-1]
    query = f"{typo(word, random.Random(1))} {house} {flat}"
    assert name in titles(support, query)


def test_seeding_again_adds_rows_after_the_existing_ones(app, seeded):
    with app.app_context():
        seed(db.engine, 10)
        assert db.session.scalar(db.select(db.func.count()).select_from(Receipt)) == 310
        # New handovers made afterwards get fresh ids, also on PostgreSQL's sequences.
        technician = db.session.scalar(db.select(Handover.technician_id).limit(1))
        db.session.add(Handover(
            technician_id=technician, order_number="X", account_number="1",
            contract_number="X", contract_pages=1, subscriber_name="Новый Абонент",
            phone="+79120000000", address="Пермь", tariff_name="T", monthly_fee=1,
        ))
        db.session.commit()


@needs("pdftotext", "wrk")
def test_make_bench_runs_end_to_end_and_writes_its_table(tmp_path):
    """A smoke run of `python -m bench --quick`, so the benchmark never rots: every
    part runs and the document gets a row per figure with its baseline. The figures
    themselves are not asserted (tiny counts, a busy machine)."""
    import subprocess
    import sys
    from pathlib import Path

    document = tmp_path / "benchmarks.md"
    document.write_text("# Benchmarks\n\nNotes written by people stay.\n")
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(document)],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    written = document.read_text()
    assert "Notes written by people stay." in written
    assert "- CPU: " in written and "- HarfBuzz subsetting: yes" in written
    for figure in (
        "render+sign p50", "RSS growth", "receipts/s per core", "Cold start",
        "subscriber page req/s", "technician's form req/s", "support search req/s",
        "closings with a signed receipt", "Page weight", "exact: account number p95",
        "loose: address with a typo p95", "Outbox, SQLite: messages/s, 1 worker,",
        "Outbox, SQLite: messages/s, 2 workers,",
    ):
        rows = [line for line in written.splitlines() if figure in line]
        assert rows, figure
        assert all(line.startswith("| ") and line.count(" | ") == 5 for line in rows), rows
    # The outbox's figures are medians with their range, beside the channels alone.
    outbox = [line for line in written.splitlines() if "| Outbox, SQLite" in line]
    assert len(outbox) == 2 and all("| channels alone, " in line for line in outbox), outbox
    assert all(re.search(r"/s \([\d.,]+–[\d.,]+\) \|", line) for line in outbox), outbox


def test_a_new_bench_run_replaces_its_table_and_keeps_the_notes_around_it(tmp_path):
    from bench.report import Aim, Figure, write_markdown

    def bench_run(p50: float) -> None:
        figure = Figure("Receipt", "render+sign p50", p50, "ms", "naive", 500,
                        Aim(0.8, on_ratio=True))
        write_markdown(document, [figure], {"CPU": "test"}, "python -m bench")

    document = tmp_path / "benchmarks.md"
    document.write_text("# Benchmarks\n\nBefore.\n")
    bench_run(450)
    document.write_text(document.read_text() + "After.\n")  # notes added under the table
    bench_run(350)
    written = document.read_text()
    assert written.count("<!-- make bench: begin -->") == 1
    assert written.startswith("# Benchmarks\n\nBefore.\n") and written.endswith("After.\n")
    assert "| Receipt: render+sign p50 | 350 ms | naive: 500 ms | 0.70 | ≤ 0.8 × baseline | yes |" \
        in written
    assert "450 ms" not in written


def test_a_median_of_runs_shows_its_range_beside_it():
    from bench.report import Figure, rows
    from bench.stats import median_range

    value, spread = median_range([120.4, 98.2, 131.0])
    base, base_spread = median_range([150.0, 140.0, 160.0])
    figure = Figure("Outbox", "messages/s", value, "/s", "channels alone", base,
                    spread=spread, base_spread=base_spread)
    [(_name, shown, baseline, ratio, _aim, _met)] = rows([figure])
    assert shown == "120 /s (98.2–131)"
    assert baseline == "channels alone: 150 /s (140–160)" and ratio == "0.80"
