"""Is this process alive, and is it ready to serve: what /healthz and /readyz report.

Readiness names each check and its state, never a value from the database.
"""

from __future__ import annotations

import logging
from functools import cache

from flask import Flask
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.config import PROJECT_ROOT
from webapp.extensions import db

log = logging.getLogger(__name__)


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
    from webapp.receipts.service import renderer_status

    return {**_database_and_migrations(), "signer": _signer(app), "renderer": renderer_status()}


def warm_up(app: Flask) -> None:
    """Load what requests need once, in a server's master process before it forks, so
    no worker pays for it on a request: WeasyPrint's code and the signing key, every
    page template compiled, the ORM's mappers configured. No renderer is built here:
    its fonts and caches belong to the process that uses them (warm_up_worker)."""
    import weasyprint  # noqa: F401 - imported once, shared by every worker
    from sqlalchemy.orm import configure_mappers

    with app.app_context():
        _signer(app)
        for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")):
            app.jinja_env.get_template(name)
        configure_mappers()


def warm_up_worker(app: Flask) -> None:
    """In a freshly forked worker, before it serves: build this process's renderer and
    prove it draws readable text, so /readyz is truthful from the first request."""
    from webapp.receipts.service import probe_renderer

    with app.app_context():
        problem = probe_renderer()
    if problem:
        log.error("the receipt renderer does not work in this worker: %s", problem)
