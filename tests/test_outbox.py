"""The outbox: what closing a job sends, through real servers on 127.0.0.1 (SMTP, an
SMS gateway speaking SMSC.ru's protocol, a webhook receiver), with failures, retries,
two workers at once and a worker killed mid-batch."""

from __future__ import annotations

import hashlib
import hmac
import json
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from bench.receivers import SmtpServer, gateway_settings
from tests.conftest import add_user, app_on, close_job, freeze, make_handover
from tests.services import ROOT, production_environ
from webapp.domain.sms import segments
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import DeliveryAttempt, Handover, OutboxMessage, Receipt
from webapp.outbox.worker import work

EMAIL = "ivan.petrov@example.ru"


def deliver(app) -> None:
    """Run a worker until nothing is due, as `flask outbox work --once` does."""
    with app.app_context():
        work(once=True)


def messages(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def register_webhook(app, url: str) -> str:
    """Create an API client whose events go to `url`; return its signing secret."""
    from webapp.api.auth import create_client, set_client_webhook

    with app.app_context():
        client, _token = create_client("orders", ["orders:write", "receipts:read"])
        db.session.flush()
        _client, secret = set_client_webhook(client.name, url)
        db.session.commit()
        return secret


def closed_job(app, technician, **facts) -> Receipt:
    handover = make_handover(app, technician, **facts)
    close_job(app, technician, handover, freeze(app, handover))
    with app.app_context():
        receipt = db.session.scalar(sa.select(Receipt).where(Receipt.handover_id == handover.id))
        db.session.expunge(receipt)
        return receipt


@pytest.fixture
def delivering(database_url, smtp, gateway, receiver):
    with app_on(database_url, **smtp.settings(), **gateway_settings(gateway),
                PUBLIC_URL="https://handover.example.ru", OPERATOR_NAME="Ростелеком") as app:
        yield app


def test_closing_sends_the_receipt_by_email_sms_and_a_signed_webhook(
    delivering, smtp, gateway, receiver
):
    app = delivering
    secret = register_webhook(app, f"{receiver.url}/hooks/handover")
    technician = add_user(app, "tech")
    receipt = closed_job(app, technician, email=EMAIL)
    assert smtp.received == [] and gateway.requests == []  # nothing is sent by the request

    deliver(app)

    [email] = smtp.received
    subject = str(email["Subject"]).strip()  # unfolded, as a mail reader shows it
    assert email["To"] == EMAIL and receipt.number in subject
    assert subject.startswith("Ростелеком")
    kinds = [part.get_content_type() for part in email.walk()]
    assert "text/plain" in kinds and "text/html" in kinds
    [attachment] = list(email.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert hashlib.sha256(attachment.get_content()).hexdigest() == receipt.sha256
    assert "квитанц" in email.get_body(("plain",)).get_content().lower()

    [sms] = gateway.requests
    fields = sms["fields"]
    with app.app_context():
        assert fields["phones"] == db.session.get(Handover, receipt.handover_id).phone
    assert (fields["login"], fields["psw"]) == ("handover", "gateway-password")
    text = fields["mes"]
    assert receipt.number in text and "Ростелеком" in text
    assert f"https://handover.example.ru/r/{receipt.number}" in text
    assert segments(text) <= 2

    events = [json.loads(r["body"]) for r in receiver.requests]
    assert [e["type"] for e in events] == ["handover.handed_over", "handover.signed",
                                           "handover.closed"]
    assert events[-1]["data"]["receipt"]["number"] == receipt.number
    for request in receiver.requests:
        headers = request["headers"]
        timestamp, _, digest = headers["Handover-Signature"].partition(",v1=")
        timestamp = timestamp.removeprefix("t=")
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + request["body"],
                            hashlib.sha256).hexdigest()
        assert hmac.compare_digest(digest, expected)
        assert headers["Handover-Delivery"] == json.loads(request["body"])["id"]
    assert {m.status for m in messages(app)} == {"sent"}


def test_a_job_closes_while_every_service_is_down_and_its_messages_wait(
    database_url, gateway
):
    smtp = SmtpServer()  # never started: nothing listens on its port
    gateway.failures = 10**6
    with app_on(database_url, **smtp.settings(), **gateway_settings(gateway)) as app:
        technician = add_user(app, "tech")
        closed_job(app, technician, email=EMAIL)
        deliver(app)
        queued = messages(app)
    assert {m.channel for m in queued} == {"sms", "email"}
    assert {m.status for m in queued} == {"retrying"}
    reasons = {m.channel: m.last_error for m in queued}
    assert reasons["sms"] == "provider_error: HTTP 503"
    assert reasons["email"].startswith("unreachable: ")


def test_smtp_down_then_up_delivers_the_email_exactly_once(database_url, gateway):
    smtp = SmtpServer()
    with app_on(database_url, **smtp.settings(), **gateway_settings(gateway)) as app:
        technician = add_user(app, "tech")
        closed_job(app, technician, email=EMAIL)
        deliver(app)
        [email] = [m for m in messages(app) if m.channel == "email"]
        assert email.status == "retrying" and email.attempts == 1
        smtp.start()
        try:
            time.sleep(0.3)  # past the (test's) retry delay
            deliver(app)
            deliver(app)  # nothing more to do: it was sent
        finally:
            smtp.stop()
        [email] = [m for m in messages(app) if m.channel == "email"]
        with app.app_context():
            outcomes = db.session.scalars(
                sa.select(DeliveryAttempt.outcome).where(DeliveryAttempt.message_id == email.id)
                .order_by(DeliveryAttempt.id)
            ).all()
    assert len(smtp.received) == 1
    assert email.status == "sent" and outcomes == ["retry", "sent"]


def test_a_gateway_answering_5xx_is_retried_until_it_takes_the_sms(database_url, gateway):
    gateway.failures = 2
    with app_on(database_url, **gateway_settings(gateway)) as app:
        technician = add_user(app, "tech")
        closed_job(app, technician)
        for _ in range(3):
            deliver(app)
            time.sleep(0.3)
        [sms] = [m for m in messages(app) if m.channel == "sms"]
    assert sms.status == "sent" and sms.attempts == 3
    assert len([r for r in gateway.requests]) == 1  # the two 503s were not taken


def queue_sms(app, count: int) -> None:
    """Queue `count` SMS without a job, as a resend would."""
    from webapp.outbox.service import queue

    with app.app_context():
        for n in range(count):
            queue(OutboxMessage(channel="sms", purpose="resend", recipient=f"+7912000{n:04d}",
                                body=f"message {n}"))
        db.session.commit()


def worker(database_url: str, gateway, *args: str, **environ: str) -> subprocess.Popen:
    """A worker process as production runs it: `flask --app wsgi outbox work`."""
    env = production_environ(database_url, **gateway_settings(gateway), **environ)
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "outbox", "work", *args],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def test_two_workers_at_once_deliver_each_message_once(database_url, gateway):
    gateway.delay = 0.02
    with app_on(database_url) as app:
        queue_sms(app, 60)
        workers = [worker(database_url, gateway, "--once") for _ in range(2)]
        outputs = [w.communicate(timeout=120)[0] for w in workers]
        assert all(w.returncode == 0 for w in workers), outputs
        sent = messages(app)
    keys = [r["fields"]["id"] for r in gateway.requests]
    assert sorted(keys) == sorted(m.delivery_key for m in sent)  # each once, none twice
    assert {m.status for m in sent} == {"sent"}


