"""The events an API client's webhook receives (webapp/outbox/), as the OpenAPI 3.1
document's `webhooks` section states them, and the client's own list of deliveries
(GET /api/v1/webhook-deliveries).

The event schemas describe the bodies webapp.outbox.messages.event() writes; they
only document (nothing here loads an event), and tests/test_api_webhooks.py checks
bodies the outbox really queued against them. Every event type in EVENTS must have
one, or the app refuses to start.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from webapp.api.schemas import (
    MAX_PER_PAGE,
    QueryWhole,
    Strict,
    Text,
    between,
    enum_out,
    one_of,
)
from webapp.domain.checklist import Source
from webapp.domain.search import RECEIPT_NUMBER
from webapp.domain.terms import DeliveryAnswer, DeliveryStatus, DiscrepancyStatus, HandoverStatus
from webapp.domain.terms import MessageChannel as Channel
from webapp.models import PUBLIC_ID_PATTERN, OutboxMessage
from webapp.outbox.messages import EVENTS
from webapp.outbox.service import WAITING
from webapp.outbox.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER
from webapp.routing import MAX_PAGE

DELIVERY_KEY = r"^[0-9a-f]{32}$"  # webapp.models.new_delivery_key
SIGNATURE = r"^t=[0-9]+,v1=[0-9a-f]{64}$"


def single(value: str, description: str) -> fields.String:
    """Return a string field that is always this one value (an enum of one in the document)."""
    return fields.String(required=True, validate=validate.OneOf([value]),
                         metadata={"description": description})


# --- What each event carries ----------------------------------------------------------------


class EventHandover(Schema):
    id = fields.String(required=True, metadata={
        "pattern": f"^{PUBLIC_ID_PATTERN}$",
        "description": "The handover's id, as GET /api/v1/handovers/{public_id} takes it",
    })
    order_number = fields.String(required=True, metadata={
        "description": "The order number the handover was made for", "example": "ORD-2026-0077",
    })
    status = enum_out(HandoverStatus, required=True, metadata={
        "description": "The handover's status once the event happened"})


class EventReceipt(Schema):
    number = fields.String(required=True, metadata={
        "pattern": f"^{RECEIPT_NUMBER.pattern}$", "example": "HO-7K3M-Q9PX",
        "description": "The signed receipt's number: GET /api/v1/receipts/{number} (scope "
                       "receipts:read) summarises it, and …/{number}.pdf gives the PDF",
    })


def discrepancy_schema(name: str, status: DiscrepancyStatus, with_note: bool) -> type[Schema]:
    """Return the schema of a discrepancy as the events about it carry it."""
    found: dict[str, fields.Field] = {
        "id": fields.Integer(required=True, validate=validate.Range(min=1), metadata={
            "description": "The discrepancy's id: the same in its discrepancy.found and its "
                           "discrepancy.resolved event"}),
        "item": fields.String(required=True, metadata={
            "description": "The checklist item's key (portal_access, full_contract, tariff, "
                           "discounts, billing_method, equipment, technician, or one an "
                           "installation declares), as in HandoverOut's discrepancies",
            "example": "tariff"}),
        "source": enum_out(Source, required=True, metadata={
            "description": "Who contradicts the record: the subscriber (answered No), or "
                           "sales (promised discounts the application lacks)"}),
        "recorded": fields.Dict(required=True, metadata={
            "description": "What the handover records for the item, by the facts' own names "
                           "(amounts as text, \"650.00\")",
            "example": {"tariff_name": "Домашний 500", "monthly_fee": "650.00"}}),
        "stated": fields.Dict(required=True, metadata={
            "description": "What the subscriber said instead (answer, comment and, for some "
                           "items, the tariff, discounts or serials they name), or what sales "
                           "promised",
            "example": {"answer": "no", "comment": "Обещали 450 в месяц"}}),
        "status": enum_out([status], required=True, metadata={
            "description": f"Always {status.value} in this event"}),
    }
    if with_note:
        found["note"] = fields.String(required=True, metadata={
            "description": "Support's note on how it was resolved"})
    return Schema.from_dict(found, name=name)


FoundDiscrepancy = discrepancy_schema("FoundDiscrepancy", DiscrepancyStatus.OPEN, False)
ResolvedDiscrepancy = discrepancy_schema("ResolvedDiscrepancy", DiscrepancyStatus.RESOLVED, True)


class HandedOverData(Schema):
    facts_version = fields.Integer(required=True, validate=validate.Range(min=1), metadata={
        "description": "The version of the facts handed over; it goes up each time the "
                       "technician takes them back to correct them and hands them over again"})


class SignedData(Schema):
    discrepancies = fields.Integer(required=True, validate=validate.Range(min=0), metadata={
        "description": "How many discrepancies the signing found (each also comes as its own "
                       "discrepancy.found event)"})


class ClosedData(Schema):
    receipt = fields.Nested(EventReceipt, required=True)


class DiscrepancyFoundData(Schema):
    discrepancy = fields.Nested(FoundDiscrepancy, required=True)


class DiscrepancyResolvedData(Schema):
    discrepancy = fields.Nested(ResolvedDiscrepancy, required=True)


EXAMPLE_HANDOVER = {"id": "Vq3xK9mZp2LwR8tY", "order_number": "ORD-2026-0077"}
EXAMPLE_DISCREPANCY = {
    "id": 17, "item": "tariff", "source": "subscriber",
    "recorded": {"tariff_name": "Домашний 500", "monthly_fee": "650.00"},
    "stated": {"answer": "no", "comment": "Обещали 450 в месяц",
               "tariff": {"name": "Домашний 500", "fee": "450.00"}, "same_as_recorded": False},
}


class Event:
    """One event type: what it means, the data it carries, and an example of it."""

    def __init__(self, name: str, summary: str, data: type[Schema], status: HandoverStatus,
                 example: dict[str, Any]):
        self.name = name
        self.summary = summary
        self.data = data
        self.status = status
        self.example_data = example
        # handover.handed_over -> HandoverHandedOverEvent
        self.schema_name = "".join(word.title() for word in name.replace("_", ".").split("."))
        self.schema_name += "Event"

    def schema(self) -> type[Schema]:
        """Return the schema of this event's whole body."""
        return Schema.from_dict({
            "id": fields.String(required=True, metadata={
                "pattern": DELIVERY_KEY,
                "description": f"The delivery key, the same as the {DELIVERY_HEADER} header: "
                               "one per event and client, the same on every retry"}),
            "type": single(self.name, f"The event's type, the same as the {EVENT_HEADER} "
                                      "header"),
            "created_at": fields.DateTime(required=True, metadata={
                "description": "When the event happened (RFC 3339, UTC); retries keep it"}),
            "handover": fields.Nested(EventHandover, required=True, metadata={
                "description": "The handover the event is about"}),
            "data": fields.Nested(self.data, required=True, metadata={
                "description": "What this type of event tells"}),
        }, name=self.schema_name)

    def example(self) -> dict[str, Any]:
        """Return an example body of this event."""
        return {
            "id": "5f0c2a9e8b7d4c1f9a3e6b2d0c8f7a14", "type": self.name,
            "created_at": "2026-12-07T10:15:02.413207+00:00",
            "handover": {**EXAMPLE_HANDOVER, "status": self.status.value},
            "data": self.example_data,
        }


