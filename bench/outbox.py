"""Outbox throughput: messages per second that `flask --app wsgi outbox work --once`
delivers with one worker process and with two, against the same local servers driven
by the delivery channels alone (no claims, no attempts recorded), measured in the
same run, so the ratio is what the outbox's bookkeeping costs.

The messages are what closing jobs queues: per job an SMS, an e-mail with its signed
receipt attached (a real typical receipt, about 40 KB) and the webhook event
"handover.closed". The servers (bench/receivers.py) run in this process: SMTP
(aiosmtpd), an SMS gateway speaking SMSC.ru's protocol and a webhook receiver. The
workers and the baseline's senders are processes in production settings, forked from
one that loaded the app, on SQLite (or the PostgreSQL given, emptied first). The
outbox's time runs from its first claim to the last message recorded sent (the
database's attempt rows and sent_at); the baseline's from its first send to its last
answer.

    python bench/outbox.py [--quick] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import traceback
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.apps import add_staff, bench_app, production_environ, receipt_settings  # noqa: E402
from bench.receivers import (  # noqa: E402
    HttpServer,
    SmtpServer,
    gateway_settings,
    sms_gateway,
    webhook_receiver,
)
from bench.report import Figure, text_table  # noqa: E402
from bench.stats import median_range  # noqa: E402

PUBLIC_URL = "https://handover.example.ru"


def load_shape(quick: bool) -> tuple[int, int]:
    """Return the closed jobs (three messages each) and the runs per figure."""
    # --quick is the smoke run `make test` makes: a few seconds, figures not for reading.
    return (2, 1) if quick else (200, 3)


def settings(quick: bool) -> dict[str, str]:
    """Describe how the outbox figures were measured, for the benchmark's description."""
    jobs, runs = load_shape(quick)
    return {"Outbox": f"{jobs * 3} messages (per closed job an SMS, an e-mail with its "
                      f"signed receipt attached, a webhook event) to local SMTP (aiosmtpd), "
                      f"SMSC-protocol and webhook servers in the bench's process; `flask "
                      f"outbox work --once` in production settings, first claim to last "
                      f"message sent; median of {runs} runs (range in brackets)"}


class Smtp(SmtpServer):
    """The SMTP server, keeping each message's bytes without parsing them."""

    # Parsing a 56 KB message costs ~8 ms of this process's CPU, about what sending it
    # costs: with two senders the figures would measure this process instead.
    async def handle_DATA(self, server, session, envelope):
        """Keep the message as it came and accept it."""
        self.received.append(envelope.content)
        return "250 Message accepted"


@dataclass
class Receivers:
    """The local servers the messages go to, and what each has taken so far."""

    smtp: SmtpServer
    gateway: HttpServer
    webhooks: HttpServer

    def settings(self) -> dict[str, str]:
        """Return the environment variables that send each channel here."""
        values = self.smtp.settings() | gateway_settings(self.gateway)
        return {name: str(value) for name, value in values.items()}

    def taken(self) -> tuple[int, int, int]:
        """Return the e-mails, SMS and webhook events taken, and forget them."""
        counts = (len(self.smtp.received), len(self.gateway.requests),
                  len(self.webhooks.requests))
        # Forgotten so the gateway takes the same messages (delivery keys) again later.
        self.smtp.received.clear()
        self.gateway.requests.clear()
        self.webhooks.requests.clear()
        return counts


def prepare(workdir: Path, database: str, jobs: int, webhook_url: str):
    """Migrate the database and store `jobs` closed jobs with receipts; return the app."""
    from bench.receipts import kept, typical_receipt
    from bench.seed import handover_rows, migrate_empty, receipt_number
    from webapp.api.auth import create_client, set_client_webhook
    from webapp.domain.digest import sha256_hex
    from webapp.domain.terms import Role
    from webapp.extensions import db
    from webapp.models import Handover, Receipt
    from webapp.receipts.readback import extracted_text
    from webapp.receipts.service import CODE_PATTERN, code_hash

    app = bench_app(database, workdir, PUBLIC_URL=PUBLIC_URL)
    with app.app_context():
        migrate_empty(db.engine)
        technician = add_staff("tech", Role.TECHNICIAN)
        client, _token = create_client("orders", ["orders:write", "receipts:read"])
        db.session.flush()
        set_client_webhook(client.name, webhook_url)
        db.session.commit()
        # One real receipt, rendered and signed as a closing makes it; each job keeps a
        # copy with its own trailing comment, since receipts' digests are unique.
        pdf = kept(typical_receipt(app))
        # The worker reads each message's code from its receipt, checked against this hash.
        printed = CODE_PATTERN.findall(extracted_text(pdf))[0]
        first = db.session.scalar(sa.select(sa.func.max(Handover.id))) + 1
        rows = list(handover_rows(first, jobs, [technician.id], random.Random(2026)))
        with db.engine.begin() as connection:
            connection.execute(sa.insert(Handover.__table__), rows)
            copies = [pdf + f"\n%bench copy {row['id']}\n".encode() for row in rows]
            connection.execute(sa.insert(Receipt.__table__), [
                {"handover_id": row["id"], "number": receipt_number(row["id"]),
                 "code_hash": code_hash(printed), "locale": "ru", "pdf": copy,
                 "sha256": sha256_hex(copy), "issued_at": row["closed_at"],
                 "timestamped": False}
                for row, copy in zip(rows, copies, strict=True)
            ])
        db.session.remove()
        db.engine.dispose()
    return app


