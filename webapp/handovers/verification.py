"""The subscriber's verification: the link, freezing the facts, signing, closing.

Routes call these functions; the rules themselves (states, comparison) live in
webapp.domain and are used from here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update

from webapp import audit
from webapp.db_types import now_utc
from webapp.domain.checklist import (
    Answer,
    DiscountTerms,
    Facts,
    Item,
    TariffTerms,
    find_discrepancies,
)
from webapp.domain.signature import Drawing
from webapp.domain.states import Action, next_status
from webapp.domain.terms import DiscountSource, HandoverStatus
from webapp.extensions import db
from webapp.models import ChecklistAnswer, Discount, Discrepancy, Handover, Signature, Signer

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{24}$")
TOKEN_BYTES = 18  # 144 bits


def link_token(handover: Handover, secret_key: str) -> str:
    """Return the subscriber's link token: an HMAC of the handover's link nonce."""
    message = f"subscriber-link:{handover.id}:{handover.link_nonce}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_by_token(token: str) -> Handover | None:
    """Return the handover a well-formed token belongs to, whatever its state."""
    if not TOKEN_PATTERN.match(token):
        return None
    return db.session.scalar(
        db.select(Handover).where(Handover.link_token_hash == token_hash(token))
    )


def link_is_live(handover: Handover, now: datetime | None = None) -> bool:
    """Tell whether the subscriber's link may still be used to sign."""
    now = now or now_utc()
    return (
        handover.status == HandoverStatus.AWAITING_SUBSCRIBER
        and handover.link_expires_at is not None
        and handover.link_expires_at > now
    )


def freeze(handover: Handover, secret_key: str, ttl: timedelta) -> None:
    """Hand the facts to the subscriber: lock editing and (re)open the link.

    The same link keeps working across reopen/freeze, so a subscriber who has
    the page open sees that the facts changed rather than a dead link.
    """
    now = now_utc()
    handover.status = next_status(handover.status, Action.FREEZE)
    if handover.link_nonce is None or handover.link_expires_at <= now:
        handover.link_nonce = secrets.token_hex(16)
        handover.link_token_hash = token_hash(link_token(handover, secret_key))
    handover.link_expires_at = now + ttl
    handover.frozen_at = now
    audit.record(
        "handover.frozen", handover=handover, details={"facts_version": handover.facts_version}
    )


def reopen(handover: Handover) -> None:
    """Take the facts back to correct them; the subscriber must then confirm again."""
    handover.status = next_status(handover.status, Action.REOPEN)
    audit.record("handover.reopened", handover=handover)


def facts_of(handover: Handover) -> Facts:
    """Return the recorded facts as the domain compares them."""

    def terms(source: DiscountSource) -> tuple[DiscountTerms, ...]:
        return tuple(
            DiscountTerms(d.kind, d.value, d.months, d.description)
            for d in handover.discounts_from(source)
        )

    technician = handover.technician
    return Facts(
        portal_login=handover.portal_login,
        contract_number=handover.contract_number,
        contract_pages=handover.contract_pages,
        tariff=TariffTerms(handover.tariff_name, handover.monthly_fee),
        application_discounts=terms(DiscountSource.APPLICATION),
        sales_discounts=terms(DiscountSource.SALES),
        billing_method=handover.billing_method,
        equipment_serials=tuple(e.serial for e in handover.equipment),
        technician={
            "name": technician.full_name,
            "employee_id": technician.employee_id,
            "contractor": technician.contractor,
        },
    )


class Outcome(StrEnum):
    SIGNED = "signed"  # this submission signed the handover
    REPLAYED = "replayed"  # this very submission had already signed it (a retry)
    ALREADY_SIGNED = "already_signed"  # someone else's submission signed it first
    FACTS_CHANGED = "facts_changed"  # the technician changed the facts meanwhile
    CLOSED_LINK = "closed_link"  # the link expired or the facts are being edited