EVENT_TYPES = {event.name: event for event in (
    Event("handover.handed_over",
          "The technician handed the facts to the subscriber to check and sign (again, "
          "after a correction: facts_version goes up)",
          HandedOverData, HandoverStatus.AWAITING_SUBSCRIBER, {"facts_version": 1}),
    Event("handover.signed",
          "The subscriber signed; data.discrepancies counts the discrepancies found",
          SignedData, HandoverStatus.SUBSCRIBER_SIGNED, {"discrepancies": 1}),
    Event("handover.closed",
          "The technician countersigned, and the signed receipt is stored",
          ClosedData, HandoverStatus.CLOSED, {"receipt": {"number": "HO-7K3M-Q9PX"}}),
    Event("discrepancy.found",
          "Signing found a discrepancy: the subscriber answered No to an item, or sales "
          "promised discounts the application lacks",
          DiscrepancyFoundData, HandoverStatus.SUBSCRIBER_SIGNED,
          {"discrepancy": {**EXAMPLE_DISCREPANCY, "status": "open"}}),
    Event("discrepancy.resolved",
          "Support resolved a discrepancy, with a note on how",
          DiscrepancyResolvedData, HandoverStatus.CLOSED,
          {"discrepancy": {**EXAMPLE_DISCREPANCY, "status": "resolved",
                           "note": "Тариф пересчитан: 450 в месяц"}}),
)}
if set(EVENT_TYPES) != set(EVENTS):
    raise RuntimeError(f"document every webhook event: {sorted(set(EVENTS) ^ set(EVENT_TYPES))}")
EVENT_SCHEMAS = {name: event.schema() for name, event in EVENT_TYPES.items()}


# --- The webhooks section -------------------------------------------------------------------


