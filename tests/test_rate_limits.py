"""Rate limits on the doors that face guessing and load, in memory and in a real Redis
shared by two app instances or by the workers of one gunicorn server."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from limits import parse

from tests.conftest import PASSWORD, add_user, csrf_token, freeze, make_app, make_handover
from tests.services import Browser, free_port, gunicorn, gunicorn_started, wait_exit
from tests.services import sign_in as sign_in_over_http
from tests.tools import needs
from webapp import limits
from webapp.config import Config
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import AuditEvent

EN = {"Accept-Language": "en"}
BLOCKED_SIGN_IN = re.compile(r"Too many failed sign-ins\. Try again in (\d+) minutes\.")


def allowed(app, setting: str) -> int:
    return parse(app.config["RATE_LIMITS"][setting]).amount


@contextmanager
def own_app(database_url: str, **settings):
    app = make_app(database_url, **settings)
    yield app
    with app.app_context():
        db.engine.dispose()


def lowered(**limits) -> dict:
    """RATE_LIMITS with some limits lowered, so a test reaches them in a few attempts."""
    return {"RATE_LIMITS": {**Config.RATE_LIMITS, **limits}}


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


def assert_sign_in_blocked(response, window_minutes: int = 15) -> None:
    assert response.status_code == 429
    minutes = int(BLOCKED_SIGN_IN.search(response.text).group(1))
    assert 1 <= minutes <= window_minutes
    assert 0 < int(response.headers["Retry-After"]) <= window_minutes * 60


# --- Sign-in ----------------------------------------------------------------------------


def test_failed_sign_ins_block_that_login_from_that_address_even_with_the_right_password(
    sqlite_app,
):
    app = sqlite_app
    add_user(app, "tech")
    fail_sign_ins(app, "tech", allowed(app, "sign_in_per_login_and_address"), "198.51.100.7")

    blocked = sign_in(app.test_client(), "tech", PASSWORD, "198.51.100.7")
    assert_sign_in_blocked(blocked)
    assert 'value="tech"' in blocked.text  # what was typed is kept
    # The technician on their own tablet elsewhere is not locked out by it.
    assert sign_in(app.test_client(), "tech", PASSWORD, "203.0.113.5").status_code == 302


def test_a_login_tried_from_many_addresses_is_blocked_everywhere(sqlite_app):
    app = sqlite_app
    add_user(app, "tech")
    per_address = allowed(app, "sign_in_per_login_and_address")
    for index in range(allowed(app, "sign_in_per_login") // per_address):
        fail_sign_ins(app, "tech", per_address, f"192.0.2.{index + 1}")

    assert_sign_in_blocked(sign_in(app.test_client(), "tech", PASSWORD, "192.0.2.200"))


def test_a_blocked_login_looks_the_same_whether_or_not_it_exists(sqlite_app):
    app = sqlite_app
    add_user(app, "tech")
    answers = {}
    for login in ("tech", "nobody"):
        fail_sign_ins(app, login, allowed(app, "sign_in_per_login_and_address"))
        response = sign_in(app.test_client(), login, "wrong-password")
        answers[login] = (response.status_code, response.text.replace(f'value="{login}"', ""))
    existing, missing = answers["tech"], answers["nobody"]
    assert existing[0] == missing[0] == 429
    strip = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')
    assert strip.sub("", existing[1]) == strip.sub("", missing[1])


def test_a_right_password_clears_the_logins_failures(sqlite_app):
    app = sqlite_app
    add_user(app, "tech")
    for _ in range(3):
        fail_sign_ins(app, "tech", allowed(app, "sign_in_per_login_and_address") - 1)
        assert sign_in(app.test_client(), "tech", PASSWORD).status_code == 302


def test_the_login_limit_is_not_dodged_by_case_or_spaces(sqlite_app):
    app = sqlite_app
    for index in range(allowed(app, "sign_in_per_login_and_address")):
        fail_sign_ins(app, ("Tech", " tech", "TECH ")[index % 3], 1)
    assert_sign_in_blocked(sign_in(app.test_client(), "tech", "wrong-password"))


def test_a_burst_of_guesses_at_once_cannot_slip_past_the_limit(sqlite_app):
    app = sqlite_app
    add_user(app, "tech")
    pages = [app.test_client() for _ in range(20)]
    tokens = [csrf_token(client.get("/login").text) for client in pages]
    start = threading.Barrier(len(pages))
    codes = []

    def guess(index):
        start.wait()
        codes.append(pages[index].post("/login", data={
            "csrf_token": tokens[index], "login": "tech", "password": f"guess-{index}",
        }).status_code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(len(pages))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    assert codes.count(200) == allowed(app, "sign_in_per_login_and_address")  # checked
    assert codes.count(429) == len(pages) - codes.count(200)  # refused unchecked


def test_sign_in_attempts_from_one_address_block_it_for_every_login(sqlite_app):
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    add_user(sqlite_app, "tech")
    with own_app(url, **lowered(sign_in_per_address="5 per 15 minutes")) as app:
        for index in range(allowed(app, "sign_in_per_address")):
            fail_sign_ins(app, f"guess-{index}", 1, address="198.51.100.9")

        assert_sign_in_blocked(sign_in(app.test_client(), "tech", PASSWORD, "198.51.100.9"))
        assert sign_in(app.test_client(), "tech", PASSWORD, "198.51.100.10").status_code == 302


def test_attempts_refused_at_a_blocked_address_do_not_count_against_the_login(sqlite_app):
    """Otherwise one blocked address could keep any known login locked for free."""
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    add_user(sqlite_app, "victim")
    limits = lowered(sign_in_per_address="3 per 15 minutes", sign_in_per_login="5 per 15 minutes")
    with own_app(url, **limits) as app:
        fail_sign_ins(app, "someone", 3, address="198.51.100.66")
        for _ in range(10):
            assert sign_in(app.test_client(), "victim", "x", "198.51.100.66").status_code == 429
        assert sign_in(app.test_client(), "victim", PASSWORD, "203.0.113.1").status_code == 302


def test_a_client_cannot_dodge_the_limit_with_the_rest_of_its_ipv6_network(sqlite_app):
    app = sqlite_app
    for index in range(allowed(app, "sign_in_per_login_and_address")):
        fail_sign_ins(app, "tech", 1, address=f"2001:db8:1:2::{index + 1:x}")
    assert_sign_in_blocked(sign_in(app.test_client(), "tech", "x", "2001:db8:1:2::ffff"))


def test_behind_our_proxy_a_client_cannot_dodge_the_limit_by_forging_its_address(sqlite_app):
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    with own_app(url, TRUSTED_PROXIES=1, **lowered(sign_in_per_address="5 per 15 minutes")) \
            as app:
        for index in range(allowed(app, "sign_in_per_address")):
            client = app.test_client()
            page = client.get("/login")
            # The client forges a new first hop each time; our proxy appends the real one.
            client.post("/login", data={"csrf_token": csrf_token(page.text),
                                        "login": f"guess-{index}", "password": "x"},
                        headers={"X-Forwarded-For": f"10.0.0.{index}, 203.0.113.7"})
        client = app.test_client()
        page = client.get("/login")
        forged = client.post(
            "/login", data={"csrf_token": csrf_token(page.text), "login": "tech", "password": "x"},
            headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7", **EN},
        )
        assert_sign_in_blocked(forged)


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
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    other = app.test_client().get("/verify", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert other.status_code == 200


def test_the_subscriber_link_and_its_receipt_share_one_limit(sqlite_app):
    app = sqlite_app
    client = app.test_client()
    # Unknown links count too: guessing one link after another is what the limit stops
    # (one link asked for again and again meets its own limit first).
    for index in range(allowed(app, "subscriber_link") - 1):
        assert client.get(f"/s/{index:024d}").status_code == 404
    token = "A" * 24
    assert client.get(f"/s/{token}/receipt.pdf").status_code == 404
    assert client.get(f"/s/{token}", headers=EN).status_code == 429
    assert client.get(f"/s/{token}/receipt.pdf").status_code == 429


def test_many_addresses_together_cannot_open_one_link_past_its_own_limit(sqlite_app):
    """Each opening is an audit event of the job: spreading a flood over addresses, each
    well under its own limit, must not add more than the link's own."""
    app = sqlite_app
    technician = add_user(app, "tech")
    jobs = [make_handover(app, technician, order_number=f"ORD-{n}") for n in (1, 2)]
    token, other = (freeze(app, job) for job in jobs)
    for index in range(allowed(app, "subscriber_link_per_link")):  # one request per address
        opened = app.test_client().get(
            f"/s/{token}", environ_base={"REMOTE_ADDR": f"198.51.100.{index + 1}"})
        assert opened.status_code == 200

    newcomer = {"REMOTE_ADDR": "203.0.113.9"}
    blocked = app.test_client().get(f"/s/{token}", headers=EN, environ_base=newcomer)
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.text
    assert 0 < int(blocked.headers["Retry-After"]) <= 60
    assert app.test_client().get(f"/s/{token}/receipt.pdf", environ_base=newcomer).status_code \
        == 429
    assert app.test_client().get(f"/s/{other}", environ_base=newcomer).status_code == 200
    with app.app_context():  # the job's trail holds only the openings let through
        opens = db.session.scalar(db.select(db.func.count()).where(
            AuditEvent.handover_id == jobs[0].id, AuditEvent.event == "subscriber.link_opened"))
    assert opens == allowed(app, "subscriber_link_per_link")


