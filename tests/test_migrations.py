"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import add_user, make_handover
from webapp import audit
from webapp.db_types import include_object
from webapp.extensions import db
from webapp.models import AuditEvent, Discrepancy

APP_TABLES = {"users", "handovers", "discounts", "equipment_items", "audit_events"}


def test_migrations_build_the_models_schema_from_empty(app):
    with app.app_context():
        downgrade(revision="base")
        assert not APP_TABLES & set(inspect(db.engine).get_table_names())

        upgrade()

        assert set(inspect(db.engine).get_table_names()) >= APP_TABLES
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": include_object}
            )
            assert compare_metadata(context, db.metadata) == []


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_events SET event = 'rewritten'", "DELETE FROM audit_events"],
)
def test_audit_events_cannot_be_changed_or_removed(app, statement):
    user = add_user(app, "tech")
    with app.app_context():
        audit.record("staff.signed_in", actor=db.session.get(type(user), user.id))
        db.session.commit()

        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()

        assert db.session.scalar(db.select(AuditEvent.event)) == "staff.signed_in"


# What discrepancies recorded under revision 0005, item by item.
RECORDED_BEFORE = {
    "portal_access": {"login": "lk-1"},
    "full_contract": {"number": "D-1", "pages": 10},
    "tariff": {"name": "Home 300", "fee": "500.00"},
    "discounts": {"discounts": []},
    "billing_method": {"method": "credit"},
    "equipment": {"serials": ["SN-1", "SN-2"]},
    "technician": {"name": "Ivan", "employee_id": "T-1", "contractor": "NetBuild"},
}


def recorded_by_item() -> dict:
    db.session.expire_all()
    return {d.item: d.recorded for d in db.session.scalars(db.select(Discrepancy))}


def test_discrepancies_recorded_before_are_named_by_the_facts_and_back_again(app):
    handover = make_handover(app, add_user(app, "tech"))
    with app.app_context():
        downgrade(revision="0005")
        db.session.add_all(
            Discrepancy(handover_id=handover.id, item=item, source="subscriber",
                        recorded=recorded, stated={})
            for item, recorded in RECORDED_BEFORE.items()
        )
        db.session.commit()

        upgrade()
        assert recorded_by_item() == {
            "portal_access": {"portal_login": "lk-1"},
            "full_contract": {"contract_number": "D-1", "contract_pages": 10},
            "tariff": {"tariff_name": "Home 300", "monthly_fee": "500.00"},
            "discounts": {"discounts": []},
            "billing_method": {"billing_method": "credit"},
            "equipment": {"equipment": [{"serial": "SN-1"}, {"serial": "SN-2"}]},
            "technician": {"technician": RECORDED_BEFORE["technician"]},
        }

        downgrade(revision="0005")
        assert recorded_by_item() == RECORDED_BEFORE
        db.session.rollback()
        upgrade()
