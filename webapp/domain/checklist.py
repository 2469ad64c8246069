"""The checklist the subscriber answers, and how answers and promises become discrepancies.

Everything here is plain data: the web layer turns models and forms into these
values, and stores the discrepancies this module finds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Item(StrEnum):
    """Checklist items, in the order the subscriber sees them."""

    PORTAL_ACCESS = "portal_access"
    FULL_CONTRACT = "full_contract"
    TARIFF = "tariff"
    DISCOUNTS = "discounts"
    BILLING_METHOD = "billing_method"
    EQUIPMENT = "equipment"
    TECHNICIAN = "technician"
    CONSENT = "consent"


# Consent is a required tick, not a Yes/No question.
ANSWERED_ITEMS = tuple(item for item in Item if item is not Item.CONSENT)


class Source(StrEnum):
    """Who contradicts the recorded facts."""

    SUBSCRIBER = "subscriber"
    SALES = "sales"


def _exact(value: Decimal) -> str:
    """Write an exact amount for storage as JSON (a string, never a float)."""
    return f"{Decimal(value):.2f}"


def normalise_name(name: str) -> str:
    """Fold case and runs of spaces, so "Home  500" and "home 500" are one tariff."""
    return " ".join(name.casefold().split())


def normalise_serial(serial: str) -> str:
    return serial.strip().upper()


@dataclass(frozen=True)
class DiscountTerms:
    kind: str  # "percent" or "amount"
    value: Decimal
    months: int | None  # None: permanent
    description: str = ""

    def matches(self, other: DiscountTerms) -> bool:
        """Same kind, same exact value (10 equals 10.00) and same duration."""
        return (self.kind, Decimal(self.value), self.months) == (
            other.kind,
            Decimal(other.value),
            other.months,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "kind": self.kind,
            "value": _exact(self.value),
            "months": self.months,
        }


@dataclass(frozen=True)
class TariffTerms:
    name: str
    fee: Decimal | None  # None: the subscriber did not say what it cost

    def matches(self, other: TariffTerms) -> bool:
        """Same name, ignoring case and spacing, and the same fee as money.

        An unstated fee matches any fee: only what was said is compared.
        """
        same_fee = None in (self.fee, other.fee) or Decimal(self.fee) == Decimal(other.fee)
        return normalise_name(self.name) == normalise_name(other.name) and same_fee

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "fee": None if self.fee is None else _exact(self.fee)}


def unmatched(wanted: Iterable[DiscountTerms], offered: Iterable[DiscountTerms]):
    """Return the discounts in `wanted` that no discount in `offered` matches.

    Each offered discount can match one wanted discount only, so two identical
    promises need two identical discounts in the application.
    """
    remaining = list(offered)
    missing = []
    for discount in wanted:
        match = next((d for d in remaining if d.matches(discount)), None)
        if match is None:
            missing.append(discount)
        else:
            remaining.remove(match)
    return missing


def discounts_match(a: Iterable[DiscountTerms], b: Iterable[DiscountTerms]) -> bool:
    """Tell whether two lists hold the same discounts, in any order."""
    a, b = list(a), list(b)
    return len(a) == len(b) and not unmatched(a, b)


def serials_match(a: Iterable[str], b: Iterable[str]) -> bool:
    """Equipment matches when exactly the same serial numbers were handed over."""
    return sorted(map(normalise_serial, a)) == sorted(map(normalise_serial, b))


@dataclass(frozen=True)
class Facts:
    """What the technician recorded, as the subscriber is asked to confirm it."""

    portal_login: str | None
    contract_number: str
    contract_pages: int
    tariff: TariffTerms
    application_discounts: tuple[DiscountTerms, ...]
    sales_discounts: tuple[DiscountTerms, ...]
    billing_method: str
    equipment_serials: tuple[str, ...]
    technician: Mapping[str, str | None]

    def recorded(self, item: Item) -> Any:
        """Return, as plain values, what was recorded for one checklist item."""
        return {
            Item.PORTAL_ACCESS: {"login": self.portal_login},
            Item.FULL_CONTRACT: {"number": self.contract_number, "pages": self.contract_pages},
            Item.TARIFF: self.tariff.as_dict(),
            Item.DISCOUNTS: {"discounts": [d.as_dict() for d in self.application_discounts]},
            Item.BILLING_METHOD: {"method": self.billing_method},
            Item.EQUIPMENT: {"serials": list(self.equipment_serials)},
            Item.TECHNICIAN: dict(self.technician),
            Item.CONSENT: {},
        }[item]


@dataclass(frozen=True)
class Answer:
    """The subscriber's answer to one item, with what they say instead on a No."""

    confirmed: bool
    comment: str = ""
    stated_tariff: TariffTerms | None = None
    stated_discounts: tuple[DiscountTerms, ...] = ()
    stated_serials: tuple[str, ...] = ()


@dataclass(frozen=True)
class Discrepancy:
    item: Item
    source: Source
    recorded: dict[str, Any]
    stated: dict[str, Any] = field(default_factory=dict)


def _stated(item: Item, answer: Answer, facts: Facts) -> dict[str, Any]:
    stated: dict[str, Any] = {"answer": "no", "comment": answer.comment}
    if item is Item.TARIFF and answer.stated_tariff is not None:
        stated["tariff"] = answer.stated_tariff.as_dict()
        stated["same_as_recorded"] = answer.stated_tariff.matches(facts.tariff)
    elif item is Item.DISCOUNTS and answer.stated_discounts:
        stated["discounts"] = [d.as_dict() for d in answer.stated_discounts]
        stated["not_in_application"] = [
            d.as_dict() for d in unmatched(answer.stated_discounts, facts.application_discounts)
        ]
        stated["not_stated"] = [
            d.as_dict() for d in unmatched(facts.application_discounts, answer.stated_discounts)
        ]
    elif item is Item.EQUIPMENT and answer.stated_serials:
        stated["serials"] = list(answer.stated_serials)
        stated["same_as_recorded"] = serials_match(answer.stated_serials, facts.equipment_serials)
    return stated


def sales_discrepancies(facts: Facts) -> list[Discrepancy]:
    """Compare the discounts sales promised with those written in the application."""
    if not facts.sales_discounts or discounts_match(
        facts.sales_discounts, facts.application_discounts
    ):
        return []
    missing = unmatched(facts.sales_discounts, facts.application_discounts)
    extra = unmatched(facts.application_discounts, facts.sales_discounts)
    return [
        Discrepancy(
            item=Item.DISCOUNTS,
            source=Source.SALES,
            recorded=facts.recorded(Item.DISCOUNTS),
            stated={
                "discounts": [d.as_dict() for d in facts.sales_discounts],
                "not_in_application": [d.as_dict() for d in missing],
                "not_promised": [d.as_dict() for d in extra],
            },
        )
    ]


def find_discrepancies(facts: Facts, answers: Mapping[Item, Answer]) -> list[Discrepancy]:
    """Return every discrepancy: each No from the subscriber, then sales' promises.

    A No is always a discrepancy, even when what the subscriber states turns out
    to match the record: they disagreed, and support should hear about it.
    """
    found = [
        Discrepancy(item, Source.SUBSCRIBER, facts.recorded(item), _stated(item, answer, facts))
        for item in ANSWERED_ITEMS
        if (answer := answers.get(item)) is not None and not answer.confirmed
    ]
    return found + sales_discrepancies(facts)