def delivery_note(config) -> str:
    """Say how events are delivered and retried, with this installation's settings."""
    return (
        "Handover POSTs the event as JSON (UTF-8, `Content-Type: application/json`, "
        "`User-Agent: Handover-Webhooks/1`) to the address registered for the client with "
        "`flask --app wsgi api-clients webhook NAME URL`, which prints the signing secret "
        "once. Every client with an address and the `orders:write` scope (events say what "
        "GET /api/v1/handovers/{id} shows) gets every event.\n\n"
        f"Respond 2xx within {config['OUTBOX_SEND_SECONDS']:g} seconds. Anything else (another "
        "status, a redirect (never followed), no answer in time, no connection) and the "
        "delivery is retried "
        f"with exponential backoff until it gets one: after {config['OUTBOX_RETRY_SECONDS']:g} "
        f"s, the wait doubling up to {config['OUTBOX_RETRY_MAX_SECONDS']:g} s, for at most "
        f"{config['OUTBOX_MAX_ATTEMPTS']} attempts; then it is given up. {DELIVERY_HEADER} "
        "repeats on a retry (and, rarely, a delivery arrives twice), so drop a delivery you "
        "already have, answering 2xx all the same. Answer 410 Gone to stop a delivery: it "
        "is not retried (later events still come). Events may arrive out of order: the "
        "handover's status and created_at say which is newer.\n\n"
        "GET /api/v1/webhook-deliveries lists the client's deliveries, each with its "
        "attempts and what the receiver answered."
    )


def headers(event: Event) -> list[dict[str, Any]]:
    """Return the header parameters every delivery of this event carries."""
    return [
        {"in": "header", "name": DELIVERY_HEADER, "required": True,
         "description": "The delivery key: one per event and receiving client, the same on "
                        "every retry, and the same as the body's `id`. Keep the keys you "
                        "have taken, and drop a delivery whose key you already have.",
         "schema": {"type": "string", "pattern": DELIVERY_KEY}},
        {"in": "header", "name": EVENT_HEADER, "required": True,
         "description": "The event's type, the same as the body's `type`.",
         "schema": {"type": "string", "enum": [event.name]}},
        {"in": "header", "name": SIGNATURE_HEADER, "required": True,
         "description": (
             "`t=<unix time>,v1=<signature>`, made afresh for each attempt. The signature is "
             "the lowercase hex HMAC-SHA256, keyed with the client's signing secret (the "
             "whole `whsec_…` text, as UTF-8 bytes), of t, a full stop and the raw body "
             "exactly as received: `HMAC-SHA256(secret, \"<t>.<body>\")`. Recompute it "
             "before parsing the JSON and compare in constant time; refuse a t far from "
             "your clock (five minutes, say), which is a replay. A retry carries a new t "
             "and signature over the same body."),
         "schema": {"type": "string", "pattern": SIGNATURE}},
    ]


def webhook(event: Event, spec, note: str) -> dict[str, Any]:
    """Return the path item of one event's webhook: a POST of its body, with its headers."""
    return {"post": {
        "operationId": "on" + event.schema_name,
        "summary": event.summary,
        "description": note,
        "security": [],  # the signature, not a bearer token, vouches for the sender
        "parameters": headers(event),
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": spec.components.get_ref("schema", event.schema_name),
            "example": event.example(),
        }}},
        "responses": {
            "2XX": {"description": "Taken (or already taken: the same Handover-Delivery "
                                   "again). The body of the answer is ignored."},
            "410": {"description": "Stop: this delivery is given up, not retried."},
            "default": {"description": "Not taken: the delivery is retried with "
                                       "exponential backoff."},
        },
    }}


def document_webhooks(spec, config) -> None:
    """Add every event's schema to the document's components and its webhook to the
    `webhooks` section (OpenAPI 3.1)."""
    for name, schema in EVENT_SCHEMAS.items():
        spec.components.schema(EVENT_TYPES[name].schema_name, schema=schema)
    note = delivery_note(config)
    spec.options["webhooks"] = {name: webhook(event, spec, note)
                                for name, event in EVENT_TYPES.items()}


class EventBody(fields.Raw):
    """An event's body as it was sent (parsed JSON): oneOf the event schemas, told apart
    by `type` (see event_body_property)."""


def event_body_property(self, field, **kwargs) -> dict:
    """apispec: document EventBody as oneOf the event schemas, discriminated by `type`."""
    if not isinstance(field, EventBody):
        return {}
    refs = {name: self.resolve_nested_schema(schema) for name, schema in EVENT_SCHEMAS.items()}
    return {
        "oneOf": list(refs.values()),
        "discriminator": {
            "propertyName": "type",
            "mapping": {name: ref["$ref"] for name, ref in refs.items()},
        },
    }


