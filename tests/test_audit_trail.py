"""The receipt's audit trail stays bounded however often anyone repeats an event, while
the database keeps every event."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import app_on, close_job, freeze, make_handover
from tests.tools import needs
from webapp.domain.trail import (
    FIRST_LISTED,
    LAST_LISTED,
    Tally,
    event_row,
    is_repeatable,
    listed_ends,
    tally_row,
    trail,
)
from webapp.extensions import db
from webapp.models import AuditEvent

OPENS = 2000
ADDRESSES = 40
# As long as a browser may send; the audit log keeps the first 300 characters.
LONG_AGENT = "Mozilla/5.0 (Linux; Android 14; Flood) " + "AppleWebKit/537.36 " * 100


START = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return START + timedelta(minutes=minutes)


# --- The rule, without Flask or a database --------------------------------------------------


@pytest.mark.parametrize("event", ["subscriber.link_opened", "subscriber.submitted",
                                   "handover.viewed", "receipt.viewed", "receipt.downloaded"])
def test_what_anyone_can_repeat_at_will_is_counted(event):
    assert is_repeatable(event)


@pytest.mark.parametrize("event", [
    "handover.created", "handover.updated", "handover.frozen", "handover.reopened",
    "subscriber.signed", "technician.countersigned", "handover.closed", "receipt.issued",
])
def test_the_steps_of_a_job_are_listed_one_by_one(event):
    assert not is_repeatable(event)


def test_a_kind_seen_many_times_reads_as_one_row_of_plain_values():
    tally = Tally("subscriber.link_opened", 2000, at(0), at(45), addresses=40, devices=3,
                  order=7, ip="198.51.100.40", user_agent="Phone/1")
    assert tally_row(tally) == {
        "summary": True, "event": "subscriber.link_opened", "count": 2000, "first": at(0),
        "last": at(45), "addresses": 40, "devices": 3, "ip": None, "user_agent": None,
    }


def test_a_count_from_one_address_and_device_names_them():
    tally = Tally("subscriber.link_opened", 3, at(0), at(9), addresses=1, devices=1, order=7,
                  ip="198.51.100.7", user_agent="Phone/1")
    row = tally_row(tally)
    assert (row["summary"], row["count"], row["ip"], row["user_agent"]) == (
        True, 3, "198.51.100.7", "Phone/1")


def test_a_kind_seen_once_reads_as_its_own_event():
    tally = Tally("subscriber.link_opened", 1, at(5), at(5), addresses=1, devices=1, order=7,
                  ip="198.51.100.7", user_agent="Phone/1")
    assert tally_row(tally) == event_row("subscriber.link_opened", at(5), "198.51.100.7", "Phone/1")
    assert tally_row(tally)["summary"] is False


def test_listed_events_are_all_shown_up_to_the_cap_then_only_both_ends():
    cap = FIRST_LISTED + LAST_LISTED
    assert listed_ends(0) is None
    assert listed_ends(cap) is None
    assert listed_ends(cap + 1) == (FIRST_LISTED, LAST_LISTED)
    assert listed_ends(10**6) == (FIRST_LISTED, LAST_LISTED)


def test_rows_keep_the_order_of_each_rows_first_event():
    listed = [
        (1, event_row("handover.created", at(0), "10.0.0.5", "Tablet")),
        (2, event_row("handover.frozen", at(1), "10.0.0.5", "Tablet")),
        (4000, event_row("subscriber.signed", at(50), "198.51.100.1", "Phone")),
        (2**62, event_row("handover.closed", at(60), "10.0.0.5", "Tablet")),
    ]
    tallies = [
        Tally("handover.viewed", 3, at(52), at(55), 1, 1, order=4001),
        Tally("subscriber.link_opened", 2000, at(2), at(47), 40, 2, order=3),
    ]
    rows = trail(listed, tallies)
    assert [(r["event"], r["summary"]) for r in rows] == [
        ("handover.created", False), ("handover.frozen", False),
        ("subscriber.link_opened", True), ("subscriber.signed", False),
        ("handover.viewed", True), ("handover.closed", False),
    ]
    plain = (str, int, bool, datetime, type(None))
    assert all(isinstance(value, plain) for row in rows for value in row.values())


# --- The receipt of a flooded job -----------------------------------------------------------


@pytest.fixture
def unlimited_app(database_url):
    """The app with rate limits off: what the receipt must survive is however many
    events get through, whatever lets them."""
    with app_on(database_url, RATELIMIT_ENABLED=False) as app:
        yield app


def pdf_pages(pdf: bytes) -> list[str]:
    result = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                            check=True, timeout=60)
    return result.stdout.decode().split("\f")[:-1]


@needs("pdftotext")
def test_thousands_of_link_opens_still_let_the_job_close_with_a_short_trail(
    unlimited_app, technician
):
    app = unlimited_app
    handover = make_handover(app, technician, subscriber_name="Анна Соколова")
    token = freeze(app, handover)
    client = app.test_client()
    for index in range(OPENS - 1):  # the subscriber's own visit to sign is the last
        opened = client.get(f"/s/{token}", headers={"User-Agent": LONG_AGENT},
                            environ_base={"REMOTE_ADDR": f"198.51.100.{index % ADDRESSES + 1}"})
        assert opened.status_code == 200

    pdf = close_job(app, technician, handover, token)  # the default 10 s render budget

    pages = pdf_pages(pdf)
    audit = " ".join(pages[-1].split())
    assert "Журнал событий" in audit
    # One row with the count, its digits grouped as Russian prints them, and the flood's
    # addresses plus the subscriber's own.
    assert re.search(r"Ссылка открыта абонентом: .*\b2 000 раз\b", audit), audit
    assert f"{ADDRESSES + 1} адрес" in audit
    assert len(pages) <= 4, len(pages)  # three without the flood
    with app.app_context():
        opens = db.session.scalar(db.select(db.func.count()).where(
            AuditEvent.event == "subscriber.link_opened"))
    assert opens == OPENS  # the database keeps every one


def store_events(app, handover_id: int, events) -> None:
    with app.app_context():
        db.session.add_all(
            AuditEvent(handover_id=handover_id, event=name, created_at=moment, ip=ip,
                       user_agent=agent, details={})
            for name, moment, ip, agent in events
        )
        db.session.commit()


def test_take_backs_without_end_are_listed_at_both_ends_and_counted_between(app, technician):
    from webapp.receipts.trail import audit_rows

    handover = make_handover(app, technician)
    steps = [("handover.created", at(0), "10.0.0.5", "Tablet")]
    for cycle in range(40):  # 120 steps: far past what is listed
        steps += [(name, at(1 + cycle), "10.0.0.5", "Tablet") for name in (
            "handover.frozen", "handover.reopened", "handover.updated")]
    steps += [("handover.frozen", at(41), "10.0.0.5", "Tablet")]
    opens = [("subscriber.link_opened", at(42 + i % 5), f"198.51.100.{i % 7}", "Phone")
             for i in range(300)]
    store_events(app, handover.id, steps[:50] + opens + steps[50:])
    with app.app_context():
        rows = audit_rows(handover.id, [])

    listed = [r for r in rows if not r["summary"]]
    counted = {r["event"]: r for r in rows if r["summary"]}
    assert [(r["event"], r["at"]) for r in listed] == [
        (name, moment) for name, moment, _, _ in steps[:FIRST_LISTED] + steps[-LAST_LISTED:]]
    between = steps[FIRST_LISTED:-LAST_LISTED]
    assert {name: r["count"] for name, r in counted.items() if name.startswith("handover.")} == {
        name: sum(1 for step in between if step[0] == name) for name, *_ in between}
    assert between[0][0] == "handover.frozen"
    assert counted["handover.frozen"]["first"] == between[0][1]
    opened = counted["subscriber.link_opened"]
    assert (opened["count"], opened["addresses"], opened["devices"]) == (300, 7, 1)
    assert (opened["ip"], opened["user_agent"]) == (None, "Phone")
    assert (opened["first"], opened["last"]) == (at(42), at(46))
    # Each counted row stands where its first event stood.
    assert [r["event"] for r in rows].index("subscriber.link_opened") == 3 + FIRST_LISTED
