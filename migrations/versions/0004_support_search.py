"""Support workspace: trigram search over names and addresses, discrepancy notes.

PostgreSQL indexes the folded name and address with pg_trgm (a GIN index);
SQLite keeps an FTS5 `trigram` table in step with handovers through triggers.
A later migration that rebuilds `handovers` on SQLite (batch mode) drops these
triggers and must create them again.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from webapp.domain.search import searchable_text

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The folded text already has a space before and after each word, so a query
# can ask for a word's start (" лен") or end ("ина "): FTS5's trigram tokenizer
# indexes every three consecutive characters, spaces included.
SQLITE = [
    """CREATE VIRTUAL TABLE handover_search USING fts5(
           search_text, content='', tokenize='trigram')""",
    """CREATE TRIGGER handover_search_insert AFTER INSERT ON handovers BEGIN
          INSERT INTO handover_search(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
    """CREATE TRIGGER handover_search_delete AFTER DELETE ON handovers BEGIN
          INSERT INTO handover_search(handover_search, rowid, search_text)
          VALUES ('delete', old.id, old.search_text);
        END""",
    """CREATE TRIGGER handover_search_update AFTER UPDATE OF search_text ON handovers BEGIN
          INSERT INTO handover_search(handover_search, rowid, search_text)
          VALUES ('delete', old.id, old.search_text);
          INSERT INTO handover_search(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
]
POSTGRESQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    """CREATE INDEX ix_handovers_search_text_trgm ON handovers
       USING gin (search_text gin_trgm_ops)""",
]


def upgrade():
    op.add_column(
        "handovers", sa.Column("search_text", sa.Text(), server_default="", nullable=False)
    )
    handovers = sa.table(
        "handovers",
        sa.column("id", sa.Integer),
        sa.column("subscriber_name", sa.String),
        sa.column("address", sa.String),
        sa.column("search_text", sa.Text),
    )
    bind = op.get_bind()
    rows = bind.execute(sa.select(handovers.c.id, handovers.c.subscriber_name, handovers.c.address))
    for id_, name, address in rows.all():
        bind.execute(
            handovers.update()
            .where(handovers.c.id == id_)
            .values(search_text=searchable_text(name, address))
        )
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRESQL}.get(bind.dialect.name, []):
        op.execute(statement)
    if bind.dialect.name == "sqlite":
        op.execute("INSERT INTO handover_search(rowid, search_text) SELECT id, search_text FROM handovers")

    op.create_table(
        "discrepancy_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("discrepancy_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_discrepancy_notes_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["discrepancy_id"],
            ["discrepancies.id"],
            name=op.f("fk_discrepancy_notes_discrepancy_id_discrepancies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discrepancy_notes")),
    )
    op.create_index(
        op.f("ix_discrepancy_notes_discrepancy_id"), "discrepancy_notes", ["discrepancy_id"]
    )


def downgrade():
    op.drop_table("discrepancy_notes")
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER handover_search_{trigger}")
        op.execute("DROP TABLE handover_search")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP INDEX ix_handovers_search_text_trgm")
    with op.batch_alter_table("handovers") as batch:
        batch.drop_column("search_text")