def test_support_search_is_limited_per_agent(sqlite_app):
    app = sqlite_app
    agent = app.test_client(user=add_user(app, "agent", Role.SUPPORT))
    colleague = app.test_client(user=add_user(app, "agent2", Role.SUPPORT))
    exhaust(agent, "/support/?q=Orlov", allowed(app, "support_search"))

    assert agent.get("/support/?q=Orlov", headers=EN).status_code == 429
    assert colleague.get("/support/?q=Orlov").status_code == 200


def api_tokens(app, *names) -> list[str]:
    from webapp.api.auth import create_client

    with app.app_context():
        tokens = [create_client(name, ["receipts:read"])[1] for name in names]
        db.session.commit()
    return tokens


def test_the_api_is_limited_per_client_however_the_token_is_written(sqlite_app):
    app = sqlite_app
    token, other = api_tokens(app, "one", "two")
    client = app.test_client()
    exhaust(client, "/api/v1/receipts", allowed(app, "api"),
            headers={"Authorization": f"Bearer {token}"})

    for spelling in (f"Bearer {token}", f"bearer  {token}", f"BEARER {token}   "):
        blocked = client.get("/api/v1/receipts", headers={"Authorization": spelling})
        assert blocked.status_code == 429
        assert blocked.mimetype == "application/problem+json"
        assert blocked.get_json()["status"] == 429
        assert 0 < int(blocked.headers["Retry-After"]) <= 60
    answered = client.get("/api/v1/receipts", headers={"Authorization": f"Bearer {other}"})
    assert answered.status_code != 429