def test_a_worker_killed_mid_batch_loses_nothing(database_url, gateway):
    gateway.delay = 0.2
    with app_on(database_url) as app:
        queue_sms(app, 10)
        first = worker(database_url, gateway, OUTBOX_LEASE_SECONDS="2")
        deadline = time.monotonic() + 60
        while len(gateway.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
        time.sleep(2.5)  # the dead worker's claim lapses
        second = worker(database_url, gateway, "--once", OUTBOX_LEASE_SECONDS="2")
        output = second.communicate(timeout=120)[0]
        assert second.returncode == 0, output
        sent = messages(app)
    keys = [r["fields"]["id"] for r in gateway.requests]
    assert {m.status for m in sent} == {"sent"}
    assert set(keys) == {m.delivery_key for m in sent}  # none lost
    assert len(keys) - len(set(keys)) <= 1  # at most the one in hand went twice...
    repeats = [r for r in gateway.requests if keys.count(r["fields"]["id"]) > 1]
    assert len(repeats) in (0, 2)  # ...and the gateway refused the repeat (error 9)


def test_events_go_only_to_clients_that_may_read_handovers(delivering, receiver):
    from webapp.api.auth import create_client, set_client_webhook

    app = delivering
    with app.app_context():
        create_client("archive", ["receipts:read"])
        db.session.flush()
        set_client_webhook("archive", f"{receiver.url}/archive")
        db.session.commit()
    closed_job(app, add_user(app, "tech"))
    deliver(app)
    assert receiver.requests == []  # a receipts-only client reads no discrepancy details
    assert [m.channel for m in messages(app)] == ["sms", "email"]


def test_a_receiver_that_redirects_is_retried_not_counted_as_delivered(delivering):
    from bench.receivers import HttpServer

    def moved(server, request):
        with server.lock:
            server.requests.append(request)
        return 302, b""

    with HttpServer(moved) as receiver:
        register_webhook(delivering, receiver.url)
        closed_job(delivering, add_user(delivering, "tech"))
        deliver(delivering)
    hooks = [m for m in messages(delivering) if m.channel == "webhook"]
    assert hooks and {m.status for m in hooks} == {"retrying"}
    assert {m.last_error for m in hooks} == {"provider_error: HTTP 302"}


def refuse_login(gateway, request):
    with gateway.lock:
        gateway.requests.append(request)
    return 200, json.dumps({"error": "authorise error", "error_code": 2}).encode()


@pytest.mark.parametrize("trouble, kind", [("wrong credentials", "credentials"),
                                           ("a gateway that never answers", "unreachable")])
def test_wrong_credentials_or_a_timeout_keep_the_sms_queued_with_the_reason(
    database_url, trouble, kind
):
    from bench.receivers import HttpServer, smsc_answer

    answer, delay = (refuse_login, 0.0) if kind == "credentials" else (smsc_answer, 2.0)
    with HttpServer(answer, delay=delay) as gateway, app_on(
        database_url, **gateway_settings(gateway), OUTBOX_SEND_SECONDS=0.5
    ) as app:
        closed_job(app, add_user(app, "tech"))
        deliver(app)
        [sms] = [m for m in messages(app) if m.channel == "sms"]
        support = app.test_client(user=add_user(app, "agent", Role.SUPPORT))
        with app.app_context():
            number = db.session.get(Receipt, sms.receipt_id).number
        page = support.get(f"/support/receipts/{number}", headers={"Accept-Language": "en"})
    assert sms.status == "retrying" and sms.last_error.startswith(f"{kind}: "), trouble
    assert "Failed, retrying" in page.text
