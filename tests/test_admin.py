"""Staff administration: accounts, roles, access and passwords, for administrators only."""

import logging
import re

import pytest
from flask import url_for
from sqlalchemy import MetaData

from tests.conftest import PASSWORD, add_user, csrf_token, post_form
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import AuditEvent, User

EN = {"Accept-Language": "en"}
FAILED = "Wrong login or password, or the account is disabled."
NO_CONTROL = "Remove control characters (such as tabs or line breaks)."
NEW = "/admin/users/new"


@pytest.fixture
def admin(app):
    return add_user(app, "boss", Role.ADMIN)


@pytest.fixture
def admin_client(app, admin):
    return app.test_client(user=admin)


def sign_in(client, login, password=PASSWORD):
    return post_form(client, "/login", {"login": login, "password": password}, headers=EN)


def new_account(**overrides) -> dict:
    """Return a complete, valid new-account form as a browser sends it."""
    data = {
        "login": "ivanov", "full_name": "Иван Иванов", "role": "technician",
        "employee_id": "T-77", "contractor": "СвязьМонтаж",
    }
    return data | overrides


def shown_password(page) -> str:
    match = re.search(r"data-new-password>([^<]+)<", page.text)
    assert match, "page shows no new password"
    return match.group(1)


def field_error(page, field: str) -> str:
    """Return the message shown beside the field ("" when there is none)."""
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', page.text)
    return match.group(1) if match else ""


def press(client, user, action: str, data: dict | None = None):
    """Press a button on the account's page, as a browser would."""
    page = client.get(f"/admin/users/{user.id}", headers=EN)
    return client.post(
        f"/admin/users/{user.id}/{action}",
        data={"csrf_token": csrf_token(page.text), **(data or {})},
        headers=EN,
    )


def stored_user(app, login: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(db.select(User).where(User.login == login))
        if user is not None:
            db.session.expunge(user)
        return user


def audit_events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == name)).all()
        db.session.expunge_all()
        return events


def admin_requests(app, user_id: int) -> list[tuple[str, str]]:
    """Return every (method, URL) the administration pages answer, for one account."""
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("admin."):
                url = url_for(rule.endpoint, **dict.fromkeys(rule.arguments, user_id))
                found += [(method, url) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    assert len(found) >= 7
    return found


# Who may open what


def test_anonymous_visitors_are_sent_to_sign_in_from_every_admin_url(app, client, technician):
    for method, url in admin_requests(app, technician.id):
        response = client.open(url, method=method)
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login?next="), (method, url)


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.SUPPORT])
def test_technicians_and_support_are_refused_every_admin_url(app, technician, role):
    user = add_user(app, "someone", role)
    client = app.test_client(user=user)
    token = csrf_token(client.get("/handovers/").text)
    for method, url in admin_requests(app, technician.id):
        response = client.open(url, method=method, data={"csrf_token": token}, headers=EN)
        assert response.status_code == 403, (method, url)
        assert "Your account does not have access to this page." in response.text


@pytest.mark.parametrize("role", [Role.TECHNICIAN, Role.SUPPORT])
def test_staff_cannot_make_themselves_admin(app, role):
    user = add_user(app, "climber", role)
    client = app.test_client(user=user)
    token = csrf_token(client.get("/handovers/").text)
    response = client.post(
        f"/admin/users/{user.id}/role", data={"csrf_token": token, "role": "admin"}
    )
    assert response.status_code == 403
    assert stored_user(app, "climber").role == role
    assert client.get("/admin/users").status_code == 403


def test_admin_opens_every_admin_page(app, admin_client, technician):
    for method, url in admin_requests(app, technician.id):
        if method == "GET":
            assert admin_client.get(url).status_code == 200, url


def test_admin_posts_without_the_form_token_change_nothing(app, admin_client, technician):
    for method, url in admin_requests(app, technician.id):
        if method == "POST":
            response = admin_client.post(url, data={"role": "admin", **new_account()})
            assert response.status_code in (200, 400), url
    assert stored_user(app, "ivanov") is None
    tech = stored_user(app, "tech")
    assert (tech.role, tech.active) == (Role.TECHNICIAN, True)
    assert sign_in(app.test_client(), "tech").status_code == 302  # password unchanged


def test_only_admins_see_the_staff_link(app, admin_client, technician):
    assert 'href="/admin/users"' in admin_client.get("/handovers/", headers=EN).text
    tech_page = app.test_client(user=technician).get("/handovers/", headers=EN).text
    assert 'href="/admin/users"' not in tech_page


# The list


def test_list_shows_every_account_with_its_details(app, admin_client, technician):
    add_user(app, "gone", Role.SUPPORT, active=False, full_name="Old Agent", contractor=None)
    page = admin_client.get("/admin/users", headers=EN).text
    for text in ("boss", "Name of boss", "Administrator", "tech", "Name of tech", "E-tech",
                 "Contractor LLC", "Technician", "Old Agent", "Support agent", "Deactivated"):
        assert text in page


