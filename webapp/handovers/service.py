"""Recording a handover's facts: the one place that writes them to the models."""

from __future__ import annotations

from typing import Any

from webapp.db_types import now_utc
from webapp.domain.terms import DiscountSource
from webapp.models import Discount, EquipmentItem, Handover

FACT_FIELDS = (
    "order_number",
    "account_number",
    "contract_number",
    "contract_pages",
    "subscriber_name",
    "phone",
    "address",
    "services",
    "tariff_name",
    "monthly_fee",
    "billing_method",
    "portal_login",
    "documents",
)


def form_data(handover: Handover) -> dict[str, Any]:
    """Return the handover's recorded facts in the shape the form takes."""
    data = {name: getattr(handover, name) for name in FACT_FIELDS}
    data["discounts"] = [
        {
            "description": d.description,
            "kind": d.kind,
            "value": d.value,
            "months": d.months,
            "permanent": d.months is None,
        }
        for d in handover.discounts_from(DiscountSource.APPLICATION)
    ]
    data["equipment"] = [
        {
            "kind": e.kind,
            "model": e.model,
            "serial": e.serial,
            "terms": e.terms,
            "monthly_fee": e.monthly_fee,
        }
        for e in handover.equipment
    ]
    return data


def record_facts(
    handover: Handover,
    facts: dict[str, Any],
    discounts: list[dict[str, Any]],
    equipment: list[dict[str, Any]],
) -> list[str]:
    """Write the technician's facts onto the handover; return the names that changed.

    Only the discounts written in the application are replaced: those promised
    by sales or stated by the subscriber come from elsewhere and stay.
    """
    before = form_data(handover) if handover.id else {}
    for name in FACT_FIELDS:
        setattr(handover, name, facts[name])
    handover.portal_login = facts["portal_login"] or None  # "" means none handed over
    kept = [d for d in handover.discounts if d.source != DiscountSource.APPLICATION]
    handover.discounts = kept + [
        Discount(
            source=DiscountSource.APPLICATION,
            position=position,
            description=row["description"],
            kind=row["kind"],
            value=row["value"],
            months=None if row["permanent"] else row["months"],
        )
        for position, row in enumerate(discounts)
    ]
    handover.equipment = [
        EquipmentItem(
            position=position,
            kind=row["kind"],
            model=row["model"],
            serial=row["serial"],
            terms=row["terms"],
            monthly_fee=row["monthly_fee"],
        )
        for position, row in enumerate(equipment)
    ]
    after = form_data(handover)
    changed = sorted(name for name in after if before.get(name) != after[name])
    if changed and handover.id:
        # onupdate only notices the handover's own columns, not its rows; and a
        # subscriber who confirmed the previous version must look again.
        handover.updated_at = now_utc()
        handover.facts_version += 1
    return changed
