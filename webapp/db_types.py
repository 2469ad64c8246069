"""Column types that behave the same on SQLite and PostgreSQL, and which database objects
the migrations compare with the models."""

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

from webapp.domain.money import as_hundredths, from_hundredths

# Search indexes the models cannot describe (migration 0004, webapp/support/search.py):
# the FTS5 tables on SQLite and the pg_trgm index on PostgreSQL. Alembic's comparison
# (migrations/env.py) leaves them be.
SEARCH_INDEXES = ("handover_search", "ix_handovers_search_text_trgm")


def include_object(object_, name, type_, reflected, compare_to) -> bool:
    """Tell Alembic which reflected objects the models account for."""
    return not (reflected and name and name.startswith(SEARCH_INDEXES))


def now_utc() -> datetime:
    """Return the current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


class Hundredths(TypeDecorator[Decimal]):
    """An exact two-place Decimal stored as an integer count of hundredths.

    SQLite has no exact decimal type; integers are exact on every database.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect) -> int | None:
        return None if value is None else as_hundredths(Decimal(value))

    def process_result_value(self, value: int | None, dialect) -> Decimal | None:
        return None if value is None else from_hundredths(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime, also on SQLite, which drops the zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware one")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
