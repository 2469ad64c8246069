"""Database models: staff, handovers with their discounts and equipment, audit events."""

from __future__ import annotations

import secrets
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from functools import cache
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.db_types import Hundredths, UTCDateTime, now_utc
from webapp.domain.checklist import DiscountTerms, Facts
from webapp.domain.declared import FACTS, FACTS_BY_NAME
from webapp.domain.digest import sha256_hex
from webapp.domain.facts import EQUIPMENT_FIELDS
from webapp.domain.search import searchable_text
from webapp.domain.states import EDITABLE_STATUSES
from webapp.domain.terms import (
    BillingMethod,
    DiscountKind,
    DiscountSource,
    DiscrepancyStatus,
    EquipmentTerms,
    EquipmentType,
    HandoverStatus,
    Role,
)
from webapp.extensions import db

PUBLIC_ID_PATTERN = r"[A-Za-z0-9_-]{16}"


def new_delivery_key() -> str:
    """Return a message's delivery key: 32 hex characters, unique per message."""
    return secrets.token_hex(16)


def new_public_id() -> str:
    """Return an unguessable identifier for URLs (16 characters), so ids cannot be enumerated."""
    return secrets.token_urlsafe(12)


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    employee_id: Mapped[str | None] = mapped_column(String(32))
    contractor: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    handovers: Mapped[list[Handover]] = relationship(back_populates="technician")

    def get_id(self) -> str:
        """Return what the session remembers: the id, and a stamp of the password hash,
        so a new password ends every session made with the old one."""
        return f"{self.id}.{self.session_stamp}"

    @property
    def session_stamp(self) -> str:
        return sha256_hex(self.password_hash)[:16]

    def set_password(self, password: str) -> None:
        """Store a salted hash of the password, never the password itself."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """Tell whether the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def has_role(self, *roles: Role) -> bool:
        """Tell whether the user holds one of the roles."""
        return self.role in roles


