"""Commands under `flask --app wsgi`, and how the app refuses to start without its
production settings."""

import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import PASSWORD, hidden_fields, post_form
from tests.services import free_port
from tests.tools import needs
from webapp import create_app
from webapp.config import REQUIRED_SETTINGS, ConfigurationError, ProductionConfig
from webapp.db_types import now_utc
from webapp.demo import DEMO_STAFF
from webapp.domain.terms import HandoverStatus
from webapp.extensions import db
from webapp.handovers import workflow
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


@needs("pdftotext")
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
    assert "not on a server" in result.output
    assert users(app) == {}
    with app.app_context():
        db.engine.dispose()


def test_demo_refuses_on_a_server_that_kept_the_checkouts_development_settings(
    app, monkeypatch
):
    # .flaskenv makes `flask` development in a checkout; a server exports SECRET_KEY.
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 1
    assert "not on a server" in result.output
    assert users(app) == {}



# `make run` prints the link of the demo job that waits for the subscriber.
LINK = re.compile(r"(https?://[^\s/]+)(/s/[A-Za-z0-9_-]{24})\s*$", re.MULTILINE)


def printed_link(output: str) -> tuple[str, str]:
    """The printed subscriber link, as (scheme and host, path)."""
    found = LINK.findall(output)
    assert len(found) == 1, output
    return found[0]


