"""/api/v1: the order system creates handovers and reads receipts."""

from __future__ import annotations

import http
import json
from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import g, request, url_for
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from webapp import audit
from webapp.api.auth import requires
from webapp.api.problems import PROBLEM_TYPE, ApiProblem
from webapp.api.schemas import (
    RECEIPT_FACTS,
    SEARCH_KEYS,
    HandoverIn,
    HandoverOut,
    Problem,
    ReceiptOut,
    ReceiptPage,
    ReceiptQuery,
)
from webapp.api.smorest import JsonParser
from webapp.api.webhooks import DeliveryPage, DeliveryQuery, deliveries_to, delivery_json
from webapp.db_types import now_utc
from webapp.domain.declared import FACTS
from webapp.domain.digest import sha256_hex
from webapp.domain.facts import Kind
from webapp.domain.terms import DiscountSource, Role
from webapp.extensions import db
from webapp.handovers.service import add_discounts, record_facts
from webapp.models import ApiClient, Handover, IdempotencyKey, Receipt, User
from webapp.receipts.downloads import get_receipt_or_404, send_receipt
from webapp.routing import one_page

bp = Blueprint("api", __name__, url_prefix="/api/v1", description="Handovers and receipts")
bp.ARGUMENTS_PARSER = JsonParser()

KEPT_FOR = timedelta(hours=48)  # at least the 24 h clients are promised


def idempotent(view):
    """Answer a repeated Idempotency-Key with the first response, creating nothing.

    The key is stored in the same transaction as what the request made, so two
    requests racing with one key cannot both succeed: the second fails on the
    key's unique index, and then gets the first one's response.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= 255 and key.isascii() and key.isprintable()):
            raise ApiProblem(400, _l("Idempotency-Key must be 1 to 255 printable ASCII "
                                     "characters."))
        digest = request_digest()
        if key is not None and (stored := _stored(key)) is not None:
            return _replay(stored, digest)
        try:
            response = view(*args, **kwargs)
        except HTTPException:
            # A twin request with this key may have finished meanwhile (and made
            # this order a duplicate): then its answer is this one's too.
            db.session.rollback()
            if key is not None and (stored := _stored(key)) is not None:
                return _replay(stored, digest)
            raise
        if key is not None:
            db.session.add(IdempotencyKey(
                client_id=g.api_client.id, key=key, request_hash=digest,
                status_code=response.status_code, body=response.get_json(),
            ))
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            stored = _stored(key) if key is not None else None
            if stored is None:
                raise
            return _replay(stored, digest)
        return response

    return wrapped


def request_digest() -> str:
    """Return a digest of the request body, the same for the same JSON however spaced."""
    try:
        body = json.dumps(request.get_json(silent=True), sort_keys=True, ensure_ascii=False)
    except RecursionError:
        body = None
    data = body.encode("utf-8", "surrogatepass") if body is not None else request.get_data()
    return sha256_hex(data)


def _stored(key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        sa.select(IdempotencyKey).where(
            IdempotencyKey.client_id == g.api_client.id, IdempotencyKey.key == key
        )
    )


def _replay(stored: IdempotencyKey, digest: str):
    if stored.request_hash != digest:
        raise ApiProblem(422, _l("This Idempotency-Key was used with a different request "
                                 "body."))
    return stored.body, stored.status_code, {"Idempotent-Replayed": "true"}


def technician_named(name: str) -> User:
    """Return the one active technician with this login or employee id."""
    found = db.session.scalars(
        sa.select(User).where(
            sa.or_(User.login == name, User.employee_id == name),
            User.role == Role.TECHNICIAN, User.active,
        )
    ).all()
    if len(found) != 1:
        detail = (_l("No active technician has this login or id.") if not found else
                  _l("Two technicians answer to this; name one by login."))
        raise ApiProblem(422, _l("No such technician."), errors=[
            {"pointer": "/technician", "detail": detail}
        ])
    return found[0]


def one_at_a_time(order_number: str) -> None:
    """Make requests creating a handover for one order wait for each other, so that
    the check for an existing one and the insert cannot interleave."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(
            sa.func.hashtext(f"handover-order:{order_number}")
        )))
    else:
        # SQLite has one writer at a time: writing first takes that lock now.
        db.session.execute(
            sa.update(ApiClient).where(ApiClient.id == g.api_client.id)
            .values(name=ApiClient.name)
        )


