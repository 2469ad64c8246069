"""Support's work on receipts: who opened them, working discrepancies, technicians' quality,
sending a receipt again.

Transactions (the rule in webapp/extensions.py): these functions add and flush,
never commit and never roll back; the view commits, and rolls back when one raises.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from webapp import audit
from webapp.domain.checklist import Item
from webapp.domain.states import discrepancy_may_move
from webapp.domain.terms import DiscrepancyStatus, HandoverStatus, MessageChannel, Role
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    ChecklistAnswer,
    Discrepancy,
    DiscrepancyNote,
    Handover,
    OutboxMessage,
    Receipt,
    User,
)
from webapp.outbox import messages as outbox
from webapp.receipts.service import printed_code
from webapp.routing import one_page

# Staff access to personal data that the law expects to be accountable.
ACCESS_EVENTS = ("receipt.viewed", "receipt.downloaded", "handover.viewed")


@dataclass(frozen=True)
class Access:
    who: User
    last: datetime
    times: int


def other_readers(handover: Handover, me: User) -> list[Access]:
    """Return the other staff who opened or downloaded the receipt, most recent first."""
    rows = db.session.execute(
        sa.select(AuditEvent.actor_id, sa.func.max(AuditEvent.created_at), sa.func.count())
        .where(
            AuditEvent.handover_id == handover.id,
            AuditEvent.event.in_(ACCESS_EVENTS),
            AuditEvent.actor_id != me.id,
        )
        .group_by(AuditEvent.actor_id)
        .order_by(sa.func.max(AuditEvent.created_at).desc())
    ).all()
    people = db.session.scalars(sa.select(User).where(User.id.in_([r[0] for r in rows])))
    users = {user.id: user for user in people}
    return [Access(users[actor_id], last, times) for actor_id, last, times in rows]


def trail(handover: Handover) -> list[AuditEvent]:
    """Return everything that happened to the handover, oldest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.handover_id == handover.id)
            .order_by(AuditEvent.created_at, AuditEvent.id)
        )
    )


class DiscrepancyRefused(Exception):
    """The discrepancy cannot be marked so from where it stands (maybe someone just did)."""


