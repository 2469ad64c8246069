"""The lookup benchmark's seeded receipts are real rows that support's search finds."""

import random
import re

import pytest

from bench.lookups import dictated, typo
from bench.seed import seed
from tests.conftest import add_user
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


def test_the_page_benchmark_runs_end_to_end():
    """A tiny run of `bench/pages.py`, so the benchmark never rots; figures not asserted."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    if shutil.which("wrk") is None:
        pytest.skip("wrk is not installed (make test installs it as root)")
    run = subprocess.run(
        [sys.executable, "bench/pages.py", "--seconds", "1", "--connections", "2"],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr
    for page in ("hello (baseline)", "subscriber page", "technician's form", "support search"):
        assert page in run.stdout


def test_the_receipt_benchmark_runs_end_to_end():
    """A smoke run of `bench/receipts.py --quick`; figures not asserted."""
    import subprocess
    import sys
    from pathlib import Path

    run = subprocess.run(
        [sys.executable, "bench/receipts.py", "--quick"],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    for figure in ("render+sign over", "naive HTML", "RSS growth", "receipts/s with all",
                   "cold start to the first receipt"):
        assert figure in run.stdout