def by_client() -> dict[str, str]:
    """Return who an API event is by, for the audit trail."""
    return {"by": "api", "client": g.api_client.name}


def answers(*codes: int):
    """Document the problems an operation can answer with besides its success (and the
    422 its arguments bring): each status a component response with the Problem schema."""

    def decorate(view):
        for code in codes:
            view = bp.alt_response(code, response=http.HTTPStatus(code).name)(view)
        return view

    return decorate


def problem_doc(description: str) -> dict:
    """A documented problem response with its own description."""
    return {"description": description, "content": {PROBLEM_TYPE: {"schema": Problem}}}


def not_from_order() -> dict:
    """What a handover records, until the technician fills it in, for the facts the
    order system does not send: nothing ticked of a list, else the fact's default."""
    return {fact.name: [] if fact.kind is Kind.CHOICES else fact.default
            for fact in FACTS if not fact.from_order}


@bp.route("/handovers", methods=["POST"])
@requires("orders:write")
@idempotent
@bp.arguments(HandoverIn)
@bp.response(201, HandoverOut)
@bp.alt_response(409, schema=Problem, content_type=PROBLEM_TYPE,
                 description="A handover for this order number exists already: existing_id "
                             "is its id")
@answers(400, 401, 403, 413, 415, 429)
@bp.doc(operationId="createHandover", parameters=[{
    "in": "header", "name": "Idempotency-Key",
    "description": "Send the same key again to get the first response, creating nothing.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}], responses={201: {"links": {"GetHandover": {
    "operationId": "getHandover", "parameters": {"public_id": "$response.body#/id"},
    "description": "The handover just made",
}}}, 422: problem_doc(
    "The order breaks HandoverIn (errors point at each field); or its technician is no "
    "active technician, or two (the error points at /technician); or the Idempotency-Key "
    "was used with another body"
), 400: problem_doc(
    "The body is not JSON text (bad syntax, nested too deeply, a lone surrogate in a "
    "string), or the Idempotency-Key header is malformed"
)})
def create_handover(order):
    """Create a handover from an order, with the discounts sales promised.

    The body keeps to HandoverIn, which states every rule of its shape. Beyond the
    schema: the technician must be one active technician (else 422, its error at
    /technician), and an order number is handed over once (else 409).
    """
    technician = technician_named(order.pop("technician"))
    sales_discounts = order.pop("sales_discounts")
    one_at_a_time(order["order_number"])
    existing = db.session.scalar(
        sa.select(Handover.public_id).where(Handover.order_number == order["order_number"])
    )
    if existing:
        raise ApiProblem(409, _l("A handover for this order exists already."),
                         existing_id=existing)
    # Responses kept for replay hold personal data: none stays past its time.
    db.session.execute(
        sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < now_utc() - KEPT_FOR)
    )
    handover = Handover(technician=technician)
    db.session.add(handover)
    record_facts(handover, not_from_order() | order)
    add_discounts(handover, DiscountSource.SALES, sales_discounts)
    db.session.flush()
    audit.record("handover.created", handover=handover, details=by_client())
    return handover


@bp.route("/handovers/<public_id:public_id>")
@requires("orders:write")
@bp.response(200, HandoverOut)
@answers(401, 403, 404, 429)
@bp.doc(operationId="getHandover")
def get_handover(public_id: str):
    """Report a handover's status, its discrepancies, and its receipt number once signed."""
    handover = db.first_or_404(sa.select(Handover).where(Handover.public_id == public_id))
    audit.record_reads([handover], by_client())
    db.session.commit()
    return handover


def page_of(name: str, items: list, query: dict, has_next: bool) -> dict:
    """Return one page of a list as the API gives it: the items, this page, the next one."""
    return {name: items, "page": query["page"],
            "next_page": query["page"] + 1 if has_next else None}


def receipt_json(receipt: Receipt) -> dict:
    handover = receipt.handover
    return {
        "number": receipt.number, "issued_at": receipt.issued_at,
        "handover_id": handover.public_id,
        **{name: handover.fact(name) for name in RECEIPT_FACTS},
        "discrepancies": len(handover.discrepancies),
        "pdf": url_for("api.receipt_pdf", number=receipt.number, _external=True),
    }


