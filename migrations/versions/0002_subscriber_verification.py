"""Subscriber verification: link, versions, answers, signatures, discrepancies.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MOMENTS = ("link_expires_at", "frozen_at", "subscriber_signed_at", "closed_at")


def upgrade():
    # Plain ADD COLUMN (no batch table copy): SQLite supports it, and unique
    # indexes instead of constraints keep it that way.
    op.add_column(
        "handovers",
        sa.Column("facts_version", sa.Integer(), nullable=False, server_default="1"),
    )
    op.add_column(
        "handovers", sa.Column("row_version", sa.Integer(), nullable=False, server_default="1")
    )
    op.add_column("handovers", sa.Column("technician_snapshot", sa.JSON(), nullable=True))
    op.add_column("handovers", sa.Column("link_nonce", sa.String(length=32), nullable=True))
    op.add_column("handovers", sa.Column("link_token_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "handovers", sa.Column("signing_submission", sa.String(length=64), nullable=True)
    )
    for column in MOMENTS:
        op.add_column("handovers", sa.Column(column, sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        op.f("ix_handovers_link_token_hash"), "handovers", ["link_token_hash"], unique=True
    )

    op.create_table(
        "checklist_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.String(length=500), nullable=True),
        sa.Column("stated", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"],
            name=op.f("fk_checklist_answers_handover_id_handovers"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checklist_answers")),
        sa.UniqueConstraint("handover_id", "item", name=op.f("uq_checklist_answers_handover_id")),
    )
    op.create_table(
        "signatures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("signer", sa.String(length=16), nullable=False),
        sa.Column("drawing", sa.JSON(), nullable=True),
        sa.Column("typed_name", sa.String(length=200), nullable=True),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"],
            name=op.f("fk_signatures_handover_id_handovers"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signatures")),
        # One signature per signer: a second signing cannot slip in beside the first.
        sa.UniqueConstraint("handover_id", "signer", name=op.f("uq_signatures_handover_id")),
    )
    op.create_table(
        "discrepancies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("recorded", sa.JSON(), nullable=False),
        sa.Column("stated", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["handover_id"], ["handovers.id"],
            name=op.f("fk_discrepancies_handover_id_handovers"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discrepancies")),
    )
    op.create_index(op.f("ix_discrepancies_handover_id"), "discrepancies", ["handover_id"])
    op.create_index(op.f("ix_discrepancies_status"), "discrepancies", ["status"])


def downgrade():
    op.drop_table("discrepancies")
    op.drop_table("signatures")
    op.drop_table("checklist_answers")
    op.drop_index(op.f("ix_handovers_link_token_hash"), table_name="handovers")
    with op.batch_alter_table("handovers") as batch:
        for column in (
            "closed_at", "subscriber_signed_at", "frozen_at", "signing_submission",
            "link_expires_at", "link_token_hash", "link_nonce", "technician_snapshot",
            "row_version", "facts_version",
        ):
            batch.drop_column(column)
