"""Every declared fact and checklist item reaches every surface: the technician's form,
the stored handover, the JSON API, the subscriber's page and the signed receipt.

The first test walks whatever is declared. The second runs it again in a fresh
process with a fact and an item declared beside the core ones
(tests/extra_declarations.py), as an operator would add them: one declaration each,
no other code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from flask_babel import force_locale
from flask_babel import gettext as _

from tests.conftest import (
    all_yes_answers,
    close_job,
    freeze,
    post_form,
    valid_form,
)
from tests.test_api import new_client
from tests.tools import needs
from webapp.domain.declared import FACTS, items_for
from webapp.domain.facts import Fact, Kind, example_values
from webapp.extensions import db
from webapp.models import Handover
from webapp.receipts.readback import extracted_text

pytestmark = needs("pdftotext")

ROOT = Path(__file__).resolve().parent.parent


def as_json(fact: Fact, value):
    """Return a fact's value as the API takes and gives it."""
    return f"{value:.2f}" if fact.kind is Kind.MONEY else value


def shown_as_text(fact: Fact, value) -> str | None:
    """Return the text a page shows for a value, where it is the value itself."""
    if fact.kind in (Kind.TEXT, Kind.WHOLE, Kind.EMAIL):
        return str(value)
    return None


def test_every_declared_fact_and_item_reaches_every_surface(app, technician):
    print("declared facts:", " ".join(fact.name for fact in FACTS))
    examples = example_values(FACTS)
    tech = app.test_client(user=technician)

    form = tech.get("/handovers/new").text
    for fact in FACTS:
        assert f'name="{fact.name}"' in form, f"{fact.name} is not on the form"

    saved = post_form(tech, "/handovers/new", valid_form())
    assert saved.status_code == 302, saved.text
    with app.app_context():
        handover = db.session.scalar(db.select(Handover))
        stored = handover.recorded_facts()
        services = handover.services
    for fact in FACTS:
        expected = examples[fact.name]
        assert stored[fact.name] == (list(expected) if isinstance(expected, list) else expected)

    auth = new_client(app)
    order = {f.name: as_json(f, examples[f.name]) for f in FACTS if f.from_order}
    order |= {"order_number": "ORD-API-1", "technician": technician.login}
    created = tech.post("/api/v1/handovers", json=order, headers=auth)
    assert created.status_code == 201, created.get_json()
    got = tech.get(f"/api/v1/handovers/{created.get_json()['id']}", headers=auth).get_json()
    for fact in FACTS:
        assert fact.name in got, f"{fact.name} is not in the API's handover"
        if fact.from_order:
            assert got[fact.name] == order[fact.name], fact.name

    token = freeze(app, handover)
    page = app.test_client().get(f"/s/{token}", headers={"Accept-Language": "en"}).text
    with app.test_request_context(headers={"Accept-Language": "en"}), force_locale("en"):
        for fact in (f for f in FACTS if f.for_subscriber):
            assert _(fact.label) in page, fact.name
            text = shown_as_text(fact, stored[fact.name])
            assert text is None or text in page, fact.name
        for item in items_for(services):
            assert f'id="item-{item.key}"' in page, item.key

    answers = all_yes_answers(**{item.key: "no" for item in items_for(services)})
    pdf = close_job(app, technician, handover, token, answers, locale="en")
    text = " ".join(extracted_text(pdf).split())
    with app.test_request_context(), force_locale("en"):
        for fact in FACTS:
            assert _(fact.label) in text, f"{fact.name} has no row on the receipt"
            shown = shown_as_text(fact, stored[fact.name])
            assert shown is None or shown in text, f"{fact.name}'s value is not on the receipt"
        for item in items_for(services):
            assert _(item.label) in text, f"{item.key} is not among the receipt's answers"
    assert Decimal(examples["monthly_fee"]) == stored["monthly_fee"]  # money stays Decimal


def test_a_fact_and_an_item_declared_beside_the_core_reach_every_surface():
    # One database is enough to show the extra declarations at work: SQLite.
    env = {k: v for k, v in os.environ.items()
           if k not in ("TEST_DATABASE_URL", "REQUIRE_POSTGRESQL")}
    env["HANDOVER_DECLARATIONS"] = "tests.extra_declarations"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
         "-m", "not postgresql",
         f"{__file__}::test_every_declared_fact_and_item_reaches_every_surface"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    declared = next(line for line in run.stdout.splitlines() if "declared facts:" in line)
    assert "floor" in declared.split()


def test_a_statement_reads_what_was_recorded_and_a_dash_for_what_never_was(app):
    from webapp.domain.checklist import ChecklistItem, Facts
    from webapp.templating import statement

    item = ChecklistItem(
        "x", "X", "Contract %(contract_number)s, %(contract_pages)d pages, for %(services)s.",
        shows=("contract_number", "contract_pages", "services", "portal_login"),
    )
    # contract_pages as a fact declared after this handover was made: nothing recorded.
    facts = Facts(values={"contract_number": "<b>D-1</b>", "contract_pages": None,
                          "services": ["internet", "tv"], "portal_login": None})
    with app.test_request_context(), force_locale("en"):
        text, more = statement(item, facts)
    assert text == "Contract <b>D-1</b>, — pages, for Internet, TV."  # Jinja escapes it
    assert more == ["portal_login"]