# --- GET /api/v1/webhook-deliveries ---------------------------------------------------------

STATUSES = [status.value for status in DeliveryStatus]


def _delivery_query_fields() -> dict[str, fields.Field]:
    return {
        "status": Text(validate=one_of(STATUSES), metadata={
            "description": "Only deliveries in this state: queued (not tried yet), retrying "
                           "(tried and failed, to be tried again), sent, failed (given up)"}),
        "page": QueryWhole(load_default=1, validate=between(1, MAX_PAGE, None)),
        "per_page": QueryWhole(load_default=20, validate=between(1, MAX_PER_PAGE, None)),
    }


DeliveryQuery = Strict.from_dict(_delivery_query_fields(), name="DeliveryQuery")


class AttemptOut(Schema):
    started_at = fields.DateTime(required=True)
    finished_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "null while the attempt is under way, or if it was cut short (the "
                       "worker stopped mid-send; another tries again)"})
    outcome = fields.String(
        required=True, allow_none=True, validate=validate.OneOf(["sent", "retry", "failed"]),
        metadata={"description": "sent: the receiver took it; retry: it will be tried again; "
                                 "failed: given up. null while unfinished"})
    kind = enum_out(DeliveryAnswer, required=True, allow_none=True, metadata={
        "description": "What the answer meant: accepted (2xx); unreachable (no connection, "
                       "or no answer in time); provider_error (another status); "
                       "recipient_refused (410 Gone, or the client has no address now); "
                       "unexpected (a fault of ours). null while unfinished"})
    detail = fields.String(required=True, allow_none=True, metadata={
        "description": "What the receiver answered (its HTTP status), or why it could not be "
                       "reached, in its own words", "example": "HTTP 503"})


class DeliveryOut(Schema):
    id = fields.String(required=True, metadata={
        "pattern": DELIVERY_KEY,
        "description": f"The delivery key (the {DELIVERY_HEADER} header, the event's id)"})
    type = fields.String(required=True, validate=validate.OneOf(list(EVENTS)), metadata={
        "description": "The event's type"})
    handover_id = fields.String(required=True, metadata={
        "pattern": f"^{PUBLIC_ID_PATTERN}$", "description": "The handover the event is about"})
    status = enum_out(DeliveryStatus, required=True, metadata={
        "description": "queued: not tried yet; retrying: tried and failed, to be tried again; "
                       "sent: the receiver answered 2xx; failed: given up"})
    created_at = fields.DateTime(required=True, metadata={"description": "When it was queued"})
    sent_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "When the receiver took it; null until then"})
    next_attempt_at = fields.DateTime(required=True, allow_none=True, metadata={
        "description": "When the next try is due, while queued or retrying; null once sent "
                       "or given up"})
    attempts = fields.List(fields.Nested(AttemptOut), required=True, metadata={
        "description": "Every try, oldest first"})
    event = EventBody(required=True, metadata={
        "description": "The event's body, as it was sent (and is sent on a retry)"})


class DeliveryPage(Schema):
    deliveries = fields.List(fields.Nested(DeliveryOut), required=True)
    page = fields.Integer(required=True)
    next_page = fields.Integer(required=True, allow_none=True)


def deliveries_to(client_id: int, status: str | None = None) -> sa.Select:
    """Select the client's webhook messages, newest first, in one state if given."""
    conditions = [OutboxMessage.channel == Channel.WEBHOOK,
                  OutboxMessage.api_client_id == client_id]
    if status is not None:
        conditions.append(OutboxMessage.status == DeliveryStatus(status))
    return (
        sa.select(OutboxMessage).where(*conditions)
        .options(selectinload(OutboxMessage.attempt_log))
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )


def delivery_json(message: OutboxMessage) -> dict[str, Any]:
    """Return a webhook message as the deliveries list shows it."""
    event = json.loads(message.body)
    status = DeliveryStatus(message.status)
    waiting = status in WAITING
    return {
        "id": message.delivery_key, "type": message.purpose,
        "handover_id": event["handover"]["id"], "status": status,
        "created_at": message.created_at, "sent_at": message.sent_at,
        "next_attempt_at": message.next_attempt_at if waiting else None,
        "attempts": [
            {"started_at": a.started_at, "finished_at": a.finished_at, "outcome": a.outcome,
             "kind": a.kind, "detail": a.detail}
            for a in message.attempt_log
        ],
        "event": event,
    }
