"""Declared facts: a place for facts without a column of their own, and discrepancies
that name what they recorded by the facts' own names.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

discrepancies = sa.table(
    "discrepancies", sa.column("id", sa.Integer), sa.column("item", sa.String),
    sa.column("recorded", sa.JSON),
)

# What each item recorded before, under its old keys, and the fact names now.
RENAMED = {
    "portal_access": {"login": "portal_login"},
    "full_contract": {"number": "contract_number", "pages": "contract_pages"},
    "tariff": {"name": "tariff_name", "fee": "monthly_fee"},
    "billing_method": {"method": "billing_method"},
}


def renamed(item: str, recorded: dict) -> dict:
    """Return what a discrepancy recorded, keyed by the names the checklist shows now."""
    if item in RENAMED:
        return {RENAMED[item].get(key, key): value for key, value in recorded.items()}
    if item == "equipment" and "serials" in recorded:
        return {"equipment": [{"serial": serial} for serial in recorded["serials"]]}
    if item == "technician" and "technician" not in recorded:
        return {"technician": recorded}
    return recorded


def named_as_before(item: str, recorded: dict) -> dict:
    """Return what a discrepancy recorded under the keys revision 0005 reads."""
    if item in RENAMED:
        before = {new: old for old, new in RENAMED[item].items()}
        return {before.get(key, key): value for key, value in recorded.items()}
    if item == "equipment" and "equipment" in recorded:
        return {"serials": [row["serial"] for row in recorded["equipment"]]}
    if item == "technician" and "technician" in recorded:
        return recorded["technician"]
    return recorded


def rewrite_recorded(rewrite) -> None:
    connection = op.get_bind()
    for row in connection.execute(sa.select(discrepancies)).all():
        new = rewrite(row.item, row.recorded or {})
        if new != row.recorded:
            connection.execute(
                discrepancies.update().where(discrepancies.c.id == row.id).values(recorded=new)
            )


def upgrade():
    op.add_column(
        "handovers",
        sa.Column("extra_facts", sa.JSON(), nullable=False, server_default=sa.text("'{}'")),
    )
    rewrite_recorded(renamed)


def downgrade():
    rewrite_recorded(named_as_before)
    op.drop_column("handovers", "extra_facts")
