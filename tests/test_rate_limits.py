"""Rate limits on the doors that face guessing and load, in memory and in a real Redis
shared by two app instances."""

from __future__ import annotations

import re
from contextlib import contextmanager

from limits import parse

from tests.conftest import PASSWORD, add_user, csrf_token, make_app
from webapp.domain.terms import Role
from webapp.extensions import db

EN = {"Accept-Language": "en"}
BLOCKED_SIGN_IN = "Too many failed sign-ins. Try again in 15 minutes."


def allowed(app, setting: str) -> int:
    return parse(app.config["RATE_LIMITS"][setting]).amount


@contextmanager
def own_app(database_url: str, **settings):
    app = make_app(database_url, **settings)
    yield app
    with app.app_context():
        db.engine.dispose()


def sign_in(client, login: str, password: str, address: str = "127.0.0.1"):
    page = client.get("/login", headers=EN, environ_base={"REMOTE_ADDR": address})
    return client.post(
        "/login", data={"csrf_token": csrf_token(page.text), "login": login, "password": password},
        headers=EN, environ_base={"REMOTE_ADDR": address},
    )


def fail_sign_ins(app, login: str, times: int, address: str = "127.0.0.1") -> None:
    for _ in range(times):
        response = sign_in(app.test_client(), login, "wrong-password", address)
        assert response.status_code == 200, response.status_code


# --- Sign-in ----------------------------------------------------------------------------


def test_failed_sign_ins_block_that_login_even_with_the_right_password(sqlite_app):
    app = sqlite_app
    add_user(app, "tech")
    fail_sign_ins(app, "tech", allowed(app, "sign_in_per_login"))

    blocked = sign_in(app.test_client(), "tech", PASSWORD)
    assert blocked.status_code == 429
    assert BLOCKED_SIGN_IN in blocked.text
    assert 'value="tech"' in blocked.text  # what was typed is kept
    assert int(blocked.headers["Retry-After"]) == 15 * 60
    # Another login from the same address is not affected.
    add_user(app, "tech2")
    assert sign_in(app.test_client(), "tech2", PASSWORD).status_code == 302


def test_a_blocked_login_looks_the_same_whether_or_not_it_exists(sqlite_app):
    app = sqlite_app
    add_user(app, "tech")
    answers = {}
    for login in ("tech", "nobody"):
        fail_sign_ins(app, login, allowed(app, "sign_in_per_login"))
        response = sign_in(app.test_client(), login, "wrong-password")
        answers[login] = (response.status_code, response.text.replace(f'value="{login}"', ""))
    existing, missing = answers["tech"], answers["nobody"]
    assert existing[0] == missing[0] == 429
    strip = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')
    assert strip.sub("", existing[1]) == strip.sub("", missing[1])


def test_signing_in_successfully_is_never_counted(sqlite_app):
    app = sqlite_app
    add_user(app, "tech")
    for _ in range(allowed(app, "sign_in_per_login") + 2):
        assert sign_in(app.test_client(), "tech", PASSWORD).status_code == 302


def test_the_login_limit_is_not_dodged_by_case_or_spaces(sqlite_app):
    app = sqlite_app
    for index in range(allowed(app, "sign_in_per_login")):
        fail_sign_ins(app, ("Tech", " tech", "TECH ")[index % 3], 1)
    assert sign_in(app.test_client(), "tech", "wrong-password").status_code == 429


def test_failed_sign_ins_from_one_address_block_it_for_every_login(sqlite_app):
    app = sqlite_app
    add_user(app, "tech")
    for index in range(allowed(app, "sign_in_per_address")):
        fail_sign_ins(app, f"guess-{index}", 1, address="198.51.100.9")

    assert sign_in(app.test_client(), "tech", PASSWORD, "198.51.100.9").status_code == 429
    assert sign_in(app.test_client(), "tech", PASSWORD, "198.51.100.10").status_code == 302


def test_behind_our_proxy_a_client_cannot_dodge_the_limit_by_forging_its_address(sqlite_app):
    with own_app(sqlite_app.config["SQLALCHEMY_DATABASE_URI"], TRUSTED_PROXIES=1) as app:
        for index in range(allowed(app, "sign_in_per_address")):
            client = app.test_client()
            page = client.get("/login")
            # The client forges a new first hop each time; our proxy appends the real one.
            client.post("/login", data={"csrf_token": csrf_token(page.text),
                                        "login": f"guess-{index}", "password": "x"},
                        headers={"X-Forwarded-For": f"10.0.0.{index}, 203.0.113.7"})
        forged = app.test_client().post(
            "/login", data={"login": "tech", "password": "x"},
            headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7", **EN},
        )
        assert forged.status_code == 429