def test_guessing_api_tokens_is_limited_per_address(sqlite_app):
    app = sqlite_app
    client = app.test_client()
    for index in range(allowed(app, "api_failed_auth")):
        guess = client.get("/api/v1/receipts", headers={"Authorization": f"Bearer ho_{index}"})
        assert guess.status_code == 401
    blocked = client.get("/api/v1/receipts", headers={"Authorization": "Bearer ho_next"})
    assert blocked.status_code == 429
    assert blocked.mimetype == "application/problem+json"
    elsewhere = client.get("/api/v1/receipts", environ_base={"REMOTE_ADDR": "192.0.2.9"},
                           headers={"Authorization": "Bearer ho_next"})
    assert elsewhere.status_code == 401


# --- Shared across app servers ------------------------------------------------------------


def test_two_app_instances_count_together_in_redis(sqlite_app, redis_url):
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    add_user(sqlite_app, "tech")
    with own_app(url, RATELIMIT_STORAGE_URI=redis_url) as one, \
            own_app(url, RATELIMIT_STORAGE_URI=redis_url) as two:
        for index in range(allowed(one, "sign_in_per_login_and_address")):
            fail_sign_ins((one, two)[index % 2], "tech", 1)
        assert_sign_in_blocked(sign_in(one.test_client(), "tech", PASSWORD))
        assert_sign_in_blocked(sign_in(two.test_client(), "tech", PASSWORD))

        for index in range(allowed(one, "verify")):
            assert (one, two)[index % 2].test_client().get("/verify").status_code == 200
        assert one.test_client().get("/verify").status_code == 429
        assert two.test_client().get("/verify").status_code == 429


def test_apps_with_memory_storage_count_apart(sqlite_app):
    """Why production must name a shared storage: in memory, each process counts alone
    (and two apps in one process do not share a limiter)."""
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    add_user(sqlite_app, "tech")
    with own_app(url) as one, own_app(url) as two:
        fail_sign_ins(one, "tech", allowed(one, "sign_in_per_login_and_address"))
        assert sign_in(one.test_client(), "tech", PASSWORD).status_code == 429
        assert sign_in(two.test_client(), "tech", PASSWORD).status_code == 302


