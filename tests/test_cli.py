"""Commands under `flask --app wsgi`."""

import pytest

from tests.conftest import PASSWORD, post_form
from webapp import create_app
from webapp.config import ProductionConfig
from webapp.demo import DEMO_STAFF
from webapp.extensions import db
from webapp.models import AuditEvent, Handover, User

NEW_PASSWORD = "a-long-enough-password"


def users(app):
    with app.app_context():
        return {u.login: u for u in db.session.scalars(db.select(User))}


def test_users_create_reads_the_password_from_stdin_and_it_works(app, runner):
    result = runner.invoke(
        args=["users", "create", "--role", "technician", "--login", "ivanov",
              "--name", "Иван Иванов", "--employee-id", "T-77", "--contractor", "СвязьМонтаж"],
        input=NEW_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created technician ivanov." in result.output
    assert NEW_PASSWORD not in result.output

    user = users(app)["ivanov"]
    assert (user.full_name, user.employee_id, user.contractor) == (
        "Иван Иванов", "T-77", "СвязьМонтаж"
    )
    assert NEW_PASSWORD not in user.password_hash

    client = app.test_client()
    signed_in = post_form(client, "/login", {"login": "ivanov", "password": NEW_PASSWORD})
    assert signed_in.status_code == 302


def test_users_create_has_no_password_option(runner):
    result = runner.invoke(
        args=["users", "create", "--role", "admin", "--login", "x", "--name", "X",
              "--password", NEW_PASSWORD],
    )
    assert result.exit_code != 0
    assert "No such option" in result.output


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["--login", "tech"], NEW_PASSWORD, "already taken"),
        (["--login", "new"], "short", "at least 10 characters"),
        (["--login", "has space"], NEW_PASSWORD, "must not contain spaces"),
        (["--login", "L" * 65], NEW_PASSWORD, "login must be 1 to 64"),
        (["--login", "new", "--employee-id", "bad\tid"], NEW_PASSWORD, "employee_id must be"),
    ],
)
def test_users_create_refuses_bad_accounts_clearly(
    app, runner, technician, args, password, message
):
    result = runner.invoke(
        args=["users", "create", "--role", "technician", "--name", "Someone", *args],
        input=password + "\n",
    )
    assert result.exit_code == 1
    assert message in result.output
    assert set(users(app)) == {"tech"}


def test_users_create_refuses_unknown_roles(runner):
    result = runner.invoke(
        args=["users", "create", "--role", "root", "--login", "x", "--name", "X"],
        input=NEW_PASSWORD + "\n",
    )
    assert result.exit_code == 2
    assert "'root' is not one of" in result.output


def test_users_deactivate_stops_sign_in(app, runner, technician):
    result = runner.invoke(args=["users", "deactivate", "tech"])
    assert result.exit_code == 0
    assert users(app)["tech"].active is False
    response = post_form(
        app.test_client(), "/login", {"login": "tech", "password": PASSWORD},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert "Wrong login or password, or the account is disabled." in response.text


def test_users_deactivate_unknown_login_fails(runner):
    result = runner.invoke(args=["users", "deactivate", "ghost"])
    assert result.exit_code == 1
    assert "No staff account with login 'ghost'" in result.output


def test_demo_creates_staff_and_handovers_once(app, runner):
    first = runner.invoke(args=["demo"])
    second = runner.invoke(args=["demo"])
    assert first.exit_code == 0 and second.exit_code == 0
    for staff in DEMO_STAFF:
        assert f"{staff.login:<10} {staff.password:<18} {staff.role}" in first.output

    with app.app_context():
        assert db.session.query(User).count() == len(DEMO_STAFF)
        statuses = set(db.session.scalars(db.select(Handover.status)))
        assert db.session.query(Handover).count() == 3
        assert len(statuses) >= 3
        assert db.session.query(AuditEvent).filter_by(event="handover.created").count() == 3

    client = app.test_client()
    signed_in = post_form(client, "/login", {"login": "tech", "password": "tech-demo-pass"})
    assert signed_in.status_code == 302
    assert "Анна Соколова" in client.get("/handovers/").text


def test_demo_refuses_to_run_in_production(database_url):
    app = create_app(
        ProductionConfig,
        environ={"SECRET_KEY": "prod-secret", "DATABASE_URL": database_url,
                 "RECEIPT_SIGNING_P12": "p.p12", "RECEIPT_SIGNING_PASSPHRASE": "x",
                 "RECEIPT_TRUST_ROOT": "root.pem", "RATELIMIT_STORAGE_URI": "memory://"},
    )
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "not in production" in result.output
    assert users(app) == {}
    with app.app_context():
        db.engine.dispose()

