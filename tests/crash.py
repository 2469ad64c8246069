"""Failures injected at the worst moment: after a step's rows have reached the
database, before its commit. Used in-process (an exception) and by a worker process
that kills itself there (run as `python -m tests.crash DATABASE_URL HANDOVER TECHNICIAN`).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from sqlalchemy import event
from sqlalchemy.orm import Session


class InjectedFailure(RuntimeError):
    """The failure a test injects; nothing in the app expects it."""


@contextmanager
def failing_after_flush(model: type, failure: Callable[[], None]) -> Iterator[None]:
    """Call `failure` once a flush has sent new rows of `model` to the database,
    before anything is committed."""

    def check(session, flush_context):
        if any(isinstance(instance, model) for instance in session.new):
            failure()

    event.listen(Session, "after_flush", check)
    try:
        yield
    finally:
        event.remove(Session, "after_flush", check)


def raise_injected() -> None:
    raise InjectedFailure("injected between writing and committing")


def kill_this_process() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def close_and_die(database_url: str, handover_id: int, public_id: str, technician_id: int):
    """Press "close" as the technician, in this process, and die just before the commit."""
    from tests.conftest import drawn_signature, make_app, press
    from webapp.extensions import db
    from webapp.models import Receipt, User

    app = make_app(database_url)
    with app.app_context():
        technician = db.session.get(User, technician_id)
        db.session.expunge(technician)
    client = app.test_client(user=technician)
    handover = SimpleNamespace(id=handover_id, public_id=public_id)
    with failing_after_flush(Receipt, kill_this_process):
        press(client, handover, "close", {"signature": drawn_signature()})
    print("survived", flush=True)  # never reached: the test checks for it


if __name__ == "__main__":
    url, handover_id, public_id, technician_id = sys.argv[1:]
    close_and_die(url, int(handover_id), public_id, int(technician_id))
