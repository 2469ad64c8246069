"""/api/v1: the order system creates handovers and reads receipts."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from functools import wraps

import sqlalchemy as sa
from flask import g, request, url_for
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from webapp import audit
from webapp.api import bp
from webapp.api.auth import requires
from webapp.api.problems import PROBLEM_TYPE, ApiProblem, pointers
from webapp.api.schemas import (
    HandoverIn,
    HandoverOut,
    Problem,
    ReceiptOut,
    ReceiptPage,
    ReceiptQuery,
)
from webapp.db_types import now_utc
from webapp.domain.phone import PhoneError, normalise_phone
from webapp.domain.terms import DiscountSource, Role
from webapp.extensions import db
from webapp.handovers.forms import HandoverForm
from webapp.handovers.service import record_facts
from webapp.models import ApiClient, Discount, Handover, IdempotencyKey, Receipt, User
from webapp.receipts.routes import get_receipt_or_404, send_receipt
from webapp.routing import one_page

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
            raise ApiProblem(400, "Idempotency-Key must be 1 to 255 printable ASCII characters.")
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
    return hashlib.sha256(data).hexdigest()


def _stored(key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        sa.select(IdempotencyKey).where(
            IdempotencyKey.client_id == g.api_client.id, IdempotencyKey.key == key
        )
    )


def _replay(stored: IdempotencyKey, digest: str):
    if stored.request_hash != digest:
        raise ApiProblem(422, "This Idempotency-Key was used with a different request body.")
    return stored.body, stored.status_code, {"Idempotent-Replayed": "true"}


def facts_from(data: dict) -> tuple[dict, list[dict]]:
    """Check the order with the web form's own rules; return the facts and sales' discounts."""
    formdata = MultiDict({
        name: str(data[name]) for name in (
            "order_number", "account_number", "contract_number", "contract_pages",
            "subscriber_name", "phone", "address", "tariff_name", "monthly_fee",
            "billing_method",
        )
    })
    for service in data["services"]:
        formdata.add("services", service)
    for index, discount in enumerate(data["sales_discounts"]):
        row = f"discounts-{index}-"
        formdata.update({
            f"{row}description": discount["description"], f"{row}kind": discount["kind"],
            f"{row}value": str(discount["value"]),
            f"{row}months": "" if discount["months"] is None else str(discount["months"]),
        })
        if discount["months"] is None:
            formdata[f"{row}permanent"] = "y"
    form = HandoverForm(formdata=formdata, meta={"csrf": False})
    if not form.validate():
        errors = dict(form.errors)
        if "discounts" in errors:
            errors["sales_discounts"] = errors.pop("discounts")
        raise ApiProblem(422, "The order breaks the rules; see errors.", errors=pointers(errors))
    return form.facts(), form.discounts.filled()


def technician_named(name: str) -> User:
    """Return the one active technician with this login or employee id."""
    found = db.session.scalars(
        sa.select(User).where(
            sa.or_(User.login == name, User.employee_id == name),
            User.role == Role.TECHNICIAN, User.active,
        )
    ).all()
    if len(found) != 1:
        detail = ("No active technician has this login or id." if not found else
                  "Two technicians answer to this; name one by login.")
        raise ApiProblem(422, "No such technician.", errors=[
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


@bp.route("/handovers", methods=["POST"])
@requires("orders:write")
@idempotent
@bp.arguments(HandoverIn)
@bp.response(201, HandoverOut)
@bp.alt_response(409, schema=Problem, content_type=PROBLEM_TYPE,
                 description="A handover for this order number exists already")
@bp.doc(parameters=[{
    "in": "header", "name": "Idempotency-Key",
    "description": "Send the same key again to get the first response, creating nothing.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
}])
def create_handover(order):
    """Create a handover from an order, with the discounts sales promised."""
    facts, sales_discounts = facts_from(order)
    technician = technician_named(order["technician"])
    one_at_a_time(facts["order_number"])
    existing = db.session.scalar(
        sa.select(Handover.public_id).where(Handover.order_number == facts["order_number"])
    )
    if existing:
        raise ApiProblem(409, "A handover for this order exists already.", existing_id=existing)
    # Responses kept for replay hold personal data: none stays past its time.
    db.session.execute(
        sa.delete(IdempotencyKey).where(IdempotencyKey.created_at < now_utc() - KEPT_FOR)
    )
    handover = Handover(technician=technician)
    db.session.add(handover)
    record_facts(handover, facts, [], [])
    handover.discounts += [
        Discount(source=DiscountSource.SALES, position=position, description=row["description"],
                 kind=row["kind"], value=row["value"],
                 months=None if row["permanent"] else row["months"])
        for position, row in enumerate(sales_discounts)
    ]
    db.session.flush()
    audit.record("handover.created", handover=handover, details=by_client())
    return handover


@bp.route("/handovers/<public_id:public_id>")
@requires("orders:write")
@bp.response(200, HandoverOut)
def get_handover(public_id: str):
    """Report a handover's status, its discrepancies, and its receipt number once signed."""
    handover = db.first_or_404(sa.select(Handover).where(Handover.public_id == public_id))
    audit.record_reads([handover], by_client())
    return handover


def receipt_json(receipt: Receipt) -> dict:
    handover = receipt.handover
    return {
        "number": receipt.number, "issued_at": receipt.issued_at,
        "handover_id": handover.public_id, "order_number": handover.order_number,
        "account_number": handover.account_number,
        "contract_number": handover.contract_number,
        "subscriber_name": handover.subscriber_name, "phone": handover.phone,
        "discrepancies": len(handover.discrepancies),
        "pdf": url_for("api.receipt_pdf", number=receipt.number, _external=True),
    }


@bp.route("/receipts")
@requires("receipts:read")
@bp.arguments(ReceiptQuery, location="query")
@bp.response(200, ReceiptPage)
def list_receipts(query):
    """List receipts by account, contract or order number, or phone; newest first."""
    conditions = [
        getattr(Handover, name) == query[name]
        for name in ("account_number", "contract_number", "order_number") if name in query
    ]
    if "phone" in query:
        try:
            conditions.append(Handover.phone == normalise_phone(query["phone"]))
        except PhoneError:
            raise ApiProblem(422, "Not a phone number.", errors=[
                {"pointer": "/phone", "detail": "Not a valid phone number."}
            ]) from None
    if not conditions:
        raise ApiProblem(422, "Say what to look for: account_number, contract_number, "
                              "order_number or phone.")
    found = (
        sa.select(Receipt).join(Handover).where(*conditions)
        .order_by(Receipt.issued_at.desc(), Receipt.id.desc())
    )
    receipts, has_next = one_page(found, query["page"], query["per_page"])
    audit.record_reads((r.handover for r in receipts), by_client())
    return {
        "receipts": [receipt_json(r) for r in receipts], "page": query["page"],
        "next_page": query["page"] + 1 if has_next else None,
    }


@bp.route("/receipts/<number>")
@requires("receipts:read")
@bp.response(200, ReceiptOut)
def get_receipt(number: str):
    """Summarise a receipt."""
    receipt = get_receipt_or_404(number)
    audit.record_reads([receipt.handover], by_client())
    return receipt_json(receipt)


@bp.route("/receipts/<number>.pdf")
@requires("receipts:read")
@bp.response(200, {"format": "binary", "type": "string"}, content_type="application/pdf")
def receipt_pdf(number: str):
    """Give the signed PDF, byte for byte as stored."""
    receipt = get_receipt_or_404(number)
    audit.record("receipt.downloaded", handover=receipt.handover, details=by_client())
    db.session.commit()
    return send_receipt(receipt)

