"""Flask extensions, created unbound and attached in the application factory."""

import sqlite3

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

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


# SQLite, as Handover uses it: readers never wait (WAL), and a transaction that
# writes takes the write lock with its first statement (BEGIN IMMEDIATE, emitted by
# the driver just before the first INSERT, UPDATE or DELETE). Reads before that run
# on their own, so a closing that renders its receipt first holds no lock meanwhile,
# and no transaction ever has to upgrade a stale read snapshot to a write, which
# SQLite refuses at once with "database is locked" instead of waiting.
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
