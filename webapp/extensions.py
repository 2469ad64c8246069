"""Flask extensions, created unbound and attached in the application factory.

Transactions: who commits `db.session`.

- Services (every module that is not a view, a CLI command or the error handler:
  webapp/audit.py, webapp/staff.py, the */service.py and handovers/workflow.py modules, ...)
  add and flush, and never commit or roll back: what they write is part of the
  caller's transaction.
- The view, CLI command or API handler commits, once per request, so a change
  and its audit events are stored together or not at all. (The demo data, which
  stands in for a series of requests, commits after each step.)
- A service that raises leaves the session as it is, for the caller to roll back;
  an exception nobody catches becomes a 500, whose handler rolls back
  (webapp/errors.py). A service that refuses without raising (returns False or
  an outcome) has changed nothing, so the caller may still commit what it adds
  itself, such as the audit event of a refused submission.

tests/test_layering_commits.py checks that services never call commit() or
rollback(), and names the few modules allowed to, with the reason.
"""

import sqlite3

from flask_babel import Babel
from flask_login import LoginManager
from flask_mailman import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool

# Stable constraint names, so migrations can name what they alter on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
babel = Babel()
mail = Mail()


# SQLite, as Handover uses it: readers never wait (WAL), writers queue for up to
# ten seconds (busy timeout), and a transaction begins only with its first write,
# as BEGIN IMMEDIATE, so it holds the write lock from its first statement. Reads
# before that run on their own: no transaction ever upgrades an older read snapshot
# to a write (which SQLite refuses at once with "database is locked" instead of
# waiting), and a closing that renders its receipt before writing holds no lock.
SQLITE_BUSY_TIMEOUT_MS = 10_000


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Make SQLite enforce foreign keys, log ahead, and queue writers instead of failing."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = "IMMEDIATE"
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")  # an in-memory database keeps "memory"
        cursor.close()


@event.listens_for(Pool, "checkout")
def _sqlite_immediate(dbapi_connection, connection_record, connection_proxy) -> None:
    """Again on every checkout: SQLAlchemy resets the driver's transaction mode to
    its default after a connection has been used in AUTOCOMMIT."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = "IMMEDIATE"
