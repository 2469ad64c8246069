"""Limits on what a request may carry, and that breaking one is a plain 413."""

from __future__ import annotations

from werkzeug.test import encode_multipart

from tests.conftest import PASSWORD, add_user, csrf_token, make_app
from tests.test_rate_limits import allowed, fail_sign_ins, own_app, sign_in
from webapp.extensions import db

EN = {"Accept-Language": "en"}
TOO_LARGE = "What you sent is larger than Handover accepts."


def post_multipart(client, url: str, fields: dict, **kwargs):
    """Post a multipart form encoded in memory (the test client would spool a large
    one to a temporary file that a refused request leaves open)."""
    boundary, body = encode_multipart(fields)
    return client.post(
        url, data=body, content_type=f"multipart/form-data; boundary={boundary}", **kwargs
    )


def test_too_many_form_parts_get_a_413_page(sqlite_app):
    parts = {f"field{i}": "x" for i in range(sqlite_app.config["MAX_FORM_PARTS"] + 1)}
    response = post_multipart(sqlite_app.test_client(), "/login", parts, headers=EN)
    assert response.status_code == 413
    assert TOO_LARGE in response.text


def test_one_form_field_over_the_memory_limit_gets_a_413_page(sqlite_app):
    field = "x" * (sqlite_app.config["MAX_FORM_MEMORY_SIZE"] + 1)
    response = post_multipart(
        sqlite_app.test_client(), "/login", {"login": field, "password": "x"}, headers=EN
    )
    assert response.status_code == 413
    assert TOO_LARGE in response.text


def test_an_oversized_form_cannot_switch_shared_counting_off(sqlite_app, redis_url):
    """Flask-Limiter counts in memory after any error raised while it counts; a form
    too large must stay a plain 413 and never be taken for Redis failing."""
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    add_user(sqlite_app, "tech")
    with own_app(url, RATELIMIT_STORAGE_URI=redis_url) as one, \
            own_app(url, RATELIMIT_STORAGE_URI=redis_url) as two:
        flood = {f"field{i}": "x" for i in range(one.config["MAX_FORM_PARTS"] + 1)}
        for app in (one, two):
            assert post_multipart(app.test_client(), "/login", flood).status_code == 413
        for index in range(allowed(one, "sign_in_per_login_and_address")):
            fail_sign_ins((one, two)[index % 2], "tech", 1)
        assert sign_in(one.test_client(), "tech", PASSWORD).status_code == 429
        assert sign_in(two.test_client(), "tech", PASSWORD).status_code == 429


def test_with_rate_limits_switched_off_everything_still_answers(sqlite_app):
    app = make_app(sqlite_app.config["SQLALCHEMY_DATABASE_URI"], RATELIMIT_ENABLED=False)
    add_user(app, "tech")
    fail_sign_ins(app, "tech", allowed(app, "sign_in_per_login_and_address") + 1)
    assert sign_in(app.test_client(), "tech", PASSWORD).status_code == 302
    with app.app_context():
        db.engine.dispose()


def test_sign_in_fields_over_their_length_get_a_message_beside_each(sqlite_app):
    client = sqlite_app.test_client()
    page = client.get("/login", headers=EN)
    response = client.post("/login", headers=EN, data={
        "csrf_token": csrf_token(page.text), "login": "L" * 65, "password": "P" * 257,
    })
    assert response.status_code == 200
    assert '<p class="error" id="login-error">Use at most 64 characters.</p>' in response.text
    assert '<p class="error" id="password-error">Use at most 256 characters.</p>' in response.text
    assert 'value="' + "L" * 65 + '"' in response.text
