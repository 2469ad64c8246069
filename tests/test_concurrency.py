"""Nothing lost, nothing doubled: many people at once, and failures at the worst moment,
on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import (
    add_user,
    all_yes_answers,
    drawn_signature,
    freeze,
    hidden_fields,
    make_handover,
    press,
    submit_checklist,
)
from tests.crash import InjectedFailure, failing_after_flush, raise_injected
from tests.tools import needs
from webapp.extensions import db
from webapp.models import ChecklistAnswer, Handover, Receipt

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EN = {"Accept-Language": "en"}


def at_once(count: int, action) -> list:
    """Run action(0..count-1) in as many threads released together; return the results."""
    start = threading.Barrier(count)
    results: list = [None] * count
    failures: list[BaseException] = []

    def run(index):
        start.wait()
        try:
            results[index] = action(index)
        except BaseException as error:  # reported below, in the test's own thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    assert not failures, failures
    return results


def state(app, handover_id: int) -> dict:
    """What the database holds for one handover, in the terms people see."""
    with app.app_context():
        handover = db.session.get(Handover, handover_id)
        return {
            "status": handover.status,
            "receipts": db.session.query(Receipt).filter_by(handover_id=handover_id).count(),
            "signatures": sorted(s.signer for s in handover.signatures),
            "answers": len(handover.answers),
        }


def signed_by_subscriber(app, technician, count: int) -> list[Handover]:
    jobs = [make_handover(app, technician, order_number=f"ORD-{i}") for i in range(count)]
    for job in jobs:
        submit_checklist(app.test_client(), freeze(app, job), all_yes_answers())
    return jobs


@needs("pdftotext")
def test_twenty_subscribers_and_technicians_at_once_get_twenty_receipts(app, technician):
    jobs = [make_handover(app, technician, order_number=f"ORD-{i}") for i in range(20)]
    tokens = [freeze(app, job) for job in jobs]
    phones = [app.test_client() for _ in jobs]
    pages = [phone.get(f"/s/{token}") for phone, token in zip(phones, tokens, strict=True)]

    signed = at_once(20, lambda i: phones[i].post(
        f"/s/{tokens[i]}", data={**hidden_fields(pages[i].text), **all_yes_answers()}
    ))
    closed = at_once(20, lambda i: press(
        app.test_client(user=technician), jobs[i], "close", {"signature": drawn_signature()}
    ))

    assert [r.status_code for r in signed] == [302] * 20
    assert [r.status_code for r in closed] == [302] * 20
    for job in jobs:
        assert state(app, job.id) == {
            "status": "closed", "receipts": 1, "signatures": ["subscriber", "technician"],
            "answers": 7,
        }


@needs("pdftotext")
def test_ten_closings_of_one_job_make_one_receipt_and_all_see_it(app, technician):
    (job,) = signed_by_subscriber(app, technician, 1)
    tablets = [app.test_client(user=technician) for _ in range(10)]

    responses = at_once(10, lambda i: press(
        tablets[i], job, "close", {"signature": drawn_signature()}, headers=EN
    ))

    assert [r.status_code for r in responses] == [302] * 10
    assert state(app, job.id)["receipts"] == 1
    assert state(app, job.id)["signatures"] == ["subscriber", "technician"]
    for tablet in tablets:
        page = tablet.get(f"/handovers/{job.public_id}", headers=EN)
        assert "Download the receipt (PDF)" in page.text


def test_ten_submissions_for_one_link_sign_once(app, technician):
    job = make_handover(app, technician)
    token = freeze(app, job)
    phones = [app.test_client() for _ in range(10)]
    forms = [{**hidden_fields(p.get(f"/s/{token}").text), **all_yes_answers()} for p in phones]

    responses = at_once(10, lambda i: phones[i].post(f"/s/{token}", data=forms[i], headers=EN))

    assert sorted(r.status_code for r in responses) == [302] + [404] * 9
    assert state(app, job.id) == {
        "status": "subscriber_signed", "receipts": 0, "signatures": ["subscriber"], "answers": 7,
    }


@needs("pdftotext")
def test_a_closing_holds_no_write_lock_while_its_receipt_renders(sqlite_app, monkeypatch):
    """On SQLite a slow render must not stop everyone else from writing (PostgreSQL
    locks rows, not the database)."""
    from webapp.receipts.render import Renderer

    app, technician = sqlite_app, add_user(sqlite_app, "tech")

    (job,) = signed_by_subscriber(app, technician, 1)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    render = Renderer.render
    others_could_write = []

    def render_while_someone_writes(self, html):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            others_could_write.append(True)
        except sqlite3.OperationalError as error:
            others_could_write.append(str(error))
        finally:
            other.close()
        return render(self, html)

    monkeypatch.setattr(Renderer, "render", render_while_someone_writes)
    press(app.test_client(user=technician), job, "close", {"signature": drawn_signature()})

    assert others_could_write == [True]
    assert state(app, job.id)["receipts"] == 1


def test_sqlite_logs_ahead_and_writes_begin_immediate_even_after_autocommit(sqlite_app):
    with sqlite_app.app_context():
        with db.engine.connect() as autocommit:  # returns to the pool reset by SQLAlchemy
            autocommit.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("SELECT 1")
        connection = db.session.connection()
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        statements = []
        connection.connection.driver_connection.set_trace_callback(statements.append)
        connection.exec_driver_sql("SELECT count(*) FROM users").scalar()
        connection.exec_driver_sql("UPDATE users SET active = active")
        db.session.commit()
        assert statements[:3] == [
            "SELECT count(*) FROM users", "BEGIN IMMEDIATE", "UPDATE users SET active = active",
        ]


# --- Failures between writing and committing ---------------------------------------------


def test_a_failure_before_the_subscribers_commit_leaves_the_link_usable(app, technician):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # as in production: an error page
    job = make_handover(app, technician)
    token = freeze(app, job)
    phone = app.test_client()

    with failing_after_flush(ChecklistAnswer, raise_injected):
        failed = submit_checklist(phone, token, all_yes_answers(), headers=EN)
    assert failed.status_code == 500
    assert state(app, job.id) == {
        "status": "awaiting_subscriber", "receipts": 0, "signatures": [], "answers": 0,
    }

    again = submit_checklist(phone, token, all_yes_answers(), headers=EN)
    assert again.status_code == 302
    assert state(app, job.id)["status"] == "subscriber_signed"


@needs("pdftotext")
def test_a_failure_after_rendering_leaves_the_job_open_to_close_again(app, technician):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    (job,) = signed_by_subscriber(app, technician, 1)
    tablet = app.test_client(user=technician)

    with failing_after_flush(Receipt, raise_injected):
        failed = press(tablet, job, "close", {"signature": drawn_signature()}, headers=EN)
    assert failed.status_code == 500
    assert state(app, job.id) == {
        "status": "subscriber_signed", "receipts": 0, "signatures": ["subscriber"], "answers": 7,
    }

    assert press(tablet, job, "close", {"signature": drawn_signature()}).status_code == 302
    assert state(app, job.id)["receipts"] == 1
    assert state(app, job.id)["status"] == "closed"


@needs("pdftotext")
def test_the_injected_failure_really_fires_between_writing_and_committing(app, technician):
    """Guard for the two tests above: the failure is raised, not swallowed."""
    (job,) = signed_by_subscriber(app, technician, 1)
    with failing_after_flush(Receipt, raise_injected), pytest.raises(InjectedFailure):
        press(app.test_client(user=technician), job, "close", {"signature": drawn_signature()})


@needs("pdftotext")
def test_a_worker_killed_after_rendering_leaves_the_job_open_to_close_again(app, technician):
    (job,) = signed_by_subscriber(app, technician, 1)
    worker = subprocess.run(
        [sys.executable, "-m", "tests.crash", app.config["SQLALCHEMY_DATABASE_URI"],
         str(job.id), job.public_id, str(technician.id)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert worker.returncode == -9, worker.stderr  # SIGKILL, mid-transaction
    assert "survived" not in worker.stdout
    assert state(app, job.id) == {
        "status": "subscriber_signed", "receipts": 0, "signatures": ["subscriber"], "answers": 7,
    }

    tablet = app.test_client(user=technician)
    assert press(tablet, job, "close", {"signature": drawn_signature()}).status_code == 302
    assert state(app, job.id)["receipts"] == 1
