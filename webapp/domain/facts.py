"""The facts a handover records, declared once.

Every surface is built from `FACTS` (see webapp/domain/declared.py for the list in
use): the technician's form and `record_facts`, the API's request and response
schemas, the subscriber's page, the receipt, the staff pages and the demo data.
A new fact is one `Fact(...)` here (and, when it needs its own column to be
searched or indexed, a model column and a migration); its texts go into the two
catalogs. Without a column it is kept in the handover's `extra_facts`.

Texts are message ids, marked with `N_` so the catalogs find them, and translated
where they are shown: this module stays free of Flask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from webapp.domain.email_address import MAX_LENGTH as MAX_EMAIL_LENGTH
from webapp.domain.money import MAX_AMOUNT
from webapp.domain.terms import (
    BillingMethod,
    DiscountKind,
    Document,
    EquipmentTerms,
    EquipmentType,
    Service,
)
from webapp.domain.text import N_


class Kind(StrEnum):
    """What sort of value a fact holds, which decides how it is typed, checked and shown."""

    TEXT = "text"
    WHOLE = "whole"  # a whole number
    MONEY = "money"  # an exact amount of roubles, Decimal with two places
    PHONE = "phone"  # typed as people dictate it, stored in E.164
    EMAIL = "email"  # an address in Latin letters, stored normalised (domain/email_address.py)
    CHOICE = "choice"  # one value of a vocabulary
    CHOICES = "choices"  # any values of a vocabulary


class Section(StrEnum):
    """Where a fact sits on the form, the staff pages and the receipt."""

    APPLICATION = "application"
    SUBSCRIBER = "subscriber"
    SERVICES = "services"
    HANDED_OVER = "handed_over"


SECTION_TITLES = {
    Section.APPLICATION: N_("Application"),
    Section.SUBSCRIBER: N_("Subscriber"),
    Section.SERVICES: N_("Services and tariff"),
    Section.HANDED_OVER: N_("Handed over"),
}

# Letters (Latin and Cyrillic), digits, "-" and "/": the shape of order and contract
# numbers. Spelled out, so the API's published pattern means the same in every client.
DOCUMENT_NUMBER = r"^[0-9A-Za-zА-Яа-яЁё/-]+$"
DOCUMENT_NUMBER_MESSAGE = N_("Use letters, digits, “-” and “/” only.")
WHOLE_RANGE = N_("Enter a whole number from %(min)d to %(max)d.")  # when a fact has none


@dataclass(frozen=True)
class Fact:
    """One recorded fact: its name, type, limits, label and where it is shown."""

    name: str
    label: str
    section: Section | None
    kind: Kind = Kind.TEXT
    required: bool = True
    max_length: int | None = None  # TEXT, PHONE and EMAIL, as typed
    pattern: str | None = None  # TEXT: the whole value must match
    pattern_message: str | None = None
    printable: bool = False  # TEXT: no white space other than plain spaces
    mobile: bool = False  # PHONE: a mobile number, as the receipt is sent to it by SMS
    minimum: int | Decimal | None = None  # WHOLE and MONEY
    maximum: int | Decimal | None = None
    range_message: str | None = None  # with %(min)s and %(max)s
    vocabulary: type[StrEnum] | None = None  # CHOICE and CHOICES
    default: Any = None
    required_message: str | None = None  # CHOICES: when none is ticked
    hint: str | None = None  # shown under the field on the form
    empty: str | None = None  # how "nothing recorded" reads
    inputs: tuple[tuple[str, Any], ...] = ()  # extra attributes of the form's input
    half: bool = False  # half the form's width, beside its neighbour
    from_order: bool = True  # the order system sends it through the API
    for_subscriber: bool = False  # on the subscriber's "your connection" card
    emphasised: bool = False  # shown in bold where it is listed
    search_key: bool = False  # support and the API find a job by it exactly (indexed)
    identifies: bool = False  # named wherever a receipt is summarised (the API's receipts)
    example: Any = None  # a valid value: demo data and the tests' defaults

    def plain(self, value: Any) -> Any:
        """Return the value as JSON keeps it: an amount as exact text, never a float."""
        if self.kind is Kind.MONEY and value is not None:
            return f"{Decimal(value):.2f}"
        return value

    def from_plain(self, value: Any) -> Any:
        """Return a value read back from JSON as the fact holds it."""
        if self.kind is Kind.MONEY and value is not None:
            return Decimal(value)
        return value


MAX_CONTRACT_PAGES = 200
MAX_DISCOUNTS = 10
MAX_EQUIPMENT = 20
MAX_MONTHS = 120

CORE_FACTS = (
    Fact(
        "order_number", N_("Order number"), Section.APPLICATION, max_length=32,
        pattern=DOCUMENT_NUMBER, pattern_message=DOCUMENT_NUMBER_MESSAGE, half=True,
        search_key=True, identifies=True, example="ORD-1/2026",
    ),
    Fact(
        "account_number", N_("Account number"), Section.APPLICATION, max_length=20,
        pattern=r"^[0-9]{5,20}$", pattern_message=N_("Use 5 to 20 digits."),
        inputs=(("inputmode", "numeric"),), half=True, for_subscriber=True, emphasised=True,
        search_key=True, identifies=True, example="1234567890",
    ),
    Fact(
        "contract_number", N_("Contract number"), Section.APPLICATION, max_length=32,
        pattern=DOCUMENT_NUMBER, pattern_message=DOCUMENT_NUMBER_MESSAGE, half=True,
        search_key=True, identifies=True, example="D-77/2026",
    ),
    Fact(
        "contract_pages", N_("Pages in the contract"), Section.APPLICATION, kind=Kind.WHOLE,
        minimum=1, maximum=MAX_CONTRACT_PAGES,
        range_message=N_("Enter from 1 to %(max)d pages."), half=True, example=12,
    ),
    Fact(
        "subscriber_name", N_("Subscriber's full name"), Section.SUBSCRIBER, max_length=200,
        for_subscriber=True, identifies=True, example="Анна Соколова",
    ),
    Fact(
        "phone", N_("Subscriber's phone"), Section.SUBSCRIBER, kind=Kind.PHONE, max_length=32,
        inputs=(("inputmode", "tel"), ("autocomplete", "off")), mobile=True, for_subscriber=True,
        search_key=True, identifies=True, example="+79123456789",
    ),
    Fact(
        "email", N_("Subscriber's e-mail"), Section.SUBSCRIBER, kind=Kind.EMAIL, required=False,
        max_length=MAX_EMAIL_LENGTH,
        # A text box, not type="email": browsers rewrite what is typed into that one
        # (a Cyrillic domain into xn--), and the person would not see what was refused.
        inputs=(("inputmode", "email"), ("autocomplete", "off"), ("autocapitalize", "none"),
                ("spellcheck", "false")),
        for_subscriber=True, example="anna.sokolova@example.ru",
    ),
    Fact(
        "address", N_("Service address"), Section.SUBSCRIBER, max_length=500,
        for_subscriber=True, example="г. Пермь, ул. Ленина, д. 5, кв. 12",
    ),
    Fact(
        "services", N_("Services"), Section.SERVICES, kind=Kind.CHOICES, vocabulary=Service,
        required_message=N_("Choose at least one service."), for_subscriber=True,
        example=[Service.INTERNET.value, Service.TV.value],
    ),
    Fact(
        "tariff_name", N_("Tariff"), Section.SERVICES, max_length=100, half=True,
        example="Домашний 500",
    ),
    Fact(
        "monthly_fee", N_("Monthly fee"), Section.SERVICES, kind=Kind.MONEY, minimum=Decimal(0),
        maximum=MAX_AMOUNT, half=True, example=Decimal("650.00"),
    ),
    Fact(
        "billing_method", N_("Billing method"), Section.SERVICES, kind=Kind.CHOICE,
        vocabulary=BillingMethod, default=BillingMethod.CREDIT, example=BillingMethod.CREDIT.value,
    ),
    Fact(
        "portal_login", N_("Personal account login handed over"), Section.HANDED_OVER,
        required=False, max_length=64, printable=True, from_order=False,
        hint=N_("Only the login. Never type the password anywhere in Handover."),
        empty=N_("Not handed over"),
        inputs=(("autocomplete", "off"), ("autocapitalize", "none"), ("spellcheck", "false")),
        example="lk-1234567890",
    ),
    Fact(
        "documents", N_("Documents handed over"), Section.HANDED_OVER, kind=Kind.CHOICES,
        vocabulary=Document, required=False, from_order=False, empty=N_("None"),
        example=[Document.FULL_CONTRACT.value, Document.SETTINGS_SHEET.value],
    ),
)


# The rows of the two lists a handover records, declared the same way.
DISCOUNT_FIELDS = (
    Fact("description", N_("Description"), None, max_length=200, example="Скидка новому абоненту"),
    Fact(
        "kind", N_("Kind"), None, kind=Kind.CHOICE, vocabulary=DiscountKind,
        default=DiscountKind.PERCENT, half=True, example=DiscountKind.PERCENT.value,
    ),
    # Percent (more than 0, at most 100) or an amount: see discount_value_range.
    Fact("value", N_("Value"), None, kind=Kind.MONEY, half=True, example=Decimal("20.00")),
    Fact(
        "months", N_("For how many months"), None, kind=Kind.WHOLE, required=False,
        minimum=1, maximum=MAX_MONTHS, range_message=N_("Enter from 1 to %(max)d months."),
        inputs=(("inputmode", "numeric"),), example=6,
    ),
)
EQUIPMENT_FIELDS = (
    Fact(
        "kind", N_("Type"), None, kind=Kind.CHOICE, vocabulary=EquipmentType,
        default=EquipmentType.ROUTER, half=True, example=EquipmentType.ROUTER.value,
    ),
    Fact(
        "terms", N_("Terms"), None, kind=Kind.CHOICE, vocabulary=EquipmentTerms,
        default=EquipmentTerms.RENTED, half=True, example=EquipmentTerms.RENTED.value,
    ),
    Fact("model", N_("Model"), None, max_length=100, example="TP-Link Archer C6"),
    Fact(
        "serial", N_("Serial number"), None, max_length=64, pattern=r"^[A-Za-z0-9-]+$",
        pattern_message=N_("Use Latin letters, digits and “-” only."),
        inputs=(("autocapitalize", "characters"), ("spellcheck", "false")), half=True,
        example="TPL-22C6-00017",
    ),
    Fact(
        "monthly_fee", N_("Monthly fee"), None, kind=Kind.MONEY, minimum=Decimal(0),
        maximum=MAX_AMOUNT, half=True, example=Decimal("99.00"),
    ),
)


def discount_value_range(kind: str) -> tuple[Decimal, Decimal, bool]:
    """Return the lowest and highest value of a discount, and whether the lowest is
    excluded: a percentage is more than 0 and at most 100; an amount 0 to MAX_AMOUNT."""
    if kind == DiscountKind.PERCENT:
        return Decimal(0), Decimal(100), True
    return Decimal(0), MAX_AMOUNT, False


def by_name(facts: tuple[Fact, ...]) -> Mapping[str, Fact]:
    """Return the facts keyed by name, refusing a name declared twice."""
    found: dict[str, Fact] = {}
    for fact in facts:
        if fact.name in found:
            raise ValueError(f"the fact {fact.name!r} is declared twice")
        found[fact.name] = fact
    return found


def example_values(facts: tuple[Fact, ...]) -> dict[str, Any]:
    """Return a valid value of every fact: the demo's and the tests' starting point."""
    return {fact.name: fact.example for fact in facts}