# --- The public and busy doors ------------------------------------------------------------


def exhaust(client, url: str, times: int, **kwargs) -> None:
    for _ in range(times):
        assert client.get(url, **kwargs).status_code != 429


def test_verify_is_limited_per_address(sqlite_app):
    app = sqlite_app
    client = app.test_client()
    exhaust(client, "/verify?number=HO-2345-6789&code=AAAAA-BBBBB", allowed(app, "verify"))

    blocked = client.get("/verify?number=HO-2345-6789&code=CCCCC-DDDDD", headers=EN)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert int(blocked.headers["Retry-After"]) == 60
    other = app.test_client().get("/verify", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert other.status_code == 200


def test_the_subscriber_link_and_its_receipt_share_one_limit(sqlite_app):
    app = sqlite_app
    client = app.test_client()
    token = "A" * 24  # unknown links count too: guessing is what the limit stops
    exhaust(client, f"/s/{token}", allowed(app, "subscriber_link") - 1)
    assert client.get(f"/s/{token}/receipt.pdf").status_code == 404
    assert client.get(f"/s/{token}", headers=EN).status_code == 429
    assert client.get(f"/s/{token}/receipt.pdf").status_code == 429


def test_support_search_is_limited_per_agent(sqlite_app):
    app = sqlite_app
    agent = app.test_client(user=add_user(app, "agent", Role.SUPPORT))
    colleague = app.test_client(user=add_user(app, "agent2", Role.SUPPORT))
    exhaust(agent, "/support/?q=Orlov", allowed(app, "support_search"))

    assert agent.get("/support/?q=Orlov", headers=EN).status_code == 429
    assert colleague.get("/support/?q=Orlov").status_code == 200


def test_the_api_is_limited_per_client_with_a_problem_answer(sqlite_app):
    from webapp.api.auth import create_client

    app = sqlite_app
    with app.app_context():
        tokens = [create_client(name, ["receipts:read"])[1] for name in ("one", "two")]
        db.session.commit()
    first, second = ({"Authorization": f"Bearer {token}"} for token in tokens)
    client = app.test_client()
    exhaust(client, "/api/v1/receipts", allowed(app, "api"), headers=first)

    blocked = client.get("/api/v1/receipts", headers=first)
    assert blocked.status_code == 429
    assert blocked.mimetype == "application/problem+json"
    assert blocked.get_json()["status"] == 429
    assert int(blocked.headers["Retry-After"]) == 60
    assert client.get("/api/v1/receipts", headers=second).status_code != 429


# --- Shared across app servers ------------------------------------------------------------


def test_two_app_instances_count_sign_in_failures_together_in_redis(sqlite_app, redis_url):
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    add_user(sqlite_app, "tech")
    with own_app(url, RATELIMIT_STORAGE_URI=redis_url) as one, \
            own_app(url, RATELIMIT_STORAGE_URI=redis_url) as two:
        for index in range(allowed(one, "sign_in_per_login")):
            fail_sign_ins((one, two)[index % 2], "tech", 1)

        assert sign_in(one.test_client(), "tech", PASSWORD).status_code == 429
        assert sign_in(two.test_client(), "tech", PASSWORD).status_code == 429


def test_apps_with_memory_storage_count_apart(sqlite_app):
    """The reason production needs Redis: without it each process has its own count."""
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    add_user(sqlite_app, "tech")
    with own_app(url) as one, own_app(url) as two:
        fail_sign_ins(one, "tech", allowed(one, "sign_in_per_login"))
        assert sign_in(one.test_client(), "tech", PASSWORD).status_code == 429
        assert sign_in(two.test_client(), "tech", PASSWORD).status_code == 302


def test_an_unreachable_redis_still_serves_and_still_limits(sqlite_app):
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    add_user(sqlite_app, "tech")
    with own_app(url, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0") as app:
        assert app.test_client().get("/login").status_code == 200
        fail_sign_ins(app, "tech", allowed(app, "sign_in_per_login"))
        assert sign_in(app.test_client(), "tech", PASSWORD).status_code == 429