@contextmanager
def silent_server():
    """A TCP server that accepts connections and never answers: a Redis gone silent."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted = []

    def accept():
        while True:
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
    finally:
        listener.close()
        for connection in accepted:
            connection.close()


@contextmanager
def refused_port():
    """A port nobody listens on: a Redis that is down."""
    yield f"redis://127.0.0.1:{free_port()}/0"


def test_a_redis_down_or_silent_still_serves_and_still_limits(sqlite_app):
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    add_user(sqlite_app, "tech")
    for broken in (refused_port, silent_server):
        with broken() as storage, own_app(url, RATELIMIT_STORAGE_URI=storage) as app:
            answers = []
            worker = threading.Thread(target=lambda: answers.append(  # noqa: B023
                app.test_client().get("/verify").status_code
            ))
            worker.start()
            worker.join(timeout=60)  # a hang would be forever; half a second is expected
            assert answers == [200], broken.__name__

            fail_sign_ins(app, "tech", allowed(app, "sign_in_per_login_and_address"))
            assert_sign_in_blocked(sign_in(app.test_client(), "tech", PASSWORD))
            for _ in range(allowed(app, "verify") - 1):
                app.test_client().get("/verify")
            assert app.test_client().get("/verify").status_code == 429


# --- The workers of one gunicorn server ---------------------------------------------------


@pytest.mark.parametrize(("uri", "workers", "enabled", "refused"), [
    ("memory://", 1, True, False),  # one process counts everything
    ("memory://", 2, True, True),
    ("memory://", 9, True, True),
    ("MEMORY://", 2, True, True),
    ("async+memory://", 4, True, True),
    ("redis://127.0.0.1:6379/0", 4, True, False),
    ("rediss://redis.example:6380/0", 4, True, False),
    ("redis+unix:///run/redis.sock", 4, True, False),
    ("memory://", 4, False, False),  # limits switched off (the benchmark): nothing counted
    (None, 4, True, False),  # an app without limits (the benchmark's bare "hello")
])
def test_workers_counting_in_their_own_memory_are_refused(uri, workers, enabled, refused):
    problem = limits.storage_problem(uri, workers, enabled=enabled)
    assert (problem is not None) is refused
    if refused:
        for named in ("RATELIMIT_STORAGE_URI", "redis://", "WEB_CONCURRENCY=1", str(workers)):
            assert named in problem


def test_gunicorn_refuses_to_start_workers_that_would_count_in_memory(sqlite_app):
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    with gunicorn_started(url, "memory://", workers=2) as server:
        status = wait_exit(server)
        log = server.log_text()
    assert status != 0, log
    assert "RATELIMIT_STORAGE_URI is memory://" in log and "redis://host:6379/0" in log, log


def worker_pids(server, count: int) -> set[int]:
    """The master's worker processes, once it has `count` of them."""
    master = server.master.pid
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if len(children) == count:
            return {int(pid) for pid in children}
        time.sleep(0.1)
    pytest.fail(f"gunicorn did not start {count} workers:\n{server.log_text()}")


def accepted_by(connection: socket.socket, pids: set[int]) -> int | None:
    """The worker holding the server's end of a loopback connection (None until one
    has accepted it: a queued connection has no socket inode yet)."""
    server_port, client_port = connection.getpeername()[1], connection.getsockname()[1]
    ends = f"0100007F:{server_port:04X} 0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if " ".join(fields[1:3]) == ends and fields[9] != "0":
            inode = f"socket:[{fields[9]}]"
            return next((pid for pid in pids for fd in Path(f"/proc/{pid}/fd").iterdir()
                         if readlink(fd) == inode), None)
    return None


def readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:  # closed while we looked
        return ""


def hold(server, pids: set[int]) -> tuple[socket.socket, int]:
    """Send a request all but its last line; the sync worker that takes it waits on it."""
    host, port = server.url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)), timeout=30)
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: held\r\n")
    deadline = time.monotonic() + 30
    while (pid := accepted_by(connection, pids)) is None:
        if time.monotonic() > deadline:
            connection.close()
            pytest.fail("no worker accepted the connection")
        time.sleep(0.02)
    return connection, pid


def release(connection: socket.socket) -> None:
    """Finish the held request and read the answer, which frees its worker."""
    connection.sendall(b"\r\n")
    while connection.recv(65536):
        pass
    connection.close()


@contextmanager
def answered_by(server, pid: int, pids: set[int]):
    """Keep every other worker busy, so that `pid` answers whatever comes next."""
    held = []
    try:
        while not pids - {pid} <= {holder for _, holder in held}:
            held.append(hold(server, pids))
        for connection, holder in [h for h in held if h[1] == pid]:
            release(connection)
            held.remove((connection, holder))
        yield
    finally:
        for connection, _ in held:
            release(connection)


@needs("pdftotext")
def test_gunicorn_workers_count_sign_in_failures_together_in_redis(sqlite_app, redis_url):
    url = sqlite_app.config["SQLALCHEMY_DATABASE_URI"]
    add_user(sqlite_app, "tech")
    limit = allowed(sqlite_app, "sign_in_per_login_and_address")
    with gunicorn(url, redis_url, workers=2) as server:
        pids = worker_pids(server, 2)
        first, second = sorted(pids)
        for attempt in range(limit):  # the workers take turns, each on new connections
            with answered_by(server, (first, second)[attempt % 2], pids):
                assert sign_in_over_http(Browser(), server.url, "wrong-password").status_code \
                    == 200
        for pid in (first, second):
            with answered_by(server, pid, pids):
                assert sign_in_over_http(Browser(), server.url, "wrong-password").status_code \
                    == 429
                assert sign_in_over_http(Browser(), server.url).status_code == 429
        assert worker_pids(server, 2) == pids  # the same two workers throughout
