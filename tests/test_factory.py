"""Starting the application: configuration comes from the environment."""

import pytest

from webapp import create_app
from webapp.config import ConfigurationError, DevelopmentConfig, ProductionConfig

PRODUCTION = {
    "RECEIPT_SIGNING_P12": "/etc/handover/signing.p12",
    "RECEIPT_SIGNING_PASSPHRASE": "from-a-secret-store",
    "RECEIPT_TRUST_ROOT": "/etc/handover/root.pem",
    "RATELIMIT_STORAGE_URI": "redis://redis.internal:6379/0",
}


def test_production_refuses_to_start_without_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(
            ProductionConfig, environ={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **PRODUCTION}
        )


def test_production_refuses_to_start_without_its_signing_certificate(tmp_path):
    environ = {"SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **PRODUCTION}
    del environ["RECEIPT_TRUST_ROOT"]
    with pytest.raises(ConfigurationError, match="RECEIPT_TRUST_ROOT"):
        create_app(ProductionConfig, environ=environ)


def test_production_takes_secret_key_and_database_from_environment(tmp_path):
    app = create_app(
        environ={
            "SECRET_KEY": "from-the-environment",
            "DATABASE_URL": "postgresql://user:pw@db.example/handover",
            **PRODUCTION,
        }
    )
    assert app.config["RECEIPT_SIGNING_P12"] == "/etc/handover/signing.p12"
    assert app.config["NAME"] == "production"
    assert app.config["SECRET_KEY"] == "from-the-environment"
    # Plain postgresql:// URLs get the psycopg 3 driver that requirements.txt installs.
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://user:pw@db.example/handover"
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["RATELIMIT_STORAGE_URI"] == "redis://redis.internal:6379/0"


def test_production_refuses_to_start_without_choosing_rate_limit_storage(tmp_path):
    environ = {"SECRET_KEY": "k", "DATABASE_URL": f"sqlite:///{tmp_path}/x.db", **PRODUCTION}
    del environ["RATELIMIT_STORAGE_URI"]
    with pytest.raises(ConfigurationError, match="RATELIMIT_STORAGE_URI"):
        create_app(ProductionConfig, environ=environ)


def test_development_defaults_to_sqlite_file_in_instance_folder():
    app = create_app(environ={"HANDOVER_ENV": "development"})
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("instance/handover.sqlite3")
    assert app.config["SECRET_KEY"] == DevelopmentConfig.SECRET_KEY


def test_unknown_environment_name_is_refused():
    with pytest.raises(ConfigurationError, match="HANDOVER_ENV"):
        create_app(environ={"HANDOVER_ENV": "staging"})


def test_templates_and_static_files_come_from_the_project_folders(app):
    assert app.template_folder.endswith("/templates")
    assert app.static_folder.endswith("/static")


def test_health_check_reports_the_database_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_stylesheet_is_served(client):
    response = client.get("/static/css/app.css")
    assert response.status_code == 200
    assert b"@media" in response.data
    response.close()
