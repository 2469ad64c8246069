"""Fixtures: a fresh, migrated database per test on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from pathlib import Path

import pytest
from flask_login import FlaskLoginClient
from flask_migrate import upgrade
from sqlalchemy import text
from werkzeug.security import generate_password_hash

from webapp import create_app
from webapp.config import TestingConfig
from webapp.domain.declared import FACTS, ITEMS
from webapp.domain.facts import example_values
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.fact_forms import example_formdata
from webapp.handovers.service import record_facts
from webapp.models import Handover, User
from webapp.receipts.signing import create_development_certificates

pytest_plugins = ["tests.browser", "tests.services"]  # live server, Chromium, Redis

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
# CI sets this so a missing PostgreSQL fails the run instead of quietly skipping.
REQUIRE_POSTGRESQL = os.environ.get("REQUIRE_POSTGRESQL") == "1"
PASSWORD = "correct-horse-battery"
SIGNING_PASSPHRASE = "testing-only"
TABLES = "api_clients, audit_events, discounts, equipment_items, handovers, users"


def pytest_report_header(config):
    if TEST_DATABASE_URL:
        return "databases: SQLite and PostgreSQL (TEST_DATABASE_URL)"
    return "databases: SQLite only; PostgreSQL tests skip (TEST_DATABASE_URL is not set)"


@cache
def signing_files() -> tuple[str, str]:
    """Create one development CA and signing certificate for the whole test run."""
    directory = Path(tempfile.mkdtemp(prefix="handover-signing-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    p12, root = create_development_certificates(directory, SIGNING_PASSPHRASE)
    return str(p12), str(root)


def make_app(database_url: str, **settings):
    p12, root = signing_files()
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RECEIPT_SIGNING_P12": p12,
        "RECEIPT_SIGNING_PASSPHRASE": SIGNING_PASSPHRASE,
        "RECEIPT_TRUST_ROOT": root,
        **settings,
    }
    config = type("Config", (TestingConfig,), settings)
    app = create_app(config)
    app.test_client_class = FlaskLoginClient
    return app


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """Migrate one SQLite file once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "handover.sqlite3"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgresql_url():
    """Empty the test PostgreSQL database and migrate it once for the session."""
    if not TEST_DATABASE_URL:
        if REQUIRE_POSTGRESQL:
            pytest.fail("REQUIRE_POSTGRESQL=1 but TEST_DATABASE_URL is not set")
        pytest.skip("TEST_DATABASE_URL is not set")
    app = make_app(TEST_DATABASE_URL)
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.engine.dispose()
    return TEST_DATABASE_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "handover.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    return request.getfixturevalue("postgresql_url")


@contextmanager
def app_on(database_url: str, **settings):
    """An app on the test's database; PostgreSQL's tables are emptied afterwards."""
    app = make_app(database_url, **settings)
    yield app
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
        db.engine.dispose()


@pytest.fixture
def app(database_url):
    # No app context stays pushed during the test: each request must get its own,
    # as in production, or `g` and the session would leak between requests.
    with app_on(database_url) as app:
        yield app


@pytest.fixture
def sqlite_app(sqlite_template, tmp_path):
    """An app on its own migrated SQLite file, for what only SQLite does (and one server,
    one database, for the browser)."""
    path = tmp_path / "one.sqlite3"
    shutil.copy(sqlite_template, path)
    app = make_app(f"sqlite:///{path}")
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@cache
def password_hash(password: str) -> str:
    # Hashing is deliberately slow; hash each test password once per run.
    return generate_password_hash(password)


def detached(instance):
    """Commit, load every attribute, and detach, so tests can read it after the context."""
    db.session.commit()
    db.session.refresh(instance)
    db.session.expunge(instance)
    return instance


def add_user(app, login: str, role: Role = Role.TECHNICIAN, *, active: bool = True, **fields):
    with app.app_context():
        return detached(_new_user(login, role, active, **fields))


def _new_user(login, role, active, **fields) -> User:
    user = User(
        login=login,
        role=role,
        active=active,
        full_name=fields.pop("full_name", f"Name of {login}"),
        employee_id=fields.pop("employee_id", f"E-{login}"),
        contractor=fields.pop("contractor", "Contractor LLC"),
        password_hash=password_hash(fields.pop("password", PASSWORD)),
    )
    db.session.add(user)
    return user


@pytest.fixture
def technician(app):
    return add_user(app, "tech")


@pytest.fixture
def other_technician(app):
    return add_user(app, "tech2")