def test_list_is_paginated(app, admin_client):
    app.config["STAFF_PER_PAGE"] = 2
    for login in ("user-a", "user-b"):
        add_user(app, login)
    first = admin_client.get("/admin/users", headers=EN).text
    second = admin_client.get("/admin/users?page=2", headers=EN).text
    assert "Name of boss" in first and "Name of user-b" not in first
    assert "Name of user-b" in second and "Page 2 of 2" in second
    beyond = admin_client.get("/admin/users?page=9")
    assert beyond.headers["Location"] == "/admin/users?page=2"


# Creating an account


def test_admin_creates_an_account_and_its_password_works_once_shown(app, admin_client, caplog):
    with caplog.at_level(logging.DEBUG):
        response = post_form(admin_client, NEW, new_account(), headers=EN)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Account created" in response.text and "ivanov" in response.text
    password = shown_password(response)
    assert len(password) >= 10
    assert password not in caplog.text

    user = stored_user(app, "ivanov")
    assert (user.full_name, user.role, user.employee_id, user.contractor, user.active) == (
        "Иван Иванов", Role.TECHNICIAN, "T-77", "СвязьМонтаж", True
    )
    assert sign_in(app.test_client(), "ivanov", password).status_code == 302
    assert password not in admin_client.get(f"/admin/users/{user.id}").text
    assert "Иван Иванов" in admin_client.get("/admin/users").text

    [event] = audit_events(app, "staff.created")
    assert event.details == {"user_id": user.id, "login": "ivanov", "role": "technician"}
    assert event.actor_id is not None


def test_optional_fields_may_stay_empty(app, admin_client):
    response = post_form(
        admin_client, NEW, new_account(role="support", employee_id="", contractor=" "),
    )
    assert response.status_code == 200
    user = stored_user(app, "ivanov")
    assert (user.role, user.employee_id, user.contractor) == (Role.SUPPORT, None, None)


def test_a_taken_login_is_refused_beside_the_field_and_the_form_is_kept(
    app, admin_client, technician
):
    response = post_form(admin_client, NEW, new_account(login="tech"), headers=EN)
    assert field_error(response, "login") == "This login is already taken. Choose another."
    assert 'value="Иван Иванов"' in response.text and 'value="T-77"' in response.text
    assert "data-new-password" not in response.text
    assert stored_user(app, "tech").full_name == "Name of tech"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("login", "", "Fill in this field."),
        ("login", "L" * 65, "Use at most 64 characters."),
        ("login", "has space", "A login cannot contain spaces."),
        ("login", "no\u00a0break", "A login cannot contain spaces."),
        ("login", "tab\there", NO_CONTROL),
        ("full_name", "   ", "Fill in this field."),
        ("full_name", "N" * 201, "Use at most 200 characters."),
        ("full_name", "Ivan\u202eovich", NO_CONTROL),
        ("employee_id", "E" * 33, "Use at most 32 characters."),
        ("employee_id", "bad\nid", NO_CONTROL),
        ("contractor", "C" * 201, "Use at most 200 characters."),
        ("contractor", "nul\x00byte", NO_CONTROL),
        ("role", "root", "Choose one of the options offered."),
    ],
)
def test_bad_values_are_refused_beside_their_field(app, admin_client, field, value, message):
    response = post_form(admin_client, NEW, new_account(**{field: value}), headers=EN)
    assert response.status_code == 200
    assert "Please correct the fields marked below." in response.text
    assert field_error(response, field) == message
    assert "data-new-password" not in response.text
    kept = {"login": "ivanov", "full_name": "Иван Иванов", "contractor": "СвязьМонтаж"}
    for name, typed in kept.items():
        if name != field:
            assert f'value="{typed}"' in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(User.id))) == 1  # the admin alone


def test_markup_typed_into_fields_is_shown_as_text(app, admin_client):
    markup = {"full_name": "<script>alert(1)</script>", "contractor": '<b onclick="x()">Co</b>'}
    refused = post_form(admin_client, NEW, new_account(login="", **markup))
    created = post_form(admin_client, NEW, new_account(**markup))
    user = stored_user(app, "ivanov")
    pages = [refused, created, admin_client.get("/admin/users"),
             admin_client.get(f"/admin/users/{user.id}")]
    for page in pages:
        assert "<script>alert" not in page.text and "<b onclick" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert user.full_name == markup["full_name"]  # stored as typed, escaped when shown


# Changing an account


def test_admin_changes_a_role_and_the_user_gets_its_access(app, admin_client, technician):
    tech_client = app.test_client(user=technician)
    assert tech_client.get("/handovers/new").status_code == 200

    response = press(admin_client, technician, "role", {"role": "support"})
    assert response.headers["Location"] == f"/admin/users/{technician.id}"
    page = admin_client.get(response.headers["Location"], headers=EN).text
    assert "The role is now “Support agent”." in page

    assert tech_client.get("/handovers/new").status_code == 403
    assert tech_client.get("/handovers/").status_code == 200
    [event] = audit_events(app, "staff.role_changed")
    assert event.details == {
        "user_id": technician.id, "login": "tech", "old_role": "technician", "new_role": "support",
    }


