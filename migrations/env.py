"""Alembic environment, run through Flask-Migrate inside the application."""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

from webapp.db_types import include_object

config = context.config
if config.config_file_name is not None:
    # Keep the application's and pytest's loggers working after migrations run.
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

db = current_app.extensions["migrate"].db
target_metadata = db.metadata


def _options(dialect_name: str) -> dict:
    # SQLite cannot ALTER most things in place; batch mode rebuilds the table.
    return {
        "target_metadata": target_metadata,
        "compare_type": True,
        "render_as_batch": dialect_name == "sqlite",
        "include_object": include_object,
    }


def run_migrations_offline() -> None:
    url = db.engine.url
    context.configure(url=url, literal_binds=True, **_options(url.get_backend_name()))
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    def skip_empty_autogenerate(context_, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False) and directives[0].upgrade_ops.is_empty():
            directives[:] = []
            logger.info("No changes in schema detected.")

    with db.engine.connect() as connection:
        context.configure(
            connection=connection,
            process_revision_directives=skip_empty_autogenerate,
            **_options(connection.dialect.name),
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
