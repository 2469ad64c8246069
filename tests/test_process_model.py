"""Receipts under the real server, through everything gunicorn does to its workers in
normal operation: a reload of the master (SIGHUP), a worker stopped (SIGTERM), workers
recycled by max_requests. After each, new receipts must still read as text with real
embedded fonts, checked with poppler's tools as anyone holding the PDF would."""

from __future__ import annotations

import os
import re
import signal
import time
from pathlib import Path

import pytest
import requests

from tests.conftest import add_user, all_yes_answers, freeze, hidden_fields, make_handover
from tests.services import Browser, gunicorn, press, sign_in, wait_ready
from tests.test_receipts import run
from tests.tools import needs
from webapp.extensions import db
from webapp.models import Receipt

pytestmark = needs("pdffonts", "pdftoppm", "pdftotext")

NAME = "Анна Соколова"
# Small enough that a few hundred requests recycle both workers within the test.
RECYCLE = "--max-requests 40 --max-requests-jitter 0"


def workers_of(master: int) -> set[int]:
    """The pids of the master's worker processes."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return {int(pid) for pid in children}


def wait_for_workers(master: int, count: int, old: set[int] = frozenset()) -> set[int]:
    """Wait until the master has `count` workers, none of them from `old`."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        current = workers_of(master)
        if len(current) == count and not current & old:
            return current
        time.sleep(0.1)
    pytest.fail(f"workers did not turn over: {workers_of(master)} (old {old})")


def close_over_http(
    app, technician, server_url: str, tablet: Browser, account: str
) -> tuple[str, bytes]:
    """Let a subscriber sign and the technician close a new job through the server;
    return the receipt it stored."""
    handover = make_handover(app, technician, subscriber_name=NAME, account_number=account)
    token = freeze(app, handover)
    phone = Browser()
    form = hidden_fields(phone.get(f"{server_url}/s/{token}").text)
    signed = phone.post(f"{server_url}/s/{token}", data={**form, **all_yes_answers()},
                        allow_redirects=False)
    assert signed.status_code == 302, signed.text
    closed = press(tablet, server_url, handover.public_id, "close", {"typed_name": "Tech"})
    assert closed.status_code == 302, closed.text
    with app.app_context():
        receipt = db.session.scalar(db.select(Receipt).where(Receipt.handover_id == handover.id))
        assert receipt is not None, "the job closed without a receipt"
        return receipt.number, receipt.pdf


def assert_readable(number: str, pdf: bytes, account: str, tmp_path: Path) -> None:
    """Every font embedded with real glyphs, and the text a reader extracts is the receipt's."""
    path = tmp_path / f"{number}.pdf"
    path.write_bytes(pdf)
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert fonts, "no fonts listed"
    for line in fonts:
        assert re.search(r"\byes\s+yes\s+yes\b", line), f"{number}: font not embedded: {line}"
    # A reader that cannot build a font from what is embedded says so when drawing it.
    drawn = run("pdftoppm", "-r", "20", "-png", str(path), str(tmp_path / number))
    assert "font" not in drawn.lower(), f"{number}: {drawn}"
    text = run("pdftotext", "-enc", "UTF-8", str(path), "-")
    for wanted in (number, account, NAME):
        assert wanted in text, f"{number}: {wanted!r} not in the extracted text:\n{text[:400]}"


def test_receipts_stay_readable_through_reload_worker_stop_and_recycling(
    app, database_url, redis_url, tmp_path
):
    """On a database file (SQLite) or server (PostgreSQL) that test and server share."""
    url = database_url
    technician = add_user(app, "tech")
    made = []
    server_tmp = tmp_path / "server-tmp"
    server_tmp.mkdir()

    with gunicorn(url, redis_url, workers=2, GUNICORN_CMD_ARGS=RECYCLE,
                  TMPDIR=str(server_tmp)) as server:
        tablet = Browser()
        assert sign_in(tablet, server.url).status_code == 302
        master = server.master.pid

        def close_two(stage: str) -> None:
            for n in range(2):
                account = f"{len(made) + 1:04d}{n}77001"
                number, pdf = close_over_http(app, technician, server.url, tablet, account)
                made.append((stage, number, pdf, account))

        close_two("start")
        workers = wait_for_workers(master, 2)

        os.kill(master, signal.SIGHUP)  # a reload: new workers, the old ones stop cleanly
        workers = wait_for_workers(master, 2, old=workers)
        wait_ready(server)
        close_two("after SIGHUP")

        stopped = min(workers)
        os.kill(stopped, signal.SIGTERM)  # one worker told to stop; the master replaces it
        workers = wait_for_workers(master, 2, old={stopped})
        close_two("after SIGTERM")

        for _ in range(100):  # past max_requests on both workers
            requests.get(f"{server.url}/healthz", timeout=10)
        wait_for_workers(master, 2, old=workers)
        close_two("after recycling")
        assert "Exception ignored" not in server.log_text()
        assert "Traceback" not in server.log_text()

    for stage, number, pdf, account in made:
        try:
            assert_readable(number, pdf, account, tmp_path)
        except AssertionError as error:
            raise AssertionError(f"receipt closed {stage}: {error}") from None
    # Nothing of the renderer's is left in the servers' temporary folder either.
    assert list(server_tmp.iterdir()) == []
