"""Headers and cookies every response carries, and the proxies the app believes."""

import time
from contextlib import contextmanager

import pytest

from tests.conftest import PASSWORD, add_user, csrf_token, make_app
from webapp.extensions import db
from webapp.models import AuditEvent
from webapp.security import CSP


@pytest.mark.parametrize(
    "path", ["/login", "/static/css/app.css", "/no-such-page", "/api/v1/receipts", "/verify"]
)
def test_every_response_carries_the_security_headers(client, path):
    with client.get(path) as response:
        check_headers(response)


def check_headers(response):
    assert response.headers["Content-Security-Policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "frame-ancestors 'none'" in CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_https_responses_ask_browsers_to_stay_on_https(client):
    response = client.get("/login", base_url="https://handover.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_subscribers_pages_send_no_referrer(app, client):
    assert client.get("/s/" + "x" * 43).headers["Referrer-Policy"] == "no-referrer"


def sign_in(client, login="tech", **kwargs):
    page = client.get("/login", **kwargs)
    return client.post("/login", data={
        "csrf_token": csrf_token(page.text), "login": login, "password": PASSWORD,
    }, **kwargs)


def test_session_cookies_are_httponly_and_samesite(app, client, technician):
    cookie = sign_in(client).headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


# Tests that build their own app take `app` too: its teardown empties the database.


@contextmanager
def own_app(database_url, **settings):
    app = make_app(database_url, **settings)
    yield app
    with app.app_context():
        db.engine.dispose()


def test_production_cookies_are_secure(app, database_url):
    add_user(app, "tech")
    with own_app(database_url, SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True) as secure:
        response = sign_in(secure.test_client(), base_url="https://handover.example")
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_staff_session_lapses_after_inactivity(app):
    app.permanent_session_lifetime = 1  # seconds, instead of eight hours
    add_user(app, "tech")
    client = app.test_client()
    sign_in(client)
    assert client.get("/handovers/").status_code == 200
    time.sleep(2.1)
    response = client.get("/handovers/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def failed_sign_in_ip(app, forwarded_for: str) -> str:
    client = app.test_client()
    page = client.get("/login")
    client.post("/login", data={"csrf_token": csrf_token(page.text), "login": "x",
                                "password": "wrong-password"},
                headers={"X-Forwarded-For": forwarded_for})
    with app.app_context():
        return db.session.scalar(
            db.select(AuditEvent.ip).where(AuditEvent.event == "staff.sign_in_failed")
        )


def test_without_trusted_proxies_a_forwarded_address_is_ignored(app):
    assert failed_sign_in_ip(app, "6.6.6.6") == "127.0.0.1"


def test_with_one_trusted_proxy_only_its_hop_counts(app, database_url):
    with own_app(database_url, TRUSTED_PROXIES=1) as proxied:
        # The client wrote 6.6.6.6 itself; our proxy appended the address it saw.
        assert failed_sign_in_ip(proxied, "6.6.6.6, 203.0.113.7") == "203.0.113.7"