def test_choosing_the_same_role_records_nothing(app, admin_client, technician):
    press(admin_client, technician, "role", {"role": "technician"})
    assert audit_events(app, "staff.role_changed") == []


def test_an_unknown_role_is_refused_beside_the_field(app, admin_client, technician):
    response = press(admin_client, technician, "role", {"role": "root"})
    assert response.status_code == 400
    assert field_error(response, "role") == "Choose one of the options offered."
    assert stored_user(app, "tech").role == Role.TECHNICIAN


def test_admin_cannot_take_away_their_own_admin_role(app, admin_client, admin):
    response = press(admin_client, admin, "role", {"role": "technician"})
    assert response.status_code == 400
    assert field_error(response, "role") == (
        "You cannot take away your own administrator role. Ask another administrator."
    )
    assert stored_user(app, "boss").role == Role.ADMIN
    assert admin_client.get("/admin/users").status_code == 200
    assert audit_events(app, "staff.role_changed") == []


def test_admin_cannot_deactivate_themselves(app, admin_client, admin):
    page = admin_client.get(f"/admin/users/{admin.id}", headers=EN).text
    assert f'action="/admin/users/{admin.id}/deactivate"' not in page  # not even offered

    response = press(admin_client, admin, "deactivate")
    message = "You cannot deactivate your own account. Ask another administrator."
    assert message in admin_client.get(response.headers["Location"], headers=EN).text
    assert stored_user(app, "boss").active is True
    assert admin_client.get("/admin/users").status_code == 200
    assert audit_events(app, "staff.deactivated") == []


def test_another_admin_can_be_demoted_and_deactivated(app, admin_client):
    other = add_user(app, "boss2", Role.ADMIN)
    press(admin_client, other, "role", {"role": "support"})
    press(admin_client, other, "deactivate")
    assert (stored_user(app, "boss2").role, stored_user(app, "boss2").active) == (
        Role.SUPPORT, False
    )


def test_deactivated_user_cannot_sign_in_and_loses_access_at_the_next_request(
    app, admin_client, technician
):
    tech_client = app.test_client()
    sign_in(tech_client, "tech")
    assert tech_client.get("/handovers/").status_code == 200

    response = press(admin_client, technician, "deactivate")
    page = admin_client.get(response.headers["Location"], headers=EN).text
    assert "Name of tech can no longer sign in." in page
    assert "Deactivated" in page

    assert tech_client.get("/handovers/").status_code == 302
    assert FAILED in sign_in(app.test_client(), "tech").text
    [event] = audit_events(app, "staff.deactivated")
    assert event.details == {"user_id": technician.id, "login": "tech"}


def test_reactivated_user_can_sign_in_again(app, admin_client):
    gone = add_user(app, "gone", active=False)
    response = press(admin_client, gone, "reactivate")
    page = admin_client.get(response.headers["Location"], headers=EN).text
    assert "Name of gone can sign in again." in page
    assert sign_in(app.test_client(), "gone").status_code == 302
    [event] = audit_events(app, "staff.reactivated")
    assert event.details == {"user_id": gone.id, "login": "gone"}


def test_unknown_accounts_are_not_found(admin_client):
    for user_id in ("999999", "99999999999999999999", "0", "-1"):
        assert admin_client.get(f"/admin/users/{user_id}").status_code == 404
        assert admin_client.post(f"/admin/users/{user_id}/deactivate").status_code == 404
        assert admin_client.post(f"/admin/users/{user_id}/role").status_code == 404


# Resetting a password


def test_reset_password_is_shown_once_and_replaces_the_old_one(
    app, admin_client, technician, caplog
):
    with caplog.at_level(logging.DEBUG):
        response = press(admin_client, technician, "password")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert "Password reset" in response.text
    password = shown_password(response)
    assert password != PASSWORD and len(password) >= 10

    assert FAILED in sign_in(app.test_client(), "tech", PASSWORD).text
    assert sign_in(app.test_client(), "tech", password).status_code == 302

    # Shown that once: not on the next page, nor in the session, a flash or the logs.
    assert password not in admin_client.get(f"/admin/users/{technician.id}").text
    cookie = admin_client.get_cookie("session")
    session = app.session_interface.get_signing_serializer(app).loads(cookie.value)
    assert password not in repr(session)
    assert password not in caplog.text

    [event] = audit_events(app, "staff.password_reset")
    assert event.details == {"user_id": technician.id, "login": "tech"}


def test_a_reset_password_is_stored_only_as_a_hash(app, admin_client, technician):
    password = shown_password(press(admin_client, technician, "password"))
    with app.app_context():
        tables = MetaData()
        tables.reflect(bind=db.engine)
        everything = [
            repr(row) for table in tables.sorted_tables
            for row in db.session.execute(table.select())
        ]
        user = db.session.get(User, technician.id)
        assert user.check_password(password)
    assert not any(password in text for text in everything)


def test_a_password_reset_ends_the_sessions_made_with_the_old_password(
    app, admin_client, technician
):
    signed_in = app.test_client()
    sign_in(signed_in, "tech")
    assert signed_in.get("/handovers/").status_code == 200

    press(admin_client, technician, "password")

    response = signed_in.get("/handovers/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
