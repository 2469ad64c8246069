"""The steps of a handover: the subscriber's link, handing the facts over, taking them back,
signing once, countersigning and closing.

Routes call these functions; the rules themselves (states, comparison) live in
webapp.domain and are used from here.

Transactions (the rule in webapp/extensions.py): these functions add and flush,
never commit and never roll back. The caller commits once (the view, the CLI
command, the demo data) and rolls back when one of them raises.
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

import sqlalchemy as sa
from sqlalchemy import update

from webapp import audit
from webapp.db_types import now_utc
from webapp.domain.checklist import Answer, find_discrepancies
from webapp.domain.declared import items_for
from webapp.domain.digest import sha256_hex
from webapp.domain.signature import Drawing
from webapp.domain.states import (
    SIGNED_STATUSES,
    Action,
    TransitionRefused,
    allows,
    next_status,
    source_of,
)
from webapp.domain.terms import DiscountSource, HandoverStatus
from webapp.extensions import db
from webapp.handovers.service import add_discounts
from webapp.models import ChecklistAnswer, Discrepancy, Handover, Signature, Signer
from webapp.outbox import messages as outbox
from webapp.receipts.service import Closing, prepare_receipt

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{24}$")
TOKEN_BYTES = 18  # 144 bits


def link_token(handover: Handover, secret_key: str) -> str:
    """Return the subscriber's link token: an HMAC of the handover's link nonce."""
    return _token(handover.id, handover.link_nonce, secret_key)


def _token(handover_id: int, nonce: str, secret_key: str) -> str:
    message = f"subscriber-link:{handover_id}:{nonce}".encode()
    digest = hmac.new(secret_key.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode()


def token_hash(token: str) -> str:
    return sha256_hex(token)


def find_by_token(token: str) -> Handover | None:
    """Return the handover a well-formed token belongs to, whatever its state."""
    if not TOKEN_PATTERN.match(token):
        return None
    return db.session.scalar(
        sa.select(Handover).where(Handover.link_token_hash == token_hash(token))
    )


def link_is_live(handover: Handover, now: datetime | None = None) -> bool:
    """Tell whether the subscriber's link may still be used to sign."""
    now = now or now_utc()
    return (
        handover.status == HandoverStatus.AWAITING_SUBSCRIBER
        and handover.link_expires_at is not None
        and handover.link_expires_at > now
    )