def queue_closings(app) -> int:
    """Empty the outbox and queue what closing each stored job sends; return the count."""
    from webapp.extensions import db
    from webapp.models import DeliveryAttempt, OutboxMessage, Receipt
    from webapp.outbox.messages import event, receipt_email, receipt_sms

    with app.app_context():
        db.session.execute(sa.delete(DeliveryAttempt))
        db.session.execute(sa.delete(OutboxMessage))
        receipts = db.session.scalars(sa.select(Receipt).order_by(Receipt.id)).all()
        for receipt in receipts:
            # As countersign_and_close queues them (webapp/handovers/workflow.py).
            handover = receipt.handover
            receipt_sms(receipt, handover.phone)
            receipt_email(receipt, f"abonent{handover.id}@example.ru")
            event("handover.closed", handover, {"receipt": {"number": receipt.number}})
        db.session.commit()
        queued = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        db.session.remove()
    return queued


LAUNCHER = """
import sys
sys.path.insert(0, sys.argv[1])
from bench.outbox import serve
serve(sys.argv[2])
"""


class Launcher:
    """A process in production settings that loaded the app as `flask --app wsgi` does
    and forks the workers and the baseline's senders from it on request."""

    # Each process of the app spends 2-3 s of CPU importing it; forked from one that
    # did (as gunicorn's preload does for the web workers) a run pays that once, and
    # two workers start together. The figures start at the first send either way.

    def __init__(self, environ: dict[str, str], log: Path):
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(ROOT), str(log)], cwd=ROOT, env=environ,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

    def run(self, way: str, processes: int) -> list[str]:
        """Run workers ("outbox") or senders ("direct") at once; return their answers."""
        self.process.stdin.write(f"{way} {processes}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        if not answer.startswith("["):
            raise RuntimeError(f"{way} with {processes} at once failed:\n{self.tail()}")
        return json.loads(answer)

    def tail(self) -> str:
        """Return the end of what the app's processes wrote, to explain a failure."""
        return self.log.read_text(errors="replace")[-3000:]

    def close(self) -> None:
        """Let the launcher end (it stops when its input does) and wait for it."""
        self.process.stdin.close()
        self.process.wait(timeout=60)


def serve(log: str) -> None:
    """(In the launcher.) Load the app, then fork and answer each request read."""
    # A request is "outbox 2" or "direct 1"; the answer a JSON list of what each
    # forked process answered, or the word "failed".
    # The requests' answers go to the bench; everything the app writes goes to the log.
    answers = os.fdopen(os.dup(1), "w")
    output = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
    os.dup2(output, 1)
    os.dup2(output, 2)
    import wsgi
    from webapp.extensions import db

    for request in sys.stdin:
        way, processes = request.split()
        with wsgi.app.app_context():
            db.engine.dispose()  # a child must open connections of its own
        children = [forked(way, share, int(processes)) for share in range(int(processes))]
        results = [collected(*child) for child in children]
        print(json.dumps(results) if None not in results else "failed", file=answers,
              flush=True)


def forked(way: str, share: int, shares: int) -> tuple[int, int]:
    """Fork a worker or a sender; return its process id and the pipe it answers on."""
    read, write = os.pipe()
    child = os.fork()
    if child:
        os.close(write)
        return child, read
    status = 1
    try:
        os.close(read)
        answer = worker_command() if way == "outbox" else send_directly(share, shares)
        os.write(write, answer.encode())
        status = 0
    except BaseException:
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def collected(child: int, read: int) -> str | None:
    """Return what a forked process answered, or None if it failed."""
    with os.fdopen(read) as pipe:
        answer = pipe.read()
    _pid, status = os.waitpid(child, 0)
    return answer if status == 0 else None


def worker_command() -> str:
    """(In a forked worker.) Run `flask --app wsgi outbox work --once` to its end."""
    # Through Flask's own command line, so the command is the one production runs; it
    # finds `wsgi` loaded already. Its tally goes to the log with the rest.
    from flask.cli import main

    sys.argv = ["flask", "--app", "wsgi", "outbox", "work", "--once"]
    try:
        main()
    except SystemExit as exit_:
        if exit_.code:
            raise
    return "done"


def through_outbox(app, launcher: Launcher, workers: int) -> float:
    """Deliver the queued messages with `workers` worker processes; return messages/s."""
    from webapp.domain.terms import DeliveryStatus
    from webapp.extensions import db
    from webapp.models import DeliveryAttempt, OutboxMessage

    launcher.run("outbox", workers)
    with app.app_context():
        # From the first claim to the last message recorded sent, as the database has them.
        first = db.session.scalar(sa.select(sa.func.min(DeliveryAttempt.started_at)))
        last, sent = db.session.execute(
            sa.select(sa.func.max(OutboxMessage.sent_at), sa.func.count())
            .where(OutboxMessage.status == DeliveryStatus.SENT)
        ).one()
        queued = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        db.session.remove()
    if sent != queued:
        raise RuntimeError(f"the outbox sent {sent} of {queued} messages:\n{launcher.tail()}")
    return sent / (last - first).total_seconds()


def directly(launcher: Launcher, processes: int) -> float:
    """Send the queued messages' copies by the channels alone; return messages/s."""
    answers = [answer.split() for answer in launcher.run("direct", processes)]
    count = sum(int(sent) for sent, _start, _end in answers)
    start = min(float(begun) for _sent, begun, _end in answers)
    end = max(float(ended) for _sent, _start, ended in answers)
    return count / (end - start)


def send_directly(share: int, shares: int) -> str:
    """(In a forked sender.) Send one share of the queued messages' copies; return how it went."""
    # The answer: the count sent, and the wall-clock times of the first send and the
    # last answer (the processes' clock is the one the database's times come from).
    from webapp.extensions import db
    from webapp.models import OutboxMessage
    from webapp.outbox.service import channels
    from wsgi import app

    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        columns = [column.key for column in OutboxMessage.__table__.columns]
        # Unsaved copies: the channels read only the message's own fields (and the
        # receipt or API client it names), and nothing is recorded about them.
        copies = [OutboxMessage(**{key: getattr(row, key) for key in columns})
                  for row in rows[share::shares]]
        db.session.expunge_all()
        by_name = channels(app.config)
        start = time.time()
        for message in copies:
            by_name[message.channel].send(message)
        end = time.time()
    return f"{len(copies)} {start} {end}"


def run(quick: bool = False, postgresql: str | None = None) -> list[Figure]:
    """Measure the outbox with one and two workers, each beside the channels alone."""
    # On SQLite, or on the PostgreSQL given (emptied first).
    jobs, runs = load_shape(quick)
    workdir = Path(tempfile.mkdtemp(prefix="handover-outbox-"))
    database = postgresql or f"sqlite:///{workdir / 'bench.sqlite3'}"
    rates: dict[tuple[str, int], list[float]] = {}
    with ExitStack() as stack:
        receivers = Receivers(Smtp().start(), stack.enter_context(sms_gateway()),
                              stack.enter_context(webhook_receiver()))
        stack.callback(receivers.smtp.stop)
        environ = production_environ(database, receipt_settings(workdir), PUBLIC_URL=PUBLIC_URL,
                                     **receivers.settings())
        # Started first: it loads the app while this process prepares the database.
        launcher = Launcher(environ, workdir / "processes.log")
        stack.callback(launcher.close)
        app = prepare(workdir, database, jobs, f"{receivers.webhooks.url}/hooks/handover")
        # Interleaved, so that a busy moment of the machine weighs on both alike. The
        # baseline sends copies of the queued messages, which the outbox then delivers.
        for _ in range(runs):
            for workers in (1, 2):
                count = queue_closings(app)
                for way in ("direct", "outbox"):
                    rates.setdefault((way, workers), []).append(
                        directly(launcher, workers) if way == "direct"
                        else through_outbox(app, launcher, workers))
                    if receivers.taken() != (jobs, jobs, jobs):
                        raise RuntimeError(f"{way}, {workers} at once: not every message arrived")
    part = f"Outbox, {'PostgreSQL' if postgresql else 'SQLite'}"
    figures = []
    for workers in (1, 2):
        value, spread = median_range(rates["outbox", workers])
        base, base_spread = median_range(rates["direct", workers])
        plural = "s" if workers > 1 else ""
        figures.append(Figure(
            part, f"messages/s, {workers} worker{plural}, {count} messages, median of {runs}",
            value, "/s", f"channels alone, {workers} process{'es' if workers > 1 else ''}",
            base, spread=spread, base_spread=base_spread))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny counts")
    parser.add_argument("--postgresql", help="URL of a database the benchmark may empty")
    args = parser.parse_args()
    print(text_table(run(args.quick, args.postgresql)))


if __name__ == "__main__":
    main()
