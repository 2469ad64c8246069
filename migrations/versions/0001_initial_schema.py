"""Initial schema: staff, handovers with discounts and equipment, append-only audit events.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Audit events are evidence: the database itself refuses to change or remove one.
APPEND_ONLY_SQLITE = [
    f"""CREATE TRIGGER audit_events_no_{action.lower()} BEFORE {action} ON audit_events
        BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"""
    for action in ("UPDATE", "DELETE")
]
APPEND_ONLY_POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'audit_events is append-only'; END $$""",
    """CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
       FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()""",
]


def utc_datetime():
    return sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("employee_id", sa.String(length=32), nullable=True),
        sa.Column("contractor", sa.String(length=200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", utc_datetime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("login", name=op.f("uq_users_login")),
    )
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("order_number", sa.String(length=32), nullable=False),
        sa.Column("account_number", sa.String(length=20), nullable=False),
        sa.Column("contract_number", sa.String(length=32), nullable=False),
        sa.Column("contract_pages", sa.Integer(), nullable=False),
        sa.Column("subscriber_name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=500), nullable=False),
        sa.Column("services", sa.JSON(), nullable=False),
        sa.Column("tariff_name", sa.String(length=100), nullable=False),
        sa.Column("monthly_fee_hundredths", sa.BigInteger(), nullable=False),
        sa.Column("billing_method", sa.String(length=16), nullable=False),
        sa.Column("portal_login", sa.String(length=64), nullable=True),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("technician_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("created_at", utc_datetime(), nullable=False),
        sa.Column("updated_at", utc_datetime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["technician_id"], ["users.id"], name=op.f("fk_handovers_technician_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handovers")),
        sa.UniqueConstraint("public_id", name=op.f("uq_handovers_public_id")),
    )
    for column in (
        "account_number", "contract_number", "created_at", "order_number", "phone",
        "technician_id",
    ):
        op.create_index(op.f(f"ix_handovers_{column}"), "handovers", [column])

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("created_at", utc_datetime(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_events_actor_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"], name=op.f("fk_audit_events_handover_id_handovers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    for column in ("actor_id", "created_at", "handover_id"):
        op.create_index(op.f(f"ix_audit_events_{column}"), "audit_events", [column])

    op.create_table(
        "discounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("value_hundredths", sa.BigInteger(), nullable=False),
        sa.Column("months", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"],
            name=op.f("fk_discounts_handover_id_handovers"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discounts")),
    )
    op.create_index(op.f("ix_discounts_handover_id"), "discounts", ["handover_id"])

    op.create_table(
        "equipment_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("terms", sa.String(length=8), nullable=False),
        sa.Column("monthly_fee_hundredths", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"],
            name=op.f("fk_equipment_items_handover_id_handovers"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_equipment_items")),
    )
    op.create_index(op.f("ix_equipment_items_handover_id"), "equipment_items", ["handover_id"])

    dialect = op.get_bind().dialect.name
    for statement in {"sqlite": APPEND_ONLY_SQLITE, "postgresql": APPEND_ONLY_POSTGRESQL}.get(
        dialect, []
    ):
        op.execute(statement)


def downgrade():
    op.drop_table("equipment_items")
    op.drop_table("discounts")
    op.drop_table("audit_events")  # its triggers go with it
    op.drop_table("handovers")
    op.drop_table("users")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
