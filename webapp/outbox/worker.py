"""The worker behind `flask --app wsgi outbox work`: claims due messages, sends each,
records the answer, and sleeps while nothing is due. Several may run at once.

It commits its own transactions (a claim, then each message's result), as a CLI
command does: see webapp/extensions.py.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass

from flask import current_app

from webapp.extensions import db
from webapp.outbox import service

log = logging.getLogger(__name__)


@dataclass
class Tally:
    sent: int = 0
    retry: int = 0
    failed: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def worker_name() -> str:
    """Return this worker's name in claims and attempts: host and process id."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def run_batch(worker: str, tally: Tally) -> int:
    """Claim and deliver one batch; return how many messages it held."""
    config = current_app.config
    channels = service.channels(config)
    claims = service.claim(worker, config["OUTBOX_BATCH"], config["OUTBOX_LEASE"])
    db.session.commit()
    for claimed in claims:
        message = claimed.message
        result = service.attempt(channels[message.channel], message)
        outcome = service.record(claimed, worker, result)
        db.session.commit()
        tally.add(outcome)
        # Which message and how it went; never its recipient or text (personal data).
        log.info("outbox message %s (%s): %s", message.id, message.channel, outcome)
    db.session.close()
    return len(claims)


def work(*, once: bool = False, stop: threading.Event | None = None) -> Tally:
    """Deliver messages until stopped (SIGTERM or SIGINT ends it after the message in
    hand); with `once`, until nothing is due."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    worker, tally = worker_name(), Tally()
    idle = current_app.config["OUTBOX_IDLE_SECONDS"]
    while not stop.is_set():
        try:
            held = run_batch(worker, tally)
        except Exception:  # the database went away: wait, then try again
            db.session.rollback()
            log.exception("outbox worker could not claim messages")
            held = 0
            if once:
                raise
        if held == 0:
            if once:
                break
            stop.wait(idle)
    return tally
