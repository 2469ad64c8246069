"""Staff sign-in, sign-out and who may open what."""

import pytest

from tests.conftest import PASSWORD, add_user, csrf_token, make_handover, post_form
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import AuditEvent, User

FAILED = "Wrong login or password, or the account is disabled."
EN = {"Accept-Language": "en"}


def sign_in(client, login, password=PASSWORD, **extra):
    return post_form(client, "/login", {"login": login, "password": password, **extra}, headers=EN)


def test_technician_signs_in_and_lands_on_their_jobs(client, technician):
    response = sign_in(client, "tech")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"

    jobs = client.get("/", follow_redirects=True, headers=EN)
    assert "My jobs" in jobs.text
    assert technician.full_name in jobs.text


@pytest.mark.parametrize(
    ("login", "password"),
    [("tech", "wrong-password"), ("nobody", PASSWORD), ("TECH", PASSWORD)],
)
def test_failed_sign_in_gives_one_message_that_reveals_nothing(client, technician, login, password):
    response = sign_in(client, login, password)
    assert response.status_code == 200
    assert FAILED in response.text
    assert f'value="{login}"' in response.text  # the typed login is kept
    assert client.get("/handovers/").status_code == 302  # still signed out


def test_inactive_user_cannot_sign_in(app, client):
    add_user(app, "gone", active=False)
    response = sign_in(client, "gone")
    assert FAILED in response.text
    assert client.get("/handovers/").status_code == 302


def test_deactivated_user_loses_access_at_the_next_request(app, client, technician):
    sign_in(client, "tech")
    assert client.get("/handovers/").status_code == 200
    with app.app_context():
        db.session.get(User, technician.id).active = False
        db.session.commit()
    assert client.get("/handovers/").status_code == 302


def test_sign_in_and_failures_are_audited(app, client, technician):
    sign_in(client, "tech", "wrong-password")
    sign_in(client, "tech")
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [e.event for e in events] == ["staff.sign_in_failed", "staff.signed_in"]
        assert events[1].actor_id == technician.id
        assert events[1].ip == "127.0.0.1"


def test_sign_out_ends_the_session(client, technician):
    sign_in(client, "tech")
    page = client.get("/handovers/")
    response = client.post("/logout", data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert client.get("/handovers/").status_code == 302


def test_sign_out_without_token_asks_for_confirmation(client, technician):
    sign_in(client, "tech")
    response = client.post("/logout", headers=EN)
    assert "Sign out of Handover?" in response.text
    assert client.get("/handovers/").status_code == 200  # still signed in


def test_pages_ask_anonymous_visitors_to_sign_in_and_come_back(client, technician):
    response = client.get("/handovers/new", headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")

    page = client.get(response.headers["Location"], headers=EN)
    assert "Please sign in to open this page." in page.text
    signed_in = client.post(
        response.headers["Location"],
        data={"csrf_token": csrf_token(page.text), "login": "tech", "password": PASSWORD},
    )
    assert signed_in.headers["Location"] == "/handovers/new"


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_sign_in_never_redirects_off_site(client, technician, target):
    page = client.get("/login")
    response = client.post(
        f"/login?next={target}",
        data={"csrf_token": csrf_token(page.text), "login": "tech", "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_sign_in_without_csrf_token_is_refused_and_keeps_the_login(client, technician):
    response = client.post("/login", data={"login": "tech", "password": PASSWORD}, headers=EN)
    assert response.status_code == 200
    assert "The form had expired" in response.text
    assert 'value="tech"' in response.text
    assert client.get("/handovers/").status_code == 302


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.ADMIN])
def test_only_technicians_create_handovers(app, role):
    user = add_user(app, "staff", role)
    client = app.test_client(user=user)
    assert client.get("/handovers/new").status_code == 403
    assert client.get("/handovers/").status_code == 200


def test_support_can_read_any_handover_but_not_edit_it(app, technician):
    handover = make_handover(app, technician)
    support = app.test_client(user=add_user(app, "agent", Role.SUPPORT))
    assert support.get(f"/handovers/{handover.public_id}").status_code == 200
    assert support.get(f"/handovers/{handover.public_id}/edit").status_code == 403
