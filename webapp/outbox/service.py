"""The outbox: messages written in the transaction of what they tell about, and
delivered afterwards by `flask --app wsgi outbox work` (webapp/outbox/worker.py).

Delivery is at least once and at most one repeat: a worker claims a few due
messages in one short transaction (the claim is a single UPDATE: on PostgreSQL its
rows are picked FOR UPDATE SKIP LOCKED, on SQLite the UPDATE begins with BEGIN
IMMEDIATE and so runs alone), sends each outside any transaction, and records the
answer. A worker killed mid-send leaves its claim to lapse; another then sends the
message again, with the same delivery key, which the receiving side uses to drop
the repeat.

Queueing functions add and flush (the caller commits, webapp/extensions.py); the
claim and the records of each attempt are the worker's own transactions.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from webapp.db_types import now_utc
from webapp.domain.terms import DeliveryAnswer
from webapp.domain.terms import DeliveryStatus as Status
from webapp.domain.terms import MessageChannel as ChannelName
from webapp.extensions import db
from webapp.models import DeliveryAttempt, OutboxMessage, Receipt
from webapp.outbox.channels import (
    Channel,
    Delivered,
    DeliveryProblem,
    NotConfigured,
    Retry,
    ShownOnPage,
    Undeliverable,
)
from webapp.receipts.service import printed_code

# The states a worker still sends from: never tried, or tried and to be tried again.
WAITING = (Status.QUEUED, Status.RETRYING)


def code_mark(delivery_key: str) -> str:
    """Return what a message holds in place of the receipt's code until it is sent."""
    return f"[code:{delivery_key[:12]}]"


def outgoing(message: OutboxMessage) -> OutboxMessage:
    """Return the message as it goes out: with the code printed on its receipt in place
    of the mark (a copy never added to the session, so the code is never stored)."""
    mark = code_mark(message.delivery_key)
    texts = {"subject": message.subject, "body": message.body, "html": message.html}
    if message.receipt_id is None or not any(mark in (t or "") for t in texts.values()):
        return message
    code = printed_code(db.session.get(Receipt, message.receipt_id))
    if code is None:
        raise Retry(DeliveryAnswer.UNEXPECTED, "the code could not be read from the receipt")
    copy = OutboxMessage(**{a.key: getattr(message, a.key)
                            for a in sa.inspect(OutboxMessage).column_attrs})
    for name, text in texts.items():
        setattr(copy, name, text.replace(mark, code) if text else text)
    return copy


def queue(message: OutboxMessage) -> OutboxMessage:
    """Add a message to the outbox, due now; the caller's commit stores it."""
    message.status = Status.QUEUED
    message.next_attempt_at = now_utc()
    db.session.add(message)
    return message


def channels(config) -> dict[str, Channel]:
    """Return the channel for each kind of message, as the settings choose them."""
    from webapp.outbox.mail import SmtpChannel
    from webapp.outbox.sms import SmscGateway
    from webapp.outbox.webhooks import WebhookChannel

    timeout = config["OUTBOX_SEND_SECONDS"]
    on_page = config["NAME"] in ("development", "testing")
    if config.get("SMSC_LOGIN"):
        sms = SmscGateway(config["SMSC_URL"], config["SMSC_LOGIN"], config.get("SMSC_PASSWORD")
                          or "", config.get("SMSC_SENDER"), timeout)
    else:
        sms = ShownOnPage("sms") if on_page else NotConfigured("sms", "SMSC_LOGIN")
    if config.get("MAIL_SERVER"):
        email = SmtpChannel()
    else:
        email = ShownOnPage("email") if on_page else NotConfigured("email", "MAIL_SERVER")
    return {ChannelName.SMS: sms, ChannelName.EMAIL: email,
            ChannelName.WEBHOOK: WebhookChannel(timeout)}


def shown_on_page() -> bool:
    """Tell whether some messages go to the outbox page instead of out (development)."""
    return any(isinstance(c, ShownOnPage) for c in channels(current_app.config).values())


@dataclass(frozen=True)
class Claim:
    message: OutboxMessage
    attempt: DeliveryAttempt


def claim(worker: str, batch: int, lease: timedelta) -> list[Claim]:
    """Take up to `batch` due messages for this worker until `lease` from now, and
    start an attempt for each; the caller commits at once, before sending."""
    now = now_utc()
    due = (
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.status.in_(WAITING),
            OutboxMessage.next_attempt_at <= now,
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    ids = db.session.scalars(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(due))
        .values(claimed_by=worker, claimed_until=now + lease,
                attempts=OutboxMessage.attempts + 1)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    if not ids:
        return []
    messages = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .execution_options(populate_existing=True)
    ).all()
    claims = [Claim(m, DeliveryAttempt(message_id=m.id, worker=worker, started_at=now))
              for m in messages]
    db.session.add_all([c.attempt for c in claims])
    db.session.flush()
    return claims


def attempt(channel: Channel, message: OutboxMessage) -> Delivered | DeliveryProblem:
    """Send the message through its channel; return what came back, never raise."""
    try:
        return channel.send(outgoing(message))
    except DeliveryProblem as problem:
        return problem
    except Exception as error:  # a bug or a library's surprise: try again later
        current_app.logger.exception("sending outbox message %s failed", message.id)
        return Retry(DeliveryAnswer.UNEXPECTED, type(error).__name__)


def retry_delay(attempts: int, config) -> float:
    """Return the seconds to wait after `attempts` failed tries: doubling from the
    first retry up to the cap, a little randomised so that retries spread out."""
    base, cap = config["OUTBOX_RETRY_SECONDS"], config["OUTBOX_RETRY_MAX_SECONDS"]
    return min(cap, base * 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.0)  # noqa: S311


def record(claimed: Claim, worker: str, result: Delivered | DeliveryProblem) -> str:
    """Record an attempt's result and move the message on (sent, retry later or failed),
    unless another worker took it over meanwhile; return the attempt's outcome."""
    config = current_app.config
    message, now = claimed.message, now_utc()
    kind, detail = result.kind, result.answer
    if isinstance(result, Delivered):
        outcome = "sent"
        values = {"status": Status.SENT, "sent_at": now, "provider_id": result.provider_id,
                  "last_error": None}
    elif isinstance(result, Undeliverable) or message.attempts >= config["OUTBOX_MAX_ATTEMPTS"]:
        outcome = "failed"
        values = {"status": Status.FAILED, "last_error": result.reason}
    else:
        outcome = "retry"
        delay = timedelta(seconds=retry_delay(message.attempts, config))
        values = {"status": Status.RETRYING, "next_attempt_at": now + delay,
                  "last_error": result.reason}
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id, OutboxMessage.claimed_by == worker)
        .values(claimed_by=None, claimed_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(DeliveryAttempt).where(DeliveryAttempt.id == claimed.attempt.id)
        .values(finished_at=now, outcome=outcome, kind=kind, detail=detail or None)
        .execution_options(synchronize_session=False)
    )
    return outcome


def messages_of(handover_id: int) -> list[OutboxMessage]:
    """Return every message about a handover, newest first, for support's page."""
    return list(db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.handover_id == handover_id,
                                       OutboxMessage.channel != ChannelName.WEBHOOK)
        .order_by(OutboxMessage.id.desc())
    ))