def _move(handover: Handover, action: Action, *conditions, **values) -> bool:
    """Apply the action with one conditional UPDATE; False if the handover was not
    where the action starts (someone else moved it first) or a condition failed.

    Every change of state goes through here, so two requests racing for the same
    step (two taps, two phones, a reopen against a signing) cannot both win.
    Either way the handover is reloaded, so the caller sees where it stands now;
    the caller's session is left as it was (an UPDATE that matched no row changed
    nothing), for the caller to commit or roll back.
    """
    now = now_utc()
    source = source_of(action)
    moved = db.session.execute(
        update(Handover)
        .where(Handover.id == handover.id, Handover.status == source, *conditions)
        .values(
            status=next_status(source, action),
            updated_at=now,
            row_version=Handover.row_version + 1,
            **values,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(handover)
    return moved.rowcount == 1


def freeze(handover: Handover, secret_key: str, ttl: timedelta) -> None:
    """Hand the facts to the subscriber: lock editing and (re)open the link.

    The same link keeps working across reopen/freeze, so a subscriber who has
    the page open sees that the facts changed rather than a dead link.
    """
    now = now_utc()
    link = {}
    if handover.link_nonce is None or handover.link_expires_at <= now:
        nonce = secrets.token_hex(16)
        token = _token(handover.id, nonce, secret_key)
        link = {"link_nonce": nonce, "link_token_hash": token_hash(token)}
    technician = handover.technician
    moved = _move(
        handover,
        Action.FREEZE,
        link_expires_at=now + ttl,
        frozen_at=now,
        technician_snapshot={
            "name": technician.full_name,
            "employee_id": technician.employee_id,
            "contractor": technician.contractor,
        },
        **link,
    )
    if not moved:
        raise TransitionRefused(handover.status, Action.FREEZE)
    audit.record(
        "handover.frozen", handover=handover, details={"facts_version": handover.facts_version}
    )
    outbox.event("handover.handed_over", handover, {"facts_version": handover.facts_version})


def reopen(handover: Handover) -> None:
    """Take the facts back to correct them; the subscriber must then confirm again."""
    if not _move(handover, Action.REOPEN):
        raise TransitionRefused(handover.status, Action.REOPEN)
    audit.record("handover.reopened", handover=handover)


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
    answers: Mapping[str, Answer],
    drawing: Drawing | None,
    typed_name: str | None,
    locale: str | None = None,
) -> Outcome:
    """Record the subscriber's answers and signature exactly once; the caller commits.

    A conditional UPDATE moves the handover out of `awaiting_subscriber`; only
    the one submission whose UPDATE changes the row goes on to store anything,
    so two taps, two tabs or two phones cannot sign twice: the losers' UPDATE
    waits for the winner's commit, then matches no row.
    """
    signed = _move(
        handover,
        Action.SUBSCRIBER_SIGN,
        Handover.facts_version == facts_version,
        Handover.link_expires_at > now_utc(),
        subscriber_signed_at=now_utc(),
        signing_submission=submission_id,
        subscriber_locale=locale,
    )
    if not signed:
        return _why_not_signed(handover, facts_version, submission_id)

    facts = handover.as_facts()
    for item, answer in answers.items():
        handover.answers.append(
            ChecklistAnswer(
                item=item,
                confirmed=answer.confirmed,
                comment=answer.comment or None,
                stated=_stated_values(answer),
            )
        )
    add_discounts(handover, DiscountSource.SUBSCRIBER, (
        terms for answer in answers.values() for terms in answer.stated_discounts
    ))
    handover.signatures.append(_signature(Signer.SUBSCRIBER, drawing, typed_name))
    found = find_discrepancies(facts, answers, items_for(facts.services))
    handover.discrepancies.extend(
        Discrepancy(item=d.item, source=d.source, recorded=d.recorded, stated=d.stated)
        for d in found
    )
    audit.record(
        "subscriber.signed",
        handover=handover,
        details={"facts_version": facts_version, "discrepancies": len(found)},
    )
    db.session.flush()  # the events name the discrepancies by id
    outbox.event("handover.signed", handover, {"discrepancies": len(found)})
    for discrepancy in handover.discrepancies:
        outbox.event("discrepancy.found", handover, outbox.discrepancy_data(discrepancy))
    return Outcome.SIGNED


def _stated_values(answer: Answer) -> dict:
    stated = {}
    if answer.stated_tariff is not None:
        stated["tariff"] = answer.stated_tariff.as_dict()
    if answer.stated_serials:
        stated["serials"] = list(answer.stated_serials)
    return stated


def _why_not_signed(handover: Handover, facts_version: int, submission_id: str) -> Outcome:
    if handover.status in SIGNED_STATUSES:
        return Outcome.REPLAYED if is_retry(handover, submission_id) else Outcome.ALREADY_SIGNED
    if handover.facts_version != facts_version:
        return Outcome.FACTS_CHANGED
    return Outcome.CLOSED_LINK


def is_retry(handover: Handover, submission_id: str | None) -> bool:
    """Tell whether this submission is the one that signed (sent again after a lost reply)."""
    signing = handover.signing_submission
    return bool(
        signing and submission_id and submission_id.isascii()
        and hmac.compare_digest(submission_id, signing)
    )


def closing_of(handover: Handover, drawing: Drawing | None, typed_name: str | None) -> Closing:
    """What closing the job now adds: the technician's signature and the events, unsaved."""
    closed_at = now_utc()
    countersignature = _signature(Signer.TECHNICIAN, drawing, typed_name)
    countersignature.signed_at = closed_at
    return Closing(closed_at, countersignature, [
        audit.event("technician.countersigned", handover=handover),
        audit.event("handover.closed", handover=handover),
    ])


def countersign_and_close(
    handover: Handover, drawing: Drawing | None, typed_name: str | None
) -> bool:
    """Add the technician's signature, close the job and add its signed receipt, for
    the caller to commit as one transaction; False if the subscriber has not signed
    (or it is closed already), and then there is nothing to commit.

    The receipt is rendered and signed first: if that fails (ReceiptError), nothing
    is written. The closing itself is conditional like signing, so a double tap
    cannot close twice.
    """
    if not allows(handover.status, Action.CLOSE):
        return False
    closing = closing_of(handover, drawing, typed_name)
    receipt = prepare_receipt(handover, closing)
    if not _move(handover, Action.CLOSE, closed_at=closing.closed_at):
        return False
    handover.signatures.append(closing.countersignature)
    db.session.add_all([*closing.events, receipt])
    db.session.flush()  # the messages name the receipt by its id
    outbox.receipt_messages(handover, receipt)
    outbox.event("handover.closed", handover, {"receipt": {"number": receipt.number}})
    return True
