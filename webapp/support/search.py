"""Finding a handover by whatever the caller has: a number, a phone, a name or an address.

Numbers and phones are exact and use ordinary indexes. Names and addresses
match by trigrams: pg_trgm's word similarity and its GIN index on PostgreSQL;
on SQLite an FTS5 trigram table, asked for each word by fragments that
survive a typo (see `webapp.domain.search.fragments`), ranked by bm25.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from webapp.domain.search import SIMILARITY_THRESHOLD, Query, fragments, similarity, trigrams
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
    # One indexed lookup per column, united: an OR across columns would make the
    # planner scan the whole table instead.
    numbers = query.identifiers
    lookups = [
        sa.select(Handover.id).where(column.in_(numbers))
        for column in (Handover.account_number, Handover.contract_number, Handover.order_number)
    ]
    lookups.append(sa.select(Receipt.handover_id).where(Receipt.number.in_(numbers)))
    if query.phone:
        lookups.append(sa.select(Handover.id).where(Handover.phone == query.phone))
    return Handover.id.in_(sa.union(*lookups))


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


def _phrase(text: str) -> str:
    return '"{}"'.format(text.replace('"', '""'))


def _matching(words: list[str], joiner: str, pieces) -> str:
    """Return an FTS5 query: each word by its pieces, the words joined by AND or OR."""
    return f" {joiner} ".join(
        "({})".format(" OR ".join(_phrase(piece) for piece in pieces(word))) for word in words
    )


def _whole(word: str) -> tuple[str, ...]:
    # The word itself, or the start of a longer one ("Ленин"); short ones whole.
    return (f"  {word} ",) if len(word) < 3 else (f"  {word}",)


# How many of FTS5's best candidates are ranked again by trigram similarity.
CANDIDATES = 200


def _similar_sqlite(base: sa.Select, text: str, page: int, per_page: int) -> Results:
    """Ask FTS5 for every word (each perhaps with a typo), failing that for any of
    them; rank its best candidates by the share of the query's trigrams they hold."""
    wanted = trigrams(text)
    words = text.split()
    enough = max(CANDIDATES, page * per_page + 1)
    # The words as typed first (the quickest to find); then allowing a typo in
    # each; then any of the words.
    attempts = [("AND", _whole), ("AND", fragments)]
    if len(words) > 1:
        attempts.append(("OR", fragments))
    for joiner, pieces in attempts:
        match = _matching(words, joiner, pieces)
        found = sa.select(
            sa.column("rowid", sa.Integer).label("id"), sa.column("rank").label("rank")
        ).select_from(sa.table("handover_search")).where(
            sa.text("handover_search MATCH :match").bindparams(match=match)
        ).subquery()
        candidates = db.session.execute(
            base.with_only_columns(Handover.id, Handover.search_text)
            .join(found, found.c.id == Handover.id)
            .order_by(found.c.rank, Handover.created_at.desc(), Handover.id.desc())
            .limit(enough)
        ).all()
        scored = sorted(
            ((similarity(wanted, row.search_text), -n, row.id) for n, row in enumerate(candidates)),
            reverse=True,
        )
        ranked = [row_id for score, _n, row_id in scored if score >= SIMILARITY_THRESHOLD]
        if ranked:
            break
    start = (page - 1) * per_page
    chosen = ranked[start : start + per_page]
    shown = db.session.scalars(sa.select(Handover).where(Handover.id.in_(chosen)).options(*SHOWN))
    by_id = {handover.id: handover for handover in shown}
    has_next = len(ranked) > start + per_page or len(candidates) == enough
    return Results([by_id[i] for i in chosen], How.SIMILAR, page, has_next)
