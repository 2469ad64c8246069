"""Recording a handover's facts: the one place that writes them to the models.

Like every service it adds and flushes nothing on its own: the view, API handler
or command that calls it commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from webapp.db_types import now_utc
from webapp.domain.checklist import DiscountTerms
from webapp.domain.declared import FACTS
from webapp.domain.terms import DiscountSource
from webapp.models import Discount, EquipmentItem, Handover


def recorded(handover: Handover) -> dict[str, Any]:
    """Return what the technician recorded: every fact, the application's discounts
    and the equipment, as plain values (what the form edits, and what is compared to
    tell what changed)."""
    return handover.recorded_facts() | {
        "discounts": [d.as_terms() for d in handover.discounts_from(DiscountSource.APPLICATION)],
        "equipment": [e.as_row() for e in handover.equipment],
    }


def record_facts(
    handover: Handover,
    facts: Mapping[str, Any],
    discounts: Iterable[DiscountTerms] = (),
    equipment: Iterable[Mapping[str, Any]] = (),
) -> list[str]:
    """Write the technician's facts onto the handover; return the names that changed.

    Only the discounts written in the application are replaced: those promised
    by sales or stated by the subscriber come from elsewhere and stay.
    """
    before = recorded(handover) if handover.id else {}
    for fact in FACTS:
        value = facts.get(fact.name, fact.default)
        handover.set_fact(fact.name, None if value == "" else value)  # "": none recorded
    kept = [d for d in handover.discounts if d.source != DiscountSource.APPLICATION]
    handover.discounts = kept + [
        Discount.from_terms(terms, DiscountSource.APPLICATION, position)
        for position, terms in enumerate(discounts)
    ]
    handover.equipment = [
        EquipmentItem(position=position, **row) for position, row in enumerate(equipment)
    ]
    after = recorded(handover)
    changed = sorted(name for name in after if before.get(name) != after[name])
    if changed and handover.id:
        # onupdate only notices the handover's own columns, not its rows; and a
        # subscriber who confirmed the previous version must look again.
        handover.updated_at = now_utc()
        handover.facts_version += 1
    return changed


def add_discounts(
    handover: Handover, source: DiscountSource, discounts: Iterable[DiscountTerms]
) -> None:
    """Add discounts from another source (sales' promises, the subscriber's statement)."""
    handover.discounts += [
        Discount.from_terms(terms, source, position) for position, terms in enumerate(discounts)
    ]
