"""What the outbox says: the receipt's SMS and e-mail in the subscriber's language,
support's resends, and the events webhooks carry. Written when queued, so the worker
only sends (it needs no templates or request to do so).

The receipt's verification code is stored nowhere but printed on the receipt (the
database keeps its hash): a message holds a mark in its place, and the worker reads
the code from the stored receipt when it sends (webapp/outbox/service.py, `outgoing`)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale, gettext

from webapp.db_types import now_utc
from webapp.extensions import db
from webapp.models import (
    ApiClient,
    Discrepancy,
    Handover,
    OutboxMessage,
    Receipt,
    User,
    new_delivery_key,
)
from webapp.outbox.service import ChannelName, code_mark, queue
from webapp.routing import external_url

RECEIPT = "receipt"  # the purpose of the messages sent at closing
RESEND = "resend"  # support sent it again


def access_link(receipt: Receipt) -> str:
    """Return the short link on which the receipt opens with its code, on any device."""
    return external_url("receipts.access", number=receipt.number)


def sms_text(receipt: Receipt, code: str) -> str:
    """Return the receipt's SMS: the operator, the receipt number, its code and the link."""
    with force_locale(receipt.locale):
        return gettext(
            "%(operator)s: receipt %(number)s, code %(code)s. %(link)s",
            operator=current_app.config["OPERATOR_NAME"], number=receipt.number, code=code,
            link=access_link(receipt),
        )


def email_parts(receipt: Receipt, code: str) -> tuple[str, str, str]:
    """Return the receipt e-mail's subject, plain text and HTML, in the receipt's language."""
    # No name or account number: a message kept in the outbox copies no personal data
    # beyond its recipient (the receipt attached when it is sent holds them).
    values = {
        "operator": current_app.config["OPERATOR_NAME"], "receipt": receipt, "code": code,
        "link": access_link(receipt),
        "verify_link": external_url("receipts.verify"),
    }
    with force_locale(receipt.locale):
        subject = gettext("%(operator)s: installation receipt %(number)s",
                          operator=values["operator"], number=receipt.number)
        return (subject, render_template("outbox/receipt_email.txt", **values),
                render_template("outbox/receipt_email.html", **values))


def receipt_sms(receipt: Receipt, phone: str, purpose: str = RECEIPT) -> OutboxMessage:
    """Queue the receipt's SMS to a phone (E.164)."""
    key = new_delivery_key()
    return queue(OutboxMessage(
        channel=ChannelName.SMS, purpose=purpose, delivery_key=key,
        handover_id=receipt.handover_id, receipt_id=receipt.id, recipient=phone,
        locale=receipt.locale, body=sms_text(receipt, code_mark(key)),
    ))


def receipt_email(receipt: Receipt, address: str, purpose: str = RECEIPT) -> OutboxMessage:
    """Queue the receipt's e-mail, the signed PDF attached when it is sent."""
    key = new_delivery_key()
    subject, text, html = email_parts(receipt, code_mark(key))
    return queue(OutboxMessage(
        channel=ChannelName.EMAIL, purpose=purpose, delivery_key=key,
        handover_id=receipt.handover_id, receipt_id=receipt.id, recipient=address,
        locale=receipt.locale, subject=subject, body=text, html=html,
    ))


def receipt_messages(handover: Handover, receipt: Receipt) -> list[OutboxMessage]:
    """Queue what closing a job sends the subscriber: the SMS to the phone on file, and the
    e-mail when an address was given. The receipt must be flushed (it needs its id)."""
    messages = [receipt_sms(receipt, handover.phone)]
    if handover.fact("email"):
        messages.append(receipt_email(receipt, handover.fact("email")))
    return messages


def resend(
    receipt: Receipt, channel: ChannelName, recipient: str, *, agent: User, reason: str | None,
) -> OutboxMessage:
    """Queue the receipt again, to the number or address on file or one a caller gave."""
    send = receipt_sms if channel is ChannelName.SMS else receipt_email
    message = send(receipt, recipient, purpose=RESEND)
    message.requested_by = agent
    message.reason = reason or None
    return message


# Webhook events (documented in the OpenAPI document, webapp/api/webhooks.py).
EVENTS = (
    "handover.handed_over", "handover.signed", "handover.closed",
    "discrepancy.found", "discrepancy.resolved",
)


EVENTS_SCOPE = "orders:write"


def event(name: str, handover: Handover, data: dict[str, Any]) -> list[OutboxMessage]:
    """Queue one event for every API client with a webhook address; the caller commits."""
    assert name in EVENTS, name
    clients = db.session.scalars(
        sa.select(ApiClient).where(ApiClient.webhook_url.is_not(None),
                                   ApiClient.revoked_at.is_(None))
    ).all()
    messages = []
    # Events tell what GET /handovers/{id} does: only clients allowed that read get them.
    for client in (c for c in clients if EVENTS_SCOPE in c.scopes):
        key = new_delivery_key()
        body = {
            "id": key, "type": name, "created_at": now_utc().isoformat(),
            "handover": {"id": handover.public_id, "order_number": handover.order_number,
                         "status": handover.status},
            "data": data,
        }
        messages.append(queue(OutboxMessage(
            channel=ChannelName.WEBHOOK, purpose=name, delivery_key=key,
            handover_id=handover.id, api_client_id=client.id,
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=str),
        )))
    return messages


def discrepancy_data(discrepancy: Discrepancy) -> dict[str, Any]:
    """Return a discrepancy as events carry it: what was recorded and what was stated
    (a discount the subscriber says was promised arrives here as its terms)."""
    return {"discrepancy": {
        "id": discrepancy.id, "item": discrepancy.item, "source": discrepancy.source,
        "recorded": discrepancy.recorded, "stated": discrepancy.stated,
        "status": discrepancy.status,
    }}
