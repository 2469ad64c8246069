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

from webapp.domain.text import N_


class Item(StrEnum):
    """The keys of the core checklist items (the table is CORE_ITEMS, below)."""

    PORTAL_ACCESS = "portal_access"
    FULL_CONTRACT = "full_contract"
    TARIFF = "tariff"
    DISCOUNTS = "discounts"
    BILLING_METHOD = "billing_method"
    EQUIPMENT = "equipment"
    TECHNICIAN = "technician"


class Ask(StrEnum):
    """What a No asks the subscriber to say instead, besides a comment."""

    TARIFF = "tariff"  # the tariff and fee they were offered
    DISCOUNTS = "discounts"  # the discounts they were promised
    SERIALS = "serials"  # the serial numbers they actually received


# Parts of a handover that are not single facts, by the names items show them under.
PARTS = ("discounts", "equipment", "technician")


@dataclass(frozen=True)
class ChecklistItem:
    """One statement the subscriber confirms with Yes or No.

    `shows` names the recorded facts (or parts) the statement is about: the
    subscriber sees them, and a No stores them with the discrepancy. The
    statement may use them as %(name)s placeholders. `services` limits the item to
    handovers recording one of those services; empty means every handover.
    """

    key: str
    label: str
    statement: str
    shows: tuple[str, ...] = ()
    asks: Ask | None = None
    services: frozenset[str] = frozenset()

    def applies_to(self, services: Iterable[str]) -> bool:
        """Tell whether the item is asked of a handover recording these services."""
        return not self.services or not self.services.isdisjoint(services)


CORE_ITEMS = (
    ChecklistItem(
        Item.PORTAL_ACCESS, N_("Personal account access"),
        N_("I received the login and password for my personal account, and I could sign in."),
        shows=("portal_login",),
    ),
    ChecklistItem(
        Item.FULL_CONTRACT, N_("Copy of the contract"),
        N_("I received my copy of contract No. %(contract_number)s, %(contract_pages)d pages "
           "— the full contract, not only the settings sheet."),
        shows=("contract_number", "contract_pages"),
    ),
    ChecklistItem(
        Item.TARIFF, N_("Tariff"),
        N_("Tariff “%(tariff_name)s” at %(monthly_fee)s per month is what I was offered."),
        shows=("tariff_name", "monthly_fee"), asks=Ask.TARIFF,
    ),
    ChecklistItem(
        Item.DISCOUNTS, N_("Discounts"), N_("These are all the discounts I was promised."),
        shows=("discounts",), asks=Ask.DISCOUNTS,
    ),
    ChecklistItem(
        Item.BILLING_METHOD, N_("Billing method"), N_("The billing method was explained to me."),
        shows=("billing_method",),
    ),
    ChecklistItem(
        Item.EQUIPMENT, N_("Equipment"), N_("I received exactly this equipment."),
        shows=("equipment",), asks=Ask.SERIALS,
    ),
    ChecklistItem(
        Item.TECHNICIAN, N_("Installer"), N_("This is the person who did the installation."),
        shows=("technician",),
    ),
)


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


def plain(value: Any) -> Any:
    """Return a value as JSON keeps it: amounts as exact text, terms and rows as dicts."""
    if isinstance(value, DiscountTerms | TariffTerms):
        return value.as_dict()
    if isinstance(value, Decimal):
        return _exact(value)
    if isinstance(value, Mapping):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


@dataclass(frozen=True)
class Facts:
    """What the technician recorded, as the subscriber is asked to confirm it."""

    values: Mapping[str, Any]  # every declared fact, by name
    application_discounts: tuple[DiscountTerms, ...] = ()
    sales_discounts: tuple[DiscountTerms, ...] = ()
    equipment: tuple[Mapping[str, Any], ...] = ()  # rows: kind, model, serial, terms, fee
    technician: Mapping[str, str | None] = field(default_factory=dict)

    @property
    def tariff(self) -> TariffTerms:
        return TariffTerms(self.values["tariff_name"], self.values["monthly_fee"])

    @property
    def equipment_serials(self) -> tuple[str, ...]:
        return tuple(row["serial"] for row in self.equipment)

    @property
    def services(self) -> tuple[str, ...]:
        return tuple(self.values.get("services") or ())

    def value(self, name: str) -> Any:
        """Return a recorded fact, or one of the PARTS, by name."""
        parts = {
            "discounts": self.application_discounts,
            "equipment": self.equipment,
            "technician": self.technician,
        }
        return parts[name] if name in parts else self.values.get(name)

    def recorded(self, item: ChecklistItem) -> dict[str, Any]:
        """Return, as plain values, what was recorded for one checklist item."""
        return {name: plain(self.value(name)) for name in item.shows}


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
    item: str
    source: Source
    recorded: dict[str, Any]
    stated: dict[str, Any] = field(default_factory=dict)


def _stated(item: ChecklistItem, answer: Answer, facts: Facts) -> dict[str, Any]:
    stated: dict[str, Any] = {"answer": "no", "comment": answer.comment}
    if item.asks is Ask.TARIFF and answer.stated_tariff is not None:
        stated["tariff"] = answer.stated_tariff.as_dict()
        stated["same_as_recorded"] = answer.stated_tariff.matches(facts.tariff)
    elif item.asks is Ask.DISCOUNTS and answer.stated_discounts:
        stated["discounts"] = [d.as_dict() for d in answer.stated_discounts]
        stated["not_in_application"] = [
            d.as_dict() for d in unmatched(answer.stated_discounts, facts.application_discounts)
        ]
        stated["not_stated"] = [
            d.as_dict() for d in unmatched(facts.application_discounts, answer.stated_discounts)
        ]
    elif item.asks is Ask.SERIALS and answer.stated_serials:
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
            recorded={"discounts": plain(facts.application_discounts)},
            stated={
                "discounts": [d.as_dict() for d in facts.sales_discounts],
                "not_in_application": [d.as_dict() for d in missing],
                "not_promised": [d.as_dict() for d in extra],
            },
        )
    ]


def find_discrepancies(
    facts: Facts, answers: Mapping[str, Answer], items: Iterable[ChecklistItem]
) -> list[Discrepancy]:
    """Return every discrepancy: each No to one of the items, then sales' promises.

    A No is always a discrepancy, even when what the subscriber states turns out
    to match the record: they disagreed, and support should hear about it.
    """
    found = [
        Discrepancy(item.key, Source.SUBSCRIBER, facts.recorded(item), _stated(item, answer, facts))
        for item in items
        if (answer := answers.get(item.key)) is not None and not answer.confirmed
    ]
    return found + sales_discrepancies(facts)