class Handover(db.Model):
    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    order_number: Mapped[str] = mapped_column(String(32), index=True)
    account_number: Mapped[str] = mapped_column(String(20), index=True)
    contract_number: Mapped[str] = mapped_column(String(32), index=True)
    contract_pages: Mapped[int] = mapped_column(Integer)
    subscriber_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(16), index=True)  # E.164
    address: Mapped[str] = mapped_column(String(500))
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    tariff_name: Mapped[str] = mapped_column(String(100))
    monthly_fee: Mapped[Decimal] = mapped_column("monthly_fee_hundredths", Hundredths)
    billing_method: Mapped[str] = mapped_column(String(16), default=BillingMethod.CREDIT)
    # Only the login handed over: Handover has nowhere to keep a portal password.
    portal_login: Mapped[str | None] = mapped_column(String(64))
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Declared facts without a column of their own (webapp/domain/facts.py), as JSON.
    extra_facts: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, server_default=text("'{}'")
    )
    technician_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), default=HandoverStatus.DRAFT)
    # Bumped whenever the facts change; the subscriber confirms one version.
    facts_version: Mapped[int] = mapped_column(default=1)
    # Bumped by every write: an edit that loaded the row before someone else
    # changed it (the facts handed over, the subscriber signed) fails instead
    # of overwriting. Conditional state changes bump it too.
    row_version: Mapped[int] = mapped_column(default=1)
    # The technician's identity as it stood when the facts were handed over:
    # later changes to the staff account do not rewrite a signed handover.
    technician_snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The subscriber's link: its token is derived from the nonce with the app's
    # secret key, so the technician's page can show it again; only its hash is
    # stored to find the handover by.
    link_nonce: Mapped[str | None] = mapped_column(String(32))
    link_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signing_submission: Mapped[str | None] = mapped_column(String(64))
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    subscriber_signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The language the subscriber signed in: their receipt is written in it.
    subscriber_locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)
    # Name and address folded for loose matching; indexed by trigrams (pg_trgm on
    # PostgreSQL, an FTS5 table kept in step by triggers on SQLite, see migration 0004).
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Filled in by queries that ask for it (support's search results).
    discrepancy_count: Mapped[int] = query_expression()

    technician: Mapped[User] = relationship(back_populates="handovers")
    __mapper_args__ = {"version_id_col": row_version}
    discounts: Mapped[list[Discount]] = relationship(
        back_populates="handover",
        cascade="all, delete-orphan",
        order_by="Discount.position",
    )
    equipment: Mapped[list[EquipmentItem]] = relationship(
        back_populates="handover",
        cascade="all, delete-orphan",
        order_by="EquipmentItem.position",
    )
    answers: Mapped[list[ChecklistAnswer]] = relationship(
        cascade="all, delete-orphan", order_by="ChecklistAnswer.id"
    )
    signatures: Mapped[list[Signature]] = relationship(
        cascade="all, delete-orphan", order_by="Signature.id"
    )
    discrepancies: Mapped[list[Discrepancy]] = relationship(
        back_populates="handover", cascade="all, delete-orphan", order_by="Discrepancy.id"
    )
    receipt: Mapped[Receipt | None] = relationship(back_populates="handover")

    @property
    def is_editable(self) -> bool:
        """Tell whether the technician may still change the recorded facts."""
        return self.status in EDITABLE_STATUSES

    def discounts_from(self, source: DiscountSource) -> list[Discount]:
        """Return the discounts recorded from one source, in their order."""
        return [d for d in self.discounts if d.source == source]

    def fact(self, name: str) -> Any:
        """Return one declared fact, from its column or from `extra_facts`."""
        if name in _columns():
            return getattr(self, name)
        return FACTS_BY_NAME[name].from_plain((self.extra_facts or {}).get(name))

    def set_fact(self, name: str, value: Any) -> None:
        """Record one declared fact, in its column or in `extra_facts`."""
        if name in _columns():
            setattr(self, name, value)
        else:  # a new dict, so the JSON column sees the change
            self.extra_facts = {**(self.extra_facts or {}), name: FACTS_BY_NAME[name].plain(value)}

    def recorded_facts(self) -> dict[str, Any]:
        """Return every declared fact by name, in the declaration's order."""
        return {fact.name: self.fact(fact.name) for fact in FACTS}

    def as_facts(self) -> Facts:
        """Return the recorded facts as the domain compares and shows them."""

        def terms(source: DiscountSource) -> tuple[DiscountTerms, ...]:
            return tuple(d.as_terms() for d in self.discounts_from(source))

        return Facts(
            values=self.recorded_facts(),
            application_discounts=terms(DiscountSource.APPLICATION),
            sales_discounts=terms(DiscountSource.SALES),
            equipment=tuple(e.as_row() for e in self.equipment),
            technician=self.technician_identity,
        )

    @property
    def technician_identity(self) -> dict[str, str | None]:
        """Return who did the installation: frozen once handed over, live before."""
        if self.technician_snapshot:
            return self.technician_snapshot
        return {
            "name": self.technician.full_name,
            "employee_id": self.technician.employee_id,
            "contractor": self.technician.contractor,
        }

    def signature_of(self, signer: Signer) -> Signature | None:
        """Return the subscriber's or the technician's signature, if given."""
        return next((s for s in self.signatures if s.signer == signer), None)

    @property
    def receipt_number(self) -> str | None:
        return self.receipt.number if self.receipt else None


@event.listens_for(Handover, "before_insert")
@event.listens_for(Handover, "before_update")
def _keep_search_text(mapper, connection, handover: Handover) -> None:
    handover.search_text = searchable_text(handover.subscriber_name or "", handover.address or "")


@cache
def _columns() -> frozenset[str]:
    """Return the names of Handover's mapped columns (facts stored in their own)."""
    return frozenset(attribute.key for attribute in inspect(Handover).column_attrs)


def table_values(facts: dict[str, Any]) -> dict[str, Any]:
    """Return recorded facts as the handovers table holds them, for bulk inserts: each
    in its column (by the column's own name), the rest together in extra_facts."""
    mapper = inspect(Handover)
    row: dict[str, Any] = {"extra_facts": {}}
    for name, value in facts.items():
        if name in _columns():
            row[mapper.attrs[name].columns[0].name] = value
        else:
            row["extra_facts"][name] = FACTS_BY_NAME[name].plain(value)
    return row


def always_recorded(name: str) -> bool:
    """Tell whether every handover holds the fact: its own NOT NULL column. A fact kept
    in `extra_facts`, or declared after older handovers were made, may be missing."""
    if name not in _columns():
        return False
    return all(not column.nullable for column in inspect(Handover).attrs[name].columns)


class HandoverPart:
    """Columns of every row that is one of a handover's list items, kept in order."""

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(
        ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(default=0)


class Discount(HandoverPart, db.Model):
    __tablename__ = "discounts"

    source: Mapped[str] = mapped_column(String(16), default=DiscountSource.APPLICATION)
    description: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8), default=DiscountKind.PERCENT)
    # Percent (0 < x <= 100) or an amount of money, both exact to two places.
    value: Mapped[Decimal] = mapped_column("value_hundredths", Hundredths)
    months: Mapped[int | None] = mapped_column()  # None means permanent

    handover: Mapped[Handover] = relationship(back_populates="discounts")

    def as_terms(self) -> DiscountTerms:
        """Return the discount as the domain compares and describes it."""
        return DiscountTerms(self.kind, self.value, self.months, self.description)

    @classmethod
    def from_terms(cls, terms: DiscountTerms, source: DiscountSource, position: int) -> Discount:
        """Return a discount row for terms recorded from one source."""
        return cls(
            source=source, position=position, description=terms.description,
            kind=terms.kind, value=terms.value, months=terms.months,
        )