def _signature(signer: Signer, drawing: Drawing | None, typed_name: str | None) -> Signature:
    ip, user_agent = audit.request_origin()
    return Signature(
        signer=signer,
        drawing=drawing.as_dict() if drawing else None,
        typed_name=None if drawing else typed_name,
        ip=ip,
        user_agent=user_agent,
    )


def sign_as_subscriber(
    handover: Handover,
    *,
    facts_version: int,
    submission_id: str,
    answers: Mapping[Item, Answer],
    drawing: Drawing | None,
    typed_name: str | None,
) -> Outcome:
    """Record the subscriber's answers and signature exactly once.

    A conditional UPDATE moves the handover out of `awaiting_subscriber`; only
    the one submission whose UPDATE changes the row goes on to store anything,
    so two taps, two tabs or two phones cannot sign twice.
    """
    now = now_utc()
    signed = db.session.execute(
        update(Handover)
        .where(
            Handover.id == handover.id,
            Handover.status == HandoverStatus.AWAITING_SUBSCRIBER,
            Handover.facts_version == facts_version,
            Handover.link_expires_at > now,
        )
        .values(
            status=next_status(HandoverStatus.AWAITING_SUBSCRIBER, Action.SUBSCRIBER_SIGN),
            subscriber_signed_at=now,
            signing_submission=submission_id,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if signed.rowcount != 1:
        db.session.rollback()
        db.session.refresh(handover)
        return _why_not_signed(handover, facts_version, submission_id)

    db.session.refresh(handover)
    facts = facts_of(handover)
    for item, answer in answers.items():
        handover.answers.append(
            ChecklistAnswer(
                item=item,
                confirmed=answer.confirmed,
                comment=answer.comment or None,
                stated=_stated_values(answer),
            )
        )
    handover.discounts.extend(
        Discount(
            source=DiscountSource.SUBSCRIBER, position=position, description=d.description,
            kind=d.kind, value=d.value, months=d.months,
        )
        for position, d in enumerate(
            answers[Item.DISCOUNTS].stated_discounts if Item.DISCOUNTS in answers else ()
        )
    )
    handover.signatures.append(_signature(Signer.SUBSCRIBER, drawing, typed_name))
    found = find_discrepancies(facts, answers)
    handover.discrepancies.extend(
        Discrepancy(item=d.item, source=d.source, recorded=d.recorded, stated=d.stated)
        for d in found
    )
    audit.record(
        "subscriber.signed",
        handover=handover,
        details={"facts_version": facts_version, "discrepancies": len(found)},
    )
    db.session.commit()
    return Outcome.SIGNED


def _stated_values(answer: Answer) -> dict:
    stated = {}
    if answer.stated_tariff is not None:
        stated["tariff"] = answer.stated_tariff.as_dict()
    if answer.stated_serials:
        stated["serials"] = list(answer.stated_serials)
    return stated


def _why_not_signed(handover: Handover, facts_version: int, submission_id: str) -> Outcome:
    if handover.status in (HandoverStatus.SUBSCRIBER_SIGNED, HandoverStatus.CLOSED):
        if handover.signing_submission == submission_id:
            return Outcome.REPLAYED
        return Outcome.ALREADY_SIGNED
    if handover.facts_version != facts_version:
        return Outcome.FACTS_CHANGED
    return Outcome.CLOSED_LINK


def countersign_and_close(
    handover: Handover, drawing: Drawing | None, typed_name: str | None
) -> bool:
    """Add the technician's signature and close the job; False if it is not signed yet.

    Conditional like signing, so a double tap cannot close twice.
    """
    now = now_utc()
    closed = db.session.execute(
        update(Handover)
        .where(Handover.id == handover.id, Handover.status == HandoverStatus.SUBSCRIBER_SIGNED)
        .values(
            status=next_status(HandoverStatus.SUBSCRIBER_SIGNED, Action.CLOSE),
            closed_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if closed.rowcount != 1:
        db.session.rollback()
        return False
    db.session.refresh(handover)
    handover.signatures.append(_signature(Signer.TECHNICIAN, drawing, typed_name))
    audit.record("technician.countersigned", handover=handover)
    audit.record("handover.closed", handover=handover)
    db.session.commit()
    return True
