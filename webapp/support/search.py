"""Finding a handover by whatever the caller has: a number, a phone, a name or an address.

Numbers and phones are exact and use ordinary indexes. Names and addresses
match by trigrams: pg_trgm's word similarity and its GIN index on PostgreSQL;
on SQLite an FTS5 trigram table narrows the candidates and the same measure
ranks them (see `webapp.domain.search`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from webapp.domain.search import (
    SIMILARITY_THRESHOLD,
    Query,
    similarity,
    trigrams,
    trigrams_to_look_up,
)
from webapp.extensions import db
from webapp.models import ChecklistAnswer, Discrepancy, Handover, Receipt

# Search indexes the models cannot describe (migration 0004): the FTS5 tables on
# SQLite and the pg_trgm index on PostgreSQL. Alembic's comparison leaves them be.
SEARCH_INDEXES = ("handover_search", "ix_handovers_search_text_trgm")


def include_object(object_, name, type_, reflected, compare_to) -> bool:
    """Tell Alembic which reflected objects the models account for."""
    return not (reflected and name and name.startswith(SEARCH_INDEXES))


class How:
    """Which reading of the query found the results."""

    NOTHING = "nothing"  # no query and no filter: nothing is listed
    FILTERS = "filters"
    EXACT = "exact"
    SIMILAR = "similar"


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None  # created at or after
    until: datetime | None = None  # created before
    status: str | None = None
    technician_id: int | None = None
    with_discrepancies: bool | None = None
    unconfirmed: str | None = None  # a checklist item the subscriber answered No

    @property
    def any(self) -> bool:
        return any(getattr(self, f.name) is not None for f in fields(self))


@dataclass(frozen=True)
class Results:
    handovers: list[Handover]
    how: str
    page: int
    has_next: bool


def find(query: Query, filters: Filters, page: int, per_page: int) -> Results:
    """Return one page of handovers: exact matches newest first, else the most similar."""
    base = _filtered(filters)
    if query.is_empty:
        if not filters.any:
            return Results([], How.NOTHING, page, False)
        return _newest(base, How.FILTERS, page, per_page)
    exact = base.where(_exactly(query))
    if query.fuzzy and not db.session.scalar(sa.select(exact.exists())):
        return _similar(base, query.fuzzy, page, per_page)
    return _newest(exact, How.EXACT, page, per_page)


def _filtered(filters: Filters) -> sa.Select:
    query = sa.select(Handover)
    if filters.since is not None:
        query = query.where(Handover.created_at >= filters.since)
    if filters.until is not None:
        query = query.where(Handover.created_at < filters.until)
    if filters.status is not None:
        query = query.where(Handover.status == filters.status)
    if filters.technician_id is not None:
        query = query.where(Handover.technician_id == filters.technician_id)
    if filters.with_discrepancies is not None:
        has_any = sa.exists().where(Discrepancy.handover_id == Handover.id)
        query = query.where(has_any if filters.with_discrepancies else ~has_any)
    if filters.unconfirmed is not None:
        query = query.where(
            sa.exists().where(
                ChecklistAnswer.handover_id == Handover.id,
                ChecklistAnswer.item == filters.unconfirmed,
                ChecklistAnswer.confirmed.is_(False),
            )
        )
    return query


def _exactly(query: Query) -> sa.ColumnElement[bool]:
    numbers = query.identifiers
    by_receipt = sa.select(Receipt.handover_id).where(Receipt.number.in_(numbers))
    conditions = [
        Handover.account_number.in_(numbers),
        Handover.contract_number.in_(numbers),
        Handover.order_number.in_(numbers),
        Handover.id.in_(by_receipt),
    ]
    if query.phone:
        conditions.append(Handover.phone == query.phone)
    return sa.or_(*conditions)


# What a result row shows, loaded with the page rather than row by row.
SHOWN = (
    selectinload(Handover.receipt),
    selectinload(Handover.technician),
    selectinload(Handover.discrepancies),
)


def _page_of(query: sa.Select, how: str, page: int, per_page: int) -> Results:
    query = query.options(*SHOWN).offset((page - 1) * per_page).limit(per_page + 1)
    rows = db.session.scalars(query).all()
    return Results(list(rows[:per_page]), how, page, has_next=len(rows) > per_page)


def _newest(query: sa.Select, how: str, page: int, per_page: int) -> Results:
    query = query.order_by(Handover.created_at.desc(), Handover.id.desc())
    return _page_of(query, how, page, per_page)


def _similar(base: sa.Select, text: str, page: int, per_page: int) -> Results:
    if db.session.get_bind().dialect.name == "postgresql":
        return _similar_postgresql(base, text, page, per_page)
    return _similar_sqlite(base, text, page, per_page)


def _similar_postgresql(base: sa.Select, text: str, page: int, per_page: int) -> Results:
    # The threshold is a setting of pg_trgm; set_config(..., true) keeps it to this transaction.
    threshold = str(SIMILARITY_THRESHOLD)
    db.session.execute(
        sa.select(sa.func.set_config("pg_trgm.word_similarity_threshold", threshold, True))
    )
    score = sa.func.word_similarity(text, Handover.search_text)
    query = base.where(Handover.search_text.op("%>")(text)).order_by(
        score.desc(), Handover.created_at.desc(), Handover.id.desc()
    )
    return _page_of(query, How.SIMILAR, page, per_page)


VOCABULARY = sa.text("SELECT term, doc FROM handover_search_vocab WHERE term IN :terms").bindparams(
    sa.bindparam("terms", expanding=True)
)
MATCHING = sa.text("SELECT rowid FROM handover_search WHERE handover_search MATCH :match")


def _similar_sqlite(base: sa.Select, text: str, page: int, per_page: int) -> Results:
    wanted = trigrams(text)
    in_documents = dict(db.session.execute(VOCABULARY, {"terms": sorted(wanted)}).all())
    rarest_first = sorted(wanted, key=lambda gram: (in_documents.get(gram, 0), gram))
    look_up = [g for g in trigrams_to_look_up(wanted, rarest_first) if in_documents.get(g)]
    if not look_up:
        return Results([], How.SIMILAR, page, False)
    match = " OR ".join('"{}"'.format(gram.replace('"', '""')) for gram in look_up)
    ids = MATCHING.bindparams(match=match).columns(sa.column("rowid", sa.Integer)).subquery()
    candidates = db.session.execute(
        base.with_only_columns(Handover.id, Handover.search_text, Handover.created_at).where(
            Handover.id.in_(sa.select(ids.c.rowid))
        )
    ).all()
    scored = [(similarity(wanted, row.search_text), row.created_at, row.id) for row in candidates]
    ranked = sorted((s for s in scored if s[0] >= SIMILARITY_THRESHOLD), reverse=True)
    start = (page - 1) * per_page
    chosen = [row_id for _score, _created, row_id in ranked[start : start + per_page]]
    by_id = {
        h.id: h
        for h in db.session.scalars(
            sa.select(Handover).where(Handover.id.in_(chosen)).options(*SHOWN)
        )
    }
    has_next = len(ranked) > start + per_page
    return Results([by_id[i] for i in chosen], How.SIMILAR, page, has_next)