@bp.route("/receipts")
@requires("receipts:read")
@bp.arguments(ReceiptQuery, location="query")
@bp.response(200, ReceiptPage)
@answers(401, 403, 429)
@bp.doc(operationId="listReceipts", responses={422: problem_doc(
    "A parameter breaks its schema, or is sent twice; errors point at each (/name)"
), 200: {"links": {
    "GetReceipt": {
        "operationId": "getReceipt",
        "parameters": {"number": "$response.body#/receipts/0/number"},
        "description": "The first receipt listed",
    },
    "GetReceiptPdf": {
        "operationId": "getReceiptPdf",
        "parameters": {"number": "$response.body#/receipts/0/number"},
        "description": "The first receipt listed, as its signed PDF",
    },
}}})
def list_receipts(query):
    """List receipts, newest first, a page at a time.

    Each search key given narrows the list to receipts whose handover records that
    account, contract or order number, or phone; with none, every receipt is listed.
    """
    conditions = [getattr(Handover, name) == query[name] for name in SEARCH_KEYS
                  if name in query]
    found = (
        sa.select(Receipt).join(Handover).where(*conditions)
        .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
    )
    receipts, has_next = one_page(found, query["page"], query["per_page"])
    audit.record_reads((r.handover for r in receipts), by_client())
    db.session.commit()
    return page_of("receipts", [receipt_json(r) for r in receipts], query, has_next)


@bp.route("/receipts/<receipt_number:number>")
@requires("receipts:read")
@bp.response(200, ReceiptOut)
@answers(401, 403, 404, 429)
@bp.doc(operationId="getReceipt")
def get_receipt(number: str):
    """Summarise a receipt."""
    receipt = get_receipt_or_404(number)
    audit.record_reads([receipt.handover], by_client())
    db.session.commit()
    return receipt_json(receipt)


@bp.route("/receipts/<receipt_number:number>.pdf")
@requires("receipts:read")
@bp.response(200, {"format": "binary", "type": "string"}, content_type="application/pdf")
@answers(401, 403, 404, 429)
@bp.doc(operationId="getReceiptPdf")
def receipt_pdf(number: str):
    """Give the signed PDF, byte for byte as stored."""
    receipt = get_receipt_or_404(number)
    audit.record("receipt.downloaded", handover=receipt.handover, details=by_client())
    db.session.commit()
    return send_receipt(receipt)



@bp.route("/webhook-deliveries")
@requires("orders:write")
@bp.arguments(DeliveryQuery, location="query")
@bp.response(200, DeliveryPage)
@answers(401, 403, 429)
@bp.doc(operationId="listWebhookDeliveries", responses={422: problem_doc(
    "A parameter breaks its schema (a status other than queued, retrying, sent or failed, "
    "a page out of range), or is sent twice; errors point at each (/name)"
), 200: {"links": {"GetHandover": {
    "operationId": "getHandover",
    "parameters": {"public_id": "$response.body#/deliveries/0/handover_id"},
    "description": "The handover the first delivery listed is about",
}}}})
def list_webhook_deliveries(query):
    """List the calling client's webhook deliveries, newest first, a page at a time.

    Each shows its state, every attempt with what the receiver answered, and the event
    as it was sent. Only the caller's own are listed; `status` narrows them to one state.
    The scope is orders:write, whose GET /handovers/{id} already shows all an event
    carries (a handover's status, its discrepancies, its receipt number).
    """
    found = deliveries_to(g.api_client.id, query.get("status"))
    messages, has_next = one_page(found, query["page"], query["per_page"])
    # An event carries a handover's discrepancies, personal data: reading it is a read.
    handover_ids = {m.handover_id for m in messages if m.handover_id is not None}
    if handover_ids:
        audit.record_reads(
            db.session.scalars(sa.select(Handover).where(Handover.id.in_(handover_ids))
                               .order_by(Handover.id)),
            by_client(),
        )
    deliveries = [delivery_json(m) for m in messages]
    db.session.commit()
    return page_of("deliveries", deliveries, query, has_next)