@needs("pdftotext")
def test_demo_prints_the_awaiting_jobs_subscriber_link_that_opens_on_the_phone(app, runner):
    result = runner.invoke(args=["demo", "--port", "5123"])
    assert result.exit_code == 0, result.output
    assert "Subscriber's link of demo job ORD-2026-0002" in result.output
    host, path = printed_link(result.output)
    assert host == "http://127.0.0.1:5123"
    page = app.test_client().get(path, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "Pavel Orlov" in page.text and hidden_fields(page.text)
    with app.app_context():
        handover = workflow.find_by_token(path.removeprefix("/s/"))
        assert handover.order_number == "ORD-2026-0002"
        assert handover.status == HandoverStatus.AWAITING_SUBSCRIBER

    again = runner.invoke(args=["demo", "--port", "5123"])
    assert printed_link(again.output) == (host, path)  # a live link is kept


@needs("pdftotext")
def test_demo_link_takes_the_port_of_flask_run_or_the_public_url(app, runner):
    by_port = runner.invoke(args=["demo"], env={"FLASK_RUN_PORT": "5009"})
    assert printed_link(by_port.output)[0] == "http://127.0.0.1:5009"
    assert printed_link(runner.invoke(args=["demo"]).output)[0] == "http://127.0.0.1:5000"
    app.config["PUBLIC_URL"] = "https://handover.example/"
    public = runner.invoke(args=["demo", "--port", "5009"])
    assert printed_link(public.output)[0] == "https://handover.example"


@needs("pdftotext")
def test_demo_hands_the_job_over_again_when_its_link_expired(app, runner):
    old_path = printed_link(runner.invoke(args=["demo"]).output)[1]
    with app.app_context():
        handover = workflow.find_by_token(old_path.removeprefix("/s/"))
        handover.link_expires_at = now_utc() - timedelta(days=3)  # demo data made days ago
        db.session.commit()

    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    new_path = printed_link(result.output)[1]
    assert new_path != old_path
    with app.app_context():  # taken back and handed over, as the technician's buttons do
        events = db.session.scalars(db.select(AuditEvent.event).order_by(AuditEvent.id)).all()
        assert events[-2:] == ["handover.reopened", "handover.frozen"]
    client = app.test_client()
    assert client.get(new_path).status_code == 200
    assert client.get(old_path).status_code != 200


@needs("pdftotext")
def test_demo_says_how_to_get_a_link_when_no_demo_job_awaits_the_subscriber(app, runner):
    runner.invoke(args=["demo"])
    with app.app_context():
        db.session.execute(db.update(Handover).where(
            Handover.status == HandoverStatus.AWAITING_SUBSCRIBER).values(status="draft"))
        db.session.commit()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "No demo job is awaiting the subscriber" in result.output
    assert "/s/" not in result.output


# Starting outside development without the production settings: one line, no traceback.
ROOT = Path(__file__).resolve().parent.parent
SETTINGS = (
    "HANDOVER_ENV", "SECRET_KEY", "DATABASE_URL", "RATELIMIT_STORAGE_URI",
    "RECEIPT_SIGNING_P12", "RECEIPT_SIGNING_PASSPHRASE", "RECEIPT_TRUST_ROOT", "PUBLIC_URL",
    "FLASK_APP", "FLASK_RUN_FROM_CLI", "FLASK_SKIP_DOTENV",
)


def run_in_checkout(*command: str, **environ: str) -> subprocess.CompletedProcess:
    """Run a command in the checkout as a newcomer's shell would, none of the app's
    settings set except these."""
    clean = {name: value for name, value in os.environ.items() if name not in SETTINGS}
    return subprocess.run(command, cwd=ROOT, env=clean | environ, capture_output=True,
                          text=True, timeout=120, check=False)


def assert_one_clear_line(result: subprocess.CompletedProcess, *names: str) -> None:
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "Traceback" not in output, output
    [line] = [line for line in output.splitlines() if "Handover cannot start" in line]
    assert line.startswith("Error: Handover cannot start in production without "), line
    for name in names:
        assert name in line
    assert "HANDOVER_ENV=development" in line


def test_flask_commands_in_production_without_settings_print_one_line_and_exit_non_zero():
    result = run_in_checkout(sys.executable, "-m", "flask", "--app", "wsgi", "demo",
                             HANDOVER_ENV="production", SECRET_KEY="set")
    assert_one_clear_line(result, "RATELIMIT_STORAGE_URI", "RECEIPT_SIGNING_P12",
                          "RECEIPT_SIGNING_PASSPHRASE", "RECEIPT_TRUST_ROOT")
    assert "SECRET_KEY" not in result.stderr


def test_gunicorn_without_production_settings_refuses_in_one_line():
    result = run_in_checkout(
        sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app",
        BIND=f"127.0.0.1:{free_port()}", WEB_CONCURRENCY="1",
    )  # gunicorn never reads .flaskenv: no HANDOVER_ENV is production
    assert_one_clear_line(result, "SECRET_KEY", "RATELIMIT_STORAGE_URI")


def test_flask_in_the_checkout_is_development_from_flaskenv():
    """The README's commands work as printed: `flask` reads .flaskenv (python-dotenv)."""
    routes = run_in_checkout(sys.executable, "-m", "flask", "--app", "wsgi", "routes")
    assert routes.returncode == 0, routes.stderr
    assert "/s/<token>" in routes.stdout
    # --help lists the app's commands before Flask reads .flaskenv; wsgi.py reads it then.
    listed = run_in_checkout(sys.executable, "-m", "flask", "--app", "wsgi", "--help")
    assert listed.returncode == 0, listed.stderr
    assert "demo" in listed.stdout and "api-clients" in listed.stdout


def test_the_tests_cli_runner_reads_no_flaskenv(app, runner, monkeypatch):
    monkeypatch.delenv("HANDOVER_ENV", raising=False)
    result = runner.invoke(args=["users", "deactivate", "ghost"])
    assert result.exit_code == 1
    assert "HANDOVER_ENV" not in os.environ
    assert app.config["NAME"] == "testing"


def test_every_missing_production_setting_is_named_at_once(tmp_path):
    with pytest.raises(ConfigurationError) as refused:
        create_app(ProductionConfig, environ={"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"})
    assert refused.value.missing == REQUIRED_SETTINGS
    assert "\n" not in str(refused.value)
    with pytest.raises(ConfigurationError, match="SUBSCRIBER_LINK_HOURS must be a number"):
        create_app(environ={"HANDOVER_ENV": "development", "SUBSCRIBER_LINK_HOURS": "a day"})