class EquipmentItem(HandoverPart, db.Model):
    __tablename__ = "equipment_items"

    kind: Mapped[str] = mapped_column(String(16), default=EquipmentType.ROUTER)
    model: Mapped[str] = mapped_column(String(100))
    serial: Mapped[str] = mapped_column(String(64))
    terms: Mapped[str] = mapped_column(String(8), default=EquipmentTerms.RENTED)
    monthly_fee: Mapped[Decimal] = mapped_column("monthly_fee_hundredths", Hundredths)

    handover: Mapped[Handover] = relationship(back_populates="equipment")

    def as_row(self) -> dict[str, Any]:
        """Return the item as plain values, as forms, pages and the receipt show it."""
        return {field.name: getattr(self, field.name) for field in EQUIPMENT_FIELDS}


class ChecklistAnswer(db.Model):
    """The subscriber's Yes or No to one checklist item, and what they said instead."""

    __tablename__ = "checklist_answers"
    __table_args__ = (UniqueConstraint("handover_id", "item"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(32))
    confirmed: Mapped[bool] = mapped_column()
    comment: Mapped[str | None] = mapped_column(String(500))
    stated: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Signer(StrEnum):
    SUBSCRIBER = "subscriber"
    TECHNICIAN = "technician"


class Signature(db.Model):
    """A drawn (vector strokes) or typed signature; one per signer and handover."""

    __tablename__ = "signatures"
    __table_args__ = (UniqueConstraint("handover_id", "signer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id", ondelete="CASCADE"))
    signer: Mapped[str] = mapped_column(String(16))
    drawing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    typed_name: Mapped[str | None] = mapped_column(String(200))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)


class Discrepancy(db.Model):
    """A mismatch between what is recorded and what was stated or promised."""

    __tablename__ = "discrepancies"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(
        ForeignKey("handovers.id", ondelete="CASCADE"), index=True
    )
    item: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(16))
    recorded: Mapped[dict[str, Any]] = mapped_column(JSON)
    stated: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=DiscrepancyStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    handover: Mapped[Handover] = relationship(back_populates="discrepancies")
    notes: Mapped[list[DiscrepancyNote]] = relationship(
        back_populates="discrepancy", order_by="DiscrepancyNote.id"
    )


