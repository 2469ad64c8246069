"""Webhooks: events POSTed to the URL an API client registered, signed with its secret.

The headers (documented in the OpenAPI document's webhooks section):

- `Handover-Delivery`: the delivery key, the same for every repeat of one event, so a
  receiver that already has it answers 2xx and does nothing;
- `Handover-Event`: the event's type, e.g. `handover.closed`;
- `Handover-Signature`: `t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the
  client's secret>`. A receiver recomputes it over the raw body and refuses a stale t.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from webapp.domain.terms import DeliveryAnswer
from webapp.extensions import db
from webapp.models import ApiClient, OutboxMessage
from webapp.outbox.channels import Delivered, Retry, Undeliverable, http_post

SIGNATURE_HEADER = "Handover-Signature"
DELIVERY_HEADER = "Handover-Delivery"
EVENT_HEADER = "Handover-Event"


def new_secret() -> str:
    """Return a new signing secret for a client's webhooks (shown once)."""
    return "whsec_" + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Return the Handover-Signature header's value for a body sent at `timestamp`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookChannel:
    name = "webhook"

    def __init__(self, timeout: float):
        self.timeout = timeout

    def send(self, message: OutboxMessage) -> Delivered:
        client = db.session.get(ApiClient, message.api_client_id)
        if client is None or client.revoked_at is not None or not client.webhook_url:
            raise Undeliverable(DeliveryAnswer.RECIPIENT_REFUSED, "no live client or address")
        body = message.body.encode()
        status, _answer = http_post(client.webhook_url, body, {
            "Content-Type": "application/json",
            DELIVERY_HEADER: message.delivery_key,
            EVENT_HEADER: message.purpose,
            SIGNATURE_HEADER: signature(client.webhook_secret, int(time.time()), body),
            "User-Agent": "Handover-Webhooks/1",
        }, self.timeout)
        if 200 <= status < 300:
            return Delivered(DeliveryAnswer.ACCEPTED, f"HTTP {status}")
        if status == 410:  # the receiver says: stop sending these
            raise Undeliverable(DeliveryAnswer.RECIPIENT_REFUSED, "HTTP 410")
        raise Retry(DeliveryAnswer.PROVIDER_ERROR, f"HTTP {status}")  # a redirect too
