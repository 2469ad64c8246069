"""Is this process alive, and is it ready to serve: what /healthz and /readyz report.

Readiness names each check and its state, never a value from the database.
"""

from __future__ import annotations

from functools import cache

from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.config import PROJECT_ROOT
from webapp.extensions import db


@cache
def migration_heads() -> frozenset[str]:
    """The newest revisions this code ships (fixed for the life of the process)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(PROJECT_ROOT / "migrations")).get_heads())


def _database_and_migrations() -> dict[str, str]:
    from alembic.runtime.migration import MigrationContext

    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = frozenset(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError:
        return {"database": "unreachable", "migrations": "unknown"}
    return {"database": "ok", "migrations": "ok" if current == migration_heads() else "behind"}


def _signer(app: Flask) -> str:
    from webapp.receipts.signing import SigningError, load_signer

    try:
        load_signer(app.config["RECEIPT_SIGNING_P12"], app.config["RECEIPT_SIGNING_PASSPHRASE"])
    except (SigningError, ValueError, OSError):
        return "unavailable"
    return "ok"


def readiness(app: Flask) -> dict[str, str]:
    """Each check by name: "ok", or what is wrong."""
    return {**_database_and_migrations(), "signer": _signer(app)}


def warm_up(app: Flask) -> None:
    """Load what requests need once, in a server's master process before it forks, so
    no worker pays for it on a request: fonts, the receipt stylesheet and the signing
    key, every page template compiled, the ORM's mappers configured. Nothing is
    rendered: a render would start a thread, and threads do not survive fork."""
    from sqlalchemy.orm import configure_mappers

    from webapp.receipts.render import renderer

    with app.app_context():
        renderer(app.config["RECEIPT_RENDER_SECONDS"])
        _signer(app)
        for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")):
            app.jinja_env.get_template(name)
        configure_mappers()
