"""Demo staff and handovers for development: created once, safe to run again."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app

from webapp import audit
from webapp.domain.checklist import Answer, DiscountTerms, Item
from webapp.domain.declared import FACTS, items_for
from webapp.domain.facts import example_values
from webapp.domain.terms import (
    BillingMethod,
    DiscountKind,
    EquipmentTerms,
    EquipmentType,
    HandoverStatus,
    Role,
)
from webapp.extensions import db
from webapp.handovers.service import record_facts
from webapp.handovers.workflow import countersign_and_close, freeze, sign_as_subscriber
from webapp.models import Handover, User
from webapp.staff import create_staff_user


@dataclass(frozen=True)
class DemoStaff:
    login: str
    password: str
    role: Role
    full_name: str
    employee_id: str | None = None
    contractor: str | None = None


DEMO_STAFF = (
    DemoStaff("tech", "tech-demo-pass", Role.TECHNICIAN, "Иван Петров", "T-1001", "СвязьМонтаж"),
    DemoStaff("tech2", "tech2-demo-pass", Role.TECHNICIAN, "Olga Smirnova", "T-1002", "NetBuild"),
    DemoStaff("support", "support-demo-pass", Role.SUPPORT, "Мария Кузнецова", "S-2001"),
    DemoStaff("admin", "admin-demo-pass", Role.ADMIN, "Admin Adminov", "A-3001"),
)

_ROUTER = {
    "kind": EquipmentType.ROUTER, "model": "TP-Link Archer C6", "serial": "TPL-22C6-00017",
    "terms": EquipmentTerms.RENTED, "monthly_fee": Decimal("99.00"),
}
_DISCOUNT = DiscountTerms(DiscountKind.PERCENT, Decimal("20.00"), 6, "Скидка новому абоненту")

DEMO_HANDOVERS = (
    ("tech", HandoverStatus.DRAFT, {
        "order_number": "ORD-2026-0001", "account_number": "100200300",
        "contract_number": "Д-77/2026", "subscriber_name": "Анна Соколова",
        "phone": "+79123456789", "email": "anna.sokolova@example.ru",
        "address": "г. Пермь, ул. Ленина, д. 5, кв. 12",
        "tariff_name": "Домашний 500", "monthly_fee": Decimal("650.00"),
        "billing_method": BillingMethod.CREDIT,
    }, [_DISCOUNT], [_ROUTER]),
    ("tech", HandoverStatus.AWAITING_SUBSCRIBER, {
        "order_number": "ORD-2026-0002", "account_number": "100200301",
        "contract_number": "Д-78/2026", "subscriber_name": "Pavel Orlov",
        "phone": "+79223334455", "email": "pavel.orlov@example.ru",
        "address": "Perm, Mira st. 10, apt. 3",
        "tariff_name": "Home 300 + TV", "monthly_fee": Decimal("890.50"),
        "billing_method": BillingMethod.ADVANCE,
    }, [], [_ROUTER | {"serial": "TPL-22C6-00018"}]),
    ("tech2", HandoverStatus.CLOSED, {
        "order_number": "ORD-2026-0003", "account_number": "100200302",
        "contract_number": "Д-79/2026", "subscriber_name": "Елена Волкова",
        "phone": "+79334445566", "email": None,  # gave none: the receipt goes by SMS only
        "address": "г. Пермь, ул. Сибирская, д. 1",
        "tariff_name": "Домашний 100", "monthly_fee": Decimal("450.00"),
        "billing_method": BillingMethod.CREDIT,
    }, [], []),
)


def _common_facts(login: str) -> dict:
    """Every declared fact's example, then what differs from job to job."""
    return example_values(FACTS) | {"portal_login": f"lk-{login}-demo"}


def create_demo_data() -> None:
    """Create whatever demo staff and handovers do not exist yet, then commit."""
    for staff in DEMO_STAFF:
        if not db.session.scalar(sa.select(User.id).where(User.login == staff.login)):
            create_staff_user(
                login=staff.login, full_name=staff.full_name, role=staff.role,
                password=staff.password, employee_id=staff.employee_id,
                contractor=staff.contractor,
            )
    db.session.flush()
    for login, status, facts, discounts, equipment in DEMO_HANDOVERS:
        exists = sa.select(Handover.id).where(Handover.order_number == facts["order_number"])
        if db.session.scalar(exists):
            continue
        technician = db.session.scalar(sa.select(User).where(User.login == login))
        handover = Handover(technician=technician)
        record_facts(handover, _common_facts(facts["account_number"]) | facts, discounts, equipment)
        db.session.add(handover)
        audit.record("handover.created", handover=handover, actor=technician,
                     details={"source": "demo"})
        db.session.commit()
        _bring_to(handover, status)


def _bring_to(handover: Handover, status: HandoverStatus) -> None:
    """Walk the handover through the real steps up to the demo state."""
    if status == HandoverStatus.DRAFT:
        return
    freeze(handover, current_app.config["SECRET_KEY"], current_app.config["SUBSCRIBER_LINK_TTL"])
    db.session.commit()
    if status == HandoverStatus.AWAITING_SUBSCRIBER:
        return
    answers = {item.key: Answer(confirmed=True) for item in items_for(handover.services)}
    answers[Item.DISCOUNTS] = Answer(
        confirmed=False,
        comment="Обещали скидку 50% на полгода",
        stated_discounts=(DiscountTerms("percent", Decimal("50"), 6, "Скидка от продавца"),),
    )
    sign_as_subscriber(
        handover, facts_version=handover.facts_version, submission_id=secrets.token_urlsafe(24),
        answers=answers, drawing=None, typed_name=handover.subscriber_name,
    )
    db.session.commit()
    if status == HandoverStatus.CLOSED:
        countersign_and_close(handover, None, handover.technician.full_name)
        db.session.commit()
