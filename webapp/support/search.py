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
from sqlalchemy.orm import joinedload, with_expression

from webapp.domain.declared import FACTS
from webapp.domain.facts import Kind
from webapp.domain.search import SIMILARITY_THRESHOLD, Query, fragments, similarity, whole
from webapp.extensions import db
from webapp.models import ChecklistAnswer, Discrepancy, Handover, Receipt
from webapp.routing import one_page


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
        """Tell whether any filter is chosen."""
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
    results = _newest(exact, How.EXACT, page, per_page)
    if results.handovers or not query.fuzzy or (page > 1 and _any(exact)):
        return results
    return _similar(base, query.fuzzy, page, per_page)


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
        sa.select(Handover.id).where(getattr(Handover, fact.name).in_(numbers))
        for fact in FACTS if fact.search_key and fact.kind is not Kind.PHONE
    ]
    lookups.append(sa.select(Receipt.handover_id).where(Receipt.number.in_(numbers)))
    if query.phone:
        lookups += [
            sa.select(Handover.id).where(getattr(Handover, fact.name) == query.phone)
            for fact in FACTS if fact.search_key and fact.kind is Kind.PHONE
        ]
    return Handover.id.in_(sa.union(*lookups))


# What a result row shows, loaded in the page's one query rather than row by row.
SHOWN = (
    joinedload(Handover.receipt),
    joinedload(Handover.technician),
    with_expression(
        Handover.discrepancy_count,
        sa.select(sa.func.count())
        .where(Discrepancy.handover_id == Handover.id)
        .scalar_subquery(),
    ),
)


def _page_of(query: sa.Select, how: str, page: int, per_page: int) -> Results:
    handovers, has_next = one_page(query.options(*SHOWN), page, per_page)
    return Results(handovers, how, page, has_next)


def _newest(query: sa.Select, how: str, page: int, per_page: int) -> Results:
    query = query.order_by(Handover.created_at.desc(), Handover.id.desc())
    return _page_of(query, how, page, per_page)


# At most this many candidates (the newest) are ranked by similarity; a search
# that matches more shows the best of them, and another word narrows it.
CANDIDATES = 2000


def _any(query: sa.Select) -> bool:
    return bool(db.session.scalar(sa.select(query.exists())))


def _similar(base: sa.Select, text: str, page: int, per_page: int) -> Results:
    """Find names and addresses holding every word as typed; failing that, every
    word but one as typed and that one with a typo; failing that, every word
    perhaps with a typo; failing that, the most similar. The first reading that
    finds anything similar enough gives every page, ranked alike on both databases."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    narrow = _like if postgresql else _match
    words = text.split()
    readings = [
        [[whole(word) for word in words]],
        [
            [fragments(word) if i == wrong else whole(word) for i, word in enumerate(words)]
            for wrong in range(len(words))
        ],
        [[fragments(word) for word in words]],
    ]
    attempts = [lambda readings=r: narrow(base, readings) for r in readings]
    attempts.append(
        (lambda: _most_similar(base, text)) if postgresql
        else (lambda: narrow(base, [[fragments(word)] for word in words]))  # any word
    )
    ranked: list[int] = []
    for attempt in attempts:
        ranked = _ranked(attempt(), text)
        if ranked:
            break
    start = (page - 1) * per_page
    chosen = ranked[start : start + per_page]
    if not chosen:
        return Results([], How.SIMILAR, page, False)
    shown = db.session.scalars(sa.select(Handover).where(Handover.id.in_(chosen)).options(*SHOWN))
    by_id = {handover.id: handover for handover in shown}
    has_next = len(ranked) > start + per_page
    return Results([by_id[i] for i in chosen], How.SIMILAR, page, has_next)


# What to look for: any of several readings; each reading needs all its words;
# a word is found by any of its pieces. Pieces of folded words hold letters,
# digits and spaces only (`webapp.domain.search.WORD`), so they need no escaping
# in LIKE patterns or FTS5 phrases. Each function returns the ids of the newest
# CANDIDATES handovers that match and pass the filters in `base`.
Readings = list[list[tuple[str, ...]]]


def _like(base: sa.Select, readings: Readings) -> sa.Select:
    """Look the readings up with LIKE, which pg_trgm's GIN index serves.

    Within a reading, the index finds the rows holding the words as typed, and the
    loosened word's pieces are tested on those rows only: a piece such as "ов "
    is in half of all names, and reading its index entries costs more than the
    rest of the search. A reading of loosened words alone has to use the index.
    """
    def holds(piece: str, indexed: bool) -> sa.ColumnElement[bool]:
        text = Handover.search_text if indexed else Handover.search_text.concat("")
        return text.like(f"%{piece}%")

    def word(pieces: tuple[str, ...], reading) -> sa.ColumnElement[bool]:
        loosened = len(pieces) > 1
        indexed = not loosened or all(len(p) > 1 for p in reading)
        return sa.or_(*(holds(piece, indexed) for piece in pieces))

    # One query per reading, united: planned together, the readings' common word
    # was taken out and only it looked up in the index. Materialized: the index
    # finds every match first, then the newest are kept (else the planner may walk
    # the primary key backwards testing each row).
    found = sa.union(*(
        base.with_only_columns(Handover.id).where(*(word(p, reading) for p in reading))
        for reading in readings
    )).cte("found").prefix_with("MATERIALIZED")
    return sa.select(found.c.id).order_by(found.c.id.desc()).limit(CANDIDATES)


def _match(base: sa.Select, readings: Readings) -> sa.Select:
    """Look the readings up in the FTS5 trigram table, newest first.

    Not ordered by FTS5's bm25: computing it counts every document holding each
    piece, which costs more than the search (0.2 s at a million receipts)."""
    query = " OR ".join(
        "({})".format(" AND ".join(
            "({})".format(" OR ".join(f'"{piece}"' for piece in pieces)) for pieces in reading
        ))
        for reading in readings
    )
    search = sa.table("handover_search", sa.column("rowid", sa.Integer))
    return (
        base.with_only_columns(Handover.id)
        .join(search, search.c.rowid == Handover.id)
        .where(sa.text("handover_search MATCH :match").bindparams(match=query))
        .order_by(search.c.rowid.desc())
        .limit(CANDIDATES)
    )


def _most_similar(base: sa.Select, text: str) -> sa.Select:
    """Return the names and addresses pg_trgm finds most similar (its GIN index serves
    the %> operator), for a query no narrower reading found."""
    # The threshold is a setting of pg_trgm; set_config(..., true) keeps it to this transaction.
    threshold = str(SIMILARITY_THRESHOLD)
    db.session.execute(
        sa.select(sa.func.set_config("pg_trgm.word_similarity_threshold", threshold, True))
    )
    return (
        base.with_only_columns(Handover.id)
        .where(Handover.search_text.op("%>")(text))
        .order_by(sa.func.word_similarity(text, Handover.search_text).desc())
        .limit(CANDIDATES)
    )


def _ranked(candidates: sa.Select, text: str) -> list[int]:
    """Return the candidates' ids, similar enough, most similar first (then newest).

    The measure is `similarity`: each query word against its closest stored word
    (pg_trgm's word_similarity lets trigrams of other words count)."""
    ids = candidates.subquery()
    rows = db.session.execute(
        sa.select(Handover.id, Handover.search_text, Handover.created_at).where(
            Handover.id.in_(sa.select(ids.c.id))
        )
    ).all()
    scored = sorted(
        ((similarity(text, row.search_text), row.created_at, row.id) for row in rows),
        reverse=True,
    )
    return [row_id for score, _created, row_id in scored if score >= SIMILARITY_THRESHOLD]
