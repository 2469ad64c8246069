"""Handover: the installation handover checklist and signed receipt."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from webapp.config import PROJECT_ROOT, Config, config_from_environ, refuse_missing_settings


def create_app(config: type[Config] | None = None, environ: Mapping[str, Any] | None = None):
    """Build the application.

    `config` is a configuration class; by default HANDOVER_ENV names one.
    `environ` stands in for os.environ, so tests can start the app as a server would.
    """
    environ = os.environ if environ is None else environ
    config = config or config_from_environ(environ)
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    app.config.from_object(config)
    app.config.update(config.from_environ(environ, app.instance_path))
    # Every missing setting named in one ConfigurationError (wsgi.py prints it as one line).
    refuse_missing_settings(app.config)
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_security(app)
    check_pdf_support(app)
    register_blueprints(app)
    register_rate_limits(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from webapp import i18n
    from webapp.auth import sessions
    from webapp.auth.routes import load_user
    from webapp.extensions import babel, db, login_manager, mail, migrate

    db.init_app(app)
    mail.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = i18n.LOGIN_REQUIRED_MESSAGE
    login_manager.login_message_category = "info"
    sessions.register(app)


def register_security(app: Flask) -> None:
    from webapp import security

    security.register(app)


def check_pdf_support(app: Flask) -> None:
    """Warn at start-up when receipts would render the slow way."""
    from webapp.receipts.render import harfbuzz_subsetting_available

    if not harfbuzz_subsetting_available():
        app.logger.warning(
            "WeasyPrint cannot subset fonts with HarfBuzz: receipts render 3-4x slower. "
            "Install the Debian package libharfbuzz-subset0."
        )


def register_blueprints(app: Flask) -> None:
    from webapp.routing import PublicIdConverter, RowIdConverter

    app.url_map.converters["public_id"] = PublicIdConverter
    app.url_map.converters["row_id"] = RowIdConverter

    from webapp.admin import bp as admin_bp
    from webapp.auth import bp as auth_bp
    from webapp.handovers import bp as handovers_bp
    from webapp.kiosk import bp as kiosk_bp
    from webapp.main import bp as main_bp
    from webapp.outbox import bp as outbox_bp
    from webapp.receipts import bp as receipts_bp
    from webapp.subscriber import bp as subscriber_bp
    from webapp.support import bp as support_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(handovers_bp, url_prefix="/handovers")
    app.register_blueprint(subscriber_bp)
    app.register_blueprint(receipts_bp)
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(support_bp, url_prefix="/support")
    app.register_blueprint(kiosk_bp)  # with its hooks, which keep a handed-over device in bounds
    app.register_blueprint(outbox_bp, url_prefix="/outbox")

    from webapp.api import HandoverApi
    from webapp.api import bp as api_bp

    HandoverApi(app).register_blueprint(api_bp)


def register_rate_limits(app: Flask) -> None:
    from webapp import limits

    limits.register(app)


def register_errorhandlers(app: Flask) -> None:
    from webapp.errors import register

    register(app)


def register_template_helpers(app: Flask) -> None:
    from webapp import templating

    templating.register(app)


def register_commands(app: Flask) -> None:
    from webapp.cli import api_clients_cli, demo_command, outbox_cli, receipts_cli, users_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(api_clients_cli)
    app.cli.add_command(receipts_cli)
    app.cli.add_command(demo_command)
    app.cli.add_command(outbox_cli)