def valid_form(**overrides) -> dict:
    """Return a complete, valid handover form submission as a browser sends it: every
    declared fact's example, one discount and one piece of equipment."""
    data = example_formdata(FACTS) | {"phone": "8 912 345-67-89"}  # stored as +79123456789
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def make_handover(app, technician: User, **facts) -> Handover:
    """Store a handover for the technician, as the form would have recorded it: every
    declared fact's example, with Pavel Orlov's details and whatever the test says."""
    pavel = {
        "order_number": "ORD-1", "contract_number": "D-1", "contract_pages": 10,
        "subscriber_name": "Pavel Orlov", "address": "Perm, Mira st. 10",
        "services": ["internet"], "tariff_name": "Home 300", "monthly_fee": Decimal("500.00"),
        "portal_login": "lk-pavel", "documents": ["full_contract"],
    }
    status = facts.pop("status", "draft")
    with app.app_context():
        handover = Handover(technician_id=technician.id, status=status)
        record_facts(handover, example_values(FACTS) | pavel | facts)
        db.session.add(handover)
        return detached(handover)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match.group(1)


def press(client, handover, action: str, data: dict | None = None, **kwargs):
    """Press a button on the handover's page (freeze, reopen, close), as a browser would:
    open the page, then post to /handovers/<id>/<action> with the page's CSRF token."""
    page = client.get(f"/handovers/{handover.public_id}", **kwargs)
    return client.post(
        f"/handovers/{handover.public_id}/{action}",
        data={"csrf_token": csrf_token(page.text), **(data or {})},
        **kwargs,
    )


def post_form(client, url: str, data: dict, **kwargs):
    """Open the page, then submit the data with the page's CSRF token, as a browser would."""
    page = client.get(url, **kwargs)
    return client.post(url, data={"csrf_token": csrf_token(page.text), **data}, **kwargs)


def freeze(app, handover) -> str:
    """Hand the handover to the subscriber, as the technician's button does; return the token."""
    from webapp.handovers import workflow

    with app.app_context():
        stored = db.session.get(Handover, handover.id)
        workflow.freeze(stored, app.config["SECRET_KEY"], app.config["SUBSCRIBER_LINK_TTL"])
        db.session.commit()
        return workflow.link_token(stored, app.config["SECRET_KEY"])


def drawn_signature(strokes=None, width=320, height=160) -> str:
    import json

    strokes = strokes if strokes is not None else [[[10, 80], [60, 40], [120, 90], [200, 30]]]
    return json.dumps({"width": width, "height": height, "strokes": strokes})


def all_yes_answers(**overrides) -> dict:
    """Return a complete subscriber submission (without the page's hidden fields)."""
    data = {item.key: "yes" for item in ITEMS}
    data |= {"consent": "y", "signature": drawn_signature()}
    data |= overrides
    return {key: value for key, value in data.items() if value is not None}


def hidden_fields(html: str) -> dict:
    """Return the CSRF token, facts version and submission id the page carries."""
    found = dict(re.findall(r'<input[^>]*name="(csrf_token|facts_version|submission_id)"'
                            r'[^>]*value="([^"]*)"', html))
    assert set(found) == {"csrf_token", "facts_version", "submission_id"}, found
    return found


def submit_checklist(client, token: str, answers: dict, **kwargs):
    """Open the subscriber's page and send the answers with its hidden fields."""
    page = client.get(f"/s/{token}", **kwargs)
    return client.post(f"/s/{token}", data={**hidden_fields(page.text), **answers}, **kwargs)


def close_job(app, technician, handover, token, answers=None, locale="ru"):
    """Let the subscriber sign and the technician countersign; return the receipt's PDF."""
    from webapp.models import Receipt

    submit_checklist(
        app.test_client(), token, answers or all_yes_answers(), headers={"Accept-Language": locale}
    )
    tech = app.test_client(user=technician)
    closed = press(tech, handover, "close", {"signature": drawn_signature()})
    assert closed.status_code == 302, closed.text
    with app.app_context():
        receipt = db.session.scalar(db.select(Receipt).where(Receipt.handover_id == handover.id))
        return receipt.pdf


# The outside world the outbox talks to, each a real server on 127.0.0.1 (bench/receivers.py).


@pytest.fixture
def smtp():
    from bench.receivers import SmtpServer

    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def gateway():
    from bench.receivers import sms_gateway

    with sms_gateway() as server:
        yield server


@pytest.fixture
def receiver():
    from bench.receivers import webhook_receiver

    with webhook_receiver() as server:
        yield server
