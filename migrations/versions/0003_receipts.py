"""Receipts: the signed PDF and its SHA-256, append-only; the subscriber's language.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# A receipt is evidence: the database refuses to change or remove one.
APPEND_ONLY_SQLITE = [
    f"""CREATE TRIGGER receipts_no_{action.lower()} BEFORE {action} ON receipts
        BEGIN SELECT RAISE(ABORT, 'receipts are never changed'); END"""
    for action in ("UPDATE", "DELETE")
]
APPEND_ONLY_POSTGRESQL = [
    """CREATE OR REPLACE FUNCTION receipts_append_only() RETURNS trigger
       LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'receipts are never changed'; END $$""",
    """CREATE TRIGGER receipts_append_only BEFORE UPDATE OR DELETE ON receipts
       FOR EACH ROW EXECUTE FUNCTION receipts_append_only()""",
]


def upgrade():
    op.add_column("handovers", sa.Column("subscriber_locale", sa.String(length=5), nullable=True))
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=5), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timestamped", sa.Boolean(), nullable=False),
        sa.Column("timestamp_problem", sa.String(length=200), nullable=True),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"], name=op.f("fk_receipts_handover_id_handovers")
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"], ["receipts.id"], name=op.f("fk_receipts_supersedes_id_receipts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("handover_id", name=op.f("uq_receipts_handover_id")),
        sa.UniqueConstraint("number", name=op.f("uq_receipts_number")),
        sa.UniqueConstraint("sha256", name=op.f("uq_receipts_sha256")),
    )
    statements = {"sqlite": APPEND_ONLY_SQLITE, "postgresql": APPEND_ONLY_POSTGRESQL}
    for statement in statements.get(op.get_bind().dialect.name, []):
        op.execute(statement)


def downgrade():
    op.drop_table("receipts")  # its triggers go with it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS receipts_append_only()")
    with op.batch_alter_table("handovers") as batch:
        batch.drop_column("subscriber_locale")