def work_on(discrepancy: Discrepancy, to: DiscrepancyStatus, note: str, author: User) -> None:
    """Mark the discrepancy contacted or resolved with a note, for the caller to
    commit; the receipt stays as signed.

    The status changes only if it is still what the agent saw, so two agents
    working the same discrepancy at once cannot both resolve it. Otherwise raise
    DiscrepancyRefused, having changed nothing (the caller rolls back all the same).
    """
    seen = discrepancy.status
    if not discrepancy_may_move(seen, to):
        raise DiscrepancyRefused(seen)
    moved = db.session.execute(
        sa.update(Discrepancy)
        .where(Discrepancy.id == discrepancy.id, Discrepancy.status == seen)
        .values(status=to)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        raise DiscrepancyRefused(seen)
    db.session.refresh(discrepancy)  # the UPDATE went around the ORM
    db.session.add(DiscrepancyNote(discrepancy=discrepancy, author=author, status=to, note=note))
    audit.record(
        f"discrepancy.{to}",
        handover=discrepancy.handover,
        details={"discrepancy": discrepancy.id, "item": discrepancy.item, "from": seen},
    )
    if to == DiscrepancyStatus.RESOLVED:
        data = outbox.discrepancy_data(discrepancy)
        data["discrepancy"]["note"] = note
        outbox.event("discrepancy.resolved", discrepancy.handover, data)


def open_discrepancies(page: int, per_page: int) -> tuple[list[Discrepancy], bool]:
    """Return one page of discrepancies not yet resolved, oldest first: they waited longest."""
    query = (
        sa.select(Discrepancy)
        .where(Discrepancy.status != DiscrepancyStatus.RESOLVED)
        .order_by(Discrepancy.created_at, Discrepancy.id)
    )
    return one_page(query, page, per_page)


# The checklist items whose No the quality page counts: the mission's two sore points.
WATCHED_ITEMS = (Item.PORTAL_ACCESS, Item.FULL_CONTRACT)


@dataclass
class Quality:
    technician: User
    handovers: int = 0
    with_discrepancies: int = 0
    unconfirmed: dict[str, int] | None = None
    most_frequent: str | None = None  # the checklist item most often in discrepancies

    def share(self, count: int) -> float:
        """Return the count as a share of the technician's receipts (0 without any)."""
        return count / self.handovers if self.handovers else 0.0

    @property
    def discrepancy_share(self) -> float:
        return self.share(self.with_discrepancies)

    def unconfirmed_share(self, item: str) -> float:
        return self.share((self.unconfirmed or {}).get(item, 0))


SORT_KEYS = {
    "name": lambda q: q.technician.full_name.casefold(),
    "handovers": lambda q: -q.handovers,
    "discrepancies": lambda q: -q.discrepancy_share,
    **{item.value: (lambda q, item=item: -q.unconfirmed_share(item)) for item in WATCHED_ITEMS},
}


def quality(since: datetime, until: datetime, sort: str = "discrepancies") -> list[Quality]:
    """Return each technician's figures over the receipts of jobs created in the period."""
    closed = (
        sa.select(Handover.id, Handover.technician_id)
        .where(
            Handover.status == HandoverStatus.CLOSED,
            Handover.created_at >= since,
            Handover.created_at < until,
        )
        .subquery()
    )
    figures = _technicians_with(_count(closed))
    for technician_id, count in _count(closed, join=Discrepancy, distinct=True).items():
        figures[technician_id].with_discrepancies = count
    for (technician_id, item), count in _said_no(closed).items():
        figures[technician_id].unconfirmed[item] = count
    for technician_id, item in _most_frequent_discrepancy(closed).items():
        figures[technician_id].most_frequent = item
    key = SORT_KEYS.get(sort, SORT_KEYS["discrepancies"])
    return sorted(figures.values(), key=lambda q: (key(q), q.technician.full_name.casefold()))


def _count(closed, join=None, distinct: bool = False) -> dict[int, int]:
    """Count the closed jobs per technician (those with a `join` row, if given)."""
    counted = sa.func.count(sa.distinct(closed.c.id)) if distinct else sa.func.count()
    query = sa.select(closed.c.technician_id, counted).group_by(closed.c.technician_id)
    if join is not None:
        query = query.join(join, join.handover_id == closed.c.id)
    return dict(db.session.execute(query).all())


def _technicians_with(counts: dict[int, int]) -> dict[int, Quality]:
    """Start the figures of every active technician, and of anyone who did a job in
    the period (since deactivated, say)."""
    people = db.session.scalars(
        sa.select(User).where(
            sa.or_(sa.and_(User.role == Role.TECHNICIAN, User.active), User.id.in_(counts))
        )
    )
    return {
        user.id: Quality(user, handovers=counts.get(user.id, 0), unconfirmed={}) for user in people
    }


def _said_no(closed) -> dict[tuple[int, str], int]:
    """Count, per technician and watched item, the jobs where the subscriber said No."""
    query = (
        sa.select(closed.c.technician_id, ChecklistAnswer.item, sa.func.count())
        .join(ChecklistAnswer, ChecklistAnswer.handover_id == closed.c.id)
        .where(ChecklistAnswer.item.in_(WATCHED_ITEMS), ChecklistAnswer.confirmed.is_(False))
        .group_by(closed.c.technician_id, ChecklistAnswer.item)
    )
    return {(technician, item): count for technician, item, count in db.session.execute(query)}


def _most_frequent_discrepancy(closed) -> dict[int, str]:
    """Return each technician's most frequent discrepancy item; ties go to the item
    first in the checklist, so the answer does not flicker."""
    query = (
        sa.select(closed.c.technician_id, Discrepancy.item, sa.func.count())
        .join(Discrepancy, Discrepancy.handover_id == closed.c.id)
        .group_by(closed.c.technician_id, Discrepancy.item)
    )
    by_technician: dict[int, Counter] = defaultdict(Counter)
    for technician_id, item, count in db.session.execute(query):
        by_technician[technician_id][item] = count
    order = {item: i for i, item in enumerate(Item)}
    return {
        technician_id: min(counts, key=lambda item: (-counts[item], order.get(item, len(order))))
        for technician_id, counts in by_technician.items()
    }


class ResendRefused(Exception):
    """The receipt's verification code could not be read from it, so nothing was queued."""


def send_again(
    receipt: Receipt, channel: MessageChannel, dictated: str | None, *, agent: User,
    reason: str | None,
) -> OutboxMessage:
    """Queue the receipt again by SMS or e-mail, to what is on file or to the number or
    address the caller dictated, and account for it (agent, reason) in the audit trail."""
    if printed_code(receipt) is None:  # the worker could not send it
        raise ResendRefused(receipt.number)
    handover = receipt.handover
    on_file = handover.phone if channel is MessageChannel.SMS else handover.fact("email")
    recipient = dictated or on_file
    if not recipient:
        raise ResendRefused(receipt.number)
    message = outbox.resend(receipt, channel, recipient, agent=agent, reason=reason)
    audit.record("receipt.resent", handover=handover, details={
        "receipt": receipt.number, "channel": channel,
        "to": "dictated" if dictated else "on file", "reason": reason or None,
    })
    return message
