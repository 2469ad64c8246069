"""The audit trail a receipt prints, read from the database in a bounded number of small
queries: repeated events are counted in SQL, never loaded row by row, so rendering a
receipt takes as long after a flood of link opens as before it.

Which kinds are counted and how many events are listed is `webapp.domain.trail`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from webapp.domain.trail import REPEATABLE, Tally, event_row, is_repeatable, listed_ends, trail
from webapp.extensions import db
from webapp.models import AuditEvent

# The closing's own events are not stored yet: they come after every stored one.
UNSTORED = 2**62

ONE_BY_ONE = AuditEvent.event.not_in(REPEATABLE)


def tallies(handover_id: int, *where) -> list[Tally]:
    """Count a handover's events per kind: how many, first and last, from how many
    addresses and devices (and the one address and device, for a kind seen once)."""
    query = (
        sa.select(
            AuditEvent.event, sa.func.count(), sa.func.min(AuditEvent.created_at),
            sa.func.max(AuditEvent.created_at), sa.func.count(sa.distinct(AuditEvent.ip)),
            sa.func.count(sa.distinct(AuditEvent.user_agent)), sa.func.min(AuditEvent.id),
            sa.func.max(AuditEvent.ip), sa.func.max(AuditEvent.user_agent),
        )
        .where(AuditEvent.handover_id == handover_id, *where)
        .group_by(AuditEvent.event)
    )
    return [Tally(*row) for row in db.session.execute(query)]


def listed(handover_id: int, *, limit: int | None = None, newest: bool = False):
    """Return the handover's events that are listed one by one, oldest (or newest) first,
    each with its place in the order."""
    query = (
        sa.select(AuditEvent.id, AuditEvent.event, AuditEvent.created_at, AuditEvent.ip,
                  AuditEvent.user_agent)
        .where(AuditEvent.handover_id == handover_id, ONE_BY_ONE)
        .order_by(AuditEvent.id.desc() if newest else AuditEvent.id)
        .limit(limit)
    )
    return [(row.id, event_row(row.event, row.created_at, row.ip, row.user_agent))
            for row in db.session.execute(query)]


def audit_rows(handover_id: int, unstored: Iterable[AuditEvent]) -> list[dict[str, Any]]:
    """Return the rows of the receipt's audit trail, as plain values: the stored events
    of the handover, then those not stored yet (the closing's own)."""
    counted = tallies(handover_id)
    ends = listed_ends(sum(t.count for t in counted if not is_repeatable(t.event)))
    if ends is None:
        rows, between = listed(handover_id), []
    else:
        head = listed(handover_id, limit=ends[0])
        tail = listed(handover_id, limit=ends[1], newest=True)
        between = tallies(handover_id, ONE_BY_ONE,
                          AuditEvent.id > head[-1][0], AuditEvent.id < tail[-1][0])
        rows = head + tail
    rows += [(UNSTORED + index, event_row(e.event, e.created_at, e.ip, e.user_agent))
             for index, e in enumerate(unstored)]
    return trail(rows, [*(t for t in counted if is_repeatable(t.event)), *between])
