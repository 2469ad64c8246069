"""Headers and cookies every response carries, and the proxies the app believes."""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from flask_login.config import COOKIE_NAME as REMEMBER_COOKIE
from flask_login.utils import encode_cookie
from itsdangerous import TimestampSigner

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


def sign_in(client, login="tech", *, keep=False, **kwargs):
    """Sign in through the form, ticking "Keep me signed in on this device" if `keep`."""
    page = client.get("/login", **kwargs)
    return client.post("/login", data={
        "csrf_token": csrf_token(page.text), "login": login, "password": PASSWORD,
        **({"remember": "y"} if keep else {}),
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
    with own_app(database_url, SESSION_COOKIE_SECURE=True) as secure:
        response = sign_in(secure.test_client(), base_url="https://handover.example")
    assert "Secure" in response.headers["Set-Cookie"]


def sent_to_sign_in(response) -> bool:
    """Whether a staff page sent the visitor to sign in."""
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_keep_me_signed_in_gives_eight_hours_idle_and_no_remember_cookie(app):
    add_user(app, "tech")
    client = app.test_client()
    assert sign_in(client, keep=True).status_code == 302
    latest = datetime.now(UTC) + app.permanent_session_lifetime

    assert app.permanent_session_lifetime == timedelta(hours=8)  # as the documents say
    assert client.get_cookie(REMEMBER_COOKIE) is None
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie.expires is not None and cookie.expires <= latest  # outlives the browser
    assert client.get("/handovers/").status_code == 200
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])
    assert sent_to_sign_in(client.get("/handovers/"))


@contextmanager
def clock_moved(by: timedelta):
    """Let the app sign and check session cookies as if it were `by` later (or earlier)."""
    real = TimestampSigner.get_timestamp
    with pytest.MonkeyPatch.context() as clock:
        clock.setattr(TimestampSigner, "get_timestamp",
                      lambda signer: real(signer) + int(by.total_seconds()))
        yield


def test_without_the_box_the_session_ends_with_the_browser_and_lapses_only_when_idle(app):
    add_user(app, "tech")
    client = app.test_client()
    with clock_moved(-timedelta(hours=7)):
        assert sign_in(client).status_code == 302
    assert client.get_cookie(app.config["SESSION_COOKIE_NAME"]).expires is None
    assert client.get_cookie(REMEMBER_COOKIE) is None
    # In use now, so two hours on it is two hours idle, not nine since signing in.
    assert client.get("/handovers/").status_code == 200
    with clock_moved(timedelta(hours=2)):
        assert client.get("/handovers/").status_code == 200


@pytest.mark.parametrize("keep", [True, False], ids=["kept", "browser-session"])
def test_a_staff_session_lapses_after_eight_hours_without_a_request(app, keep):
    add_user(app, "tech")
    lifetime = app.permanent_session_lifetime
    for idle, lapsed in ((lifetime - timedelta(minutes=1), False),
                         (lifetime + timedelta(minutes=1), True)):
        client = app.test_client()
        with clock_moved(-idle):  # the sign-in was the last request, that long ago
            assert sign_in(client, keep=keep).status_code == 302
        assert sent_to_sign_in(client.get("/handovers/")) is lapsed, idle


def test_a_remember_cookie_from_an_earlier_version_signs_nobody_in_and_is_deleted(app):
    user = add_user(app, "tech")
    client = app.test_client()
    with app.test_request_context():
        client.set_cookie(REMEMBER_COOKIE, encode_cookie(user.get_id()))  # as it was issued
    assert sent_to_sign_in(client.get("/handovers/"))
    assert client.get_cookie(REMEMBER_COOKIE) is None


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
