"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from tests.conftest import add_user
from webapp import audit
from webapp.db_types import include_object
from webapp.extensions import db
from webapp.models import AuditEvent

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