class DiscrepancyNote(db.Model):
    """What support did about a discrepancy: the status it moved to and why."""

    __tablename__ = "discrepancy_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    discrepancy_id: Mapped[int] = mapped_column(
        ForeignKey("discrepancies.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    discrepancy: Mapped[Discrepancy] = relationship(back_populates="notes")
    author: Mapped[User] = relationship()


class Receipt(db.Model):
    """The signed PDF, stored byte for byte. Rows are never changed: database
    triggers refuse UPDATE and DELETE; a correction is a new receipt (of a new
    handover) that names the one it supersedes."""

    __tablename__ = "receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("handovers.id"), unique=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))  # of the printed verification code
    locale: Mapped[str] = mapped_column(String(5))
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    timestamped: Mapped[bool] = mapped_column(default=False)
    timestamp_problem: Mapped[str | None] = mapped_column(String(200))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"))

    handover: Mapped[Handover] = relationship(back_populates="receipt")


class AuditEvent(db.Model):
    """One thing that happened. Rows are append-only: database triggers, created
    by the initial migration, refuse UPDATE and DELETE."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    event: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()
    handover: Mapped[Handover | None] = relationship()


class ApiClient(db.Model):
    """A system allowed to call the JSON API (the order system, say). Only the
    SHA-256 of its bearer token is kept; the token is shown once, at creation."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where its events are POSTed (webapp/outbox/webhooks.py), and the secret they are
    # signed with. The secret is kept as is (an HMAC needs it), shown once when set.
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret: Mapped[str | None] = mapped_column(String(64))


class IdempotencyKey(db.Model):
    """The first response to a client's request with an Idempotency-Key, to give
    again when the same request comes with the same key."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("client_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column()
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)


class OutboxMessage(db.Model):
    """One message to deliver: an SMS, an e-mail or a webhook event. Written in the
    transaction of what it tells about; a worker sends it (webapp/outbox/)."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Sent with the message (Message-ID, the gateway's message id, the webhook's
    # delivery header), so a repeat after a lost answer is recognised as the same one.
    delivery_key: Mapped[str] = mapped_column(String(32), unique=True, default=new_delivery_key)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(32))
    handover_id: Mapped[int | None] = mapped_column(ForeignKey("handovers.id"), index=True)
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("receipts.id"))
    api_client_id: Mapped[int | None] = mapped_column(ForeignKey("api_clients.id"), index=True)
    recipient: Mapped[str | None] = mapped_column(String(320))  # phone, address; none for hooks
    locale: Mapped[str | None] = mapped_column(String(5))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    # queued, retrying (a try failed, another is due), sent or failed (DeliveryStatus).
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # A worker's claim: another worker may take the message over once it lapses
    # (the first one died mid-send), so nothing is lost and at most one repeat goes.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A resend: the agent who asked for it and why (also in the audit trail).
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    requested_by: Mapped[User | None] = relationship()
    api_client: Mapped[ApiClient | None] = relationship()
    attempt_log: Mapped[list[DeliveryAttempt]] = relationship(
        back_populates="message", order_by="DeliveryAttempt.id", cascade="all, delete-orphan"
    )


class DeliveryAttempt(db.Model):
    """One try at sending an outbox message: when, by which worker, and what came back.
    An attempt that never finished was cut short (the worker died mid-send)."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True
    )
    worker: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))  # sent, retry, failed
    kind: Mapped[str | None] = mapped_column(String(32))  # what the answer meant
    detail: Mapped[str | None] = mapped_column(String(500))  # the provider's own words

    message: Mapped[OutboxMessage] = relationship(back_populates="attempt_log")


def _check_search_keys() -> None:
    """Refuse a search key without its own column: support looks it up by an index."""
    missing = [fact.name for fact in FACTS if fact.search_key and fact.name not in _columns()]
    if missing:
        raise ValueError(f"search keys need a column of their own on Handover: {missing}")


_check_search_keys()
