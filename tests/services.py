"""Real services for the tests that need them: Redis (as `.ci/run` starts it, or a
private redis-server on a socket when only the Debian package is installed), and the
app itself under gunicorn with the repository's production configuration."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bench.client import Browser, free_port  # noqa: F401 - the tests' own as well

# CI sets these so a missing Redis fails the run instead of quietly skipping.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def redis_server():
    """The URL of a running Redis for limit storage (limits' scheme)."""
    if TEST_REDIS_URL:
        yield TEST_REDIS_URL
        return
    binary = shutil.which("redis-server")
    if binary is None:
        if REQUIRE_REDIS:
            pytest.fail("REQUIRE_REDIS=1 but neither TEST_REDIS_URL nor redis-server is available")
        pytest.skip("redis-server is not installed (make test installs it as root)")
    # A short path: a Unix socket's path may not exceed about 107 bytes.
    directory = Path(tempfile.mkdtemp(prefix="ho-redis-", dir="/tmp"))
    socket = directory / "redis.sock"
    log = directory / "redis.log"
    server = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket), "--save", "",
         "--appendonly", "no", "--dir", str(directory), "--logfile", str(log)],
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    url = f"redis+unix://{socket}"
    try:
        if not answers(url, server):
            pytest.fail(f"redis-server did not start: {log.read_text() if log.exists() else ''}")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


def answers(url: str, server: subprocess.Popen) -> bool:
    """Wait until the server answers a ping (or has exited)."""
    from limits.storage import storage_from_string

    for _ in range(100):
        if server.poll() is not None:
            return False
        if storage_from_string(url).check():  # a ping; False while not listening
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def redis_url(redis_server):
    """The shared Redis, emptied for this test."""
    from limits.storage import storage_from_string

    storage = storage_from_string(redis_server)
    assert storage.check(), f"Redis at {redis_server} does not answer"
    storage.reset()
    return redis_server


@dataclass
class Server:
    """A running gunicorn: its base URL, its master process and where it logs."""

    url: str
    master: subprocess.Popen
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def gunicorn(
    database_url: str, storage_uri: str = "memory://", *, workers: int = 1, **environ: str
) -> Iterator[Server]:
    """One production app server from gunicorn.conf.py on its own port, ready; the
    keyword arguments add or override environment variables (MAX_REQUESTS=…, …)."""
    with gunicorn_started(database_url, storage_uri, workers=workers, **environ) as server:
        wait_ready(server)
        yield server


def production_environ(database_url: str, storage_uri: str = "memory://", **environ: str) -> dict:
    """The environment a production process of the app runs with (a server, a worker),
    on the test's database and signing certificate; keyword arguments add to it."""
    from bench.apps import production_environ as bench_production_environ
    from tests.conftest import SIGNING_PASSPHRASE, signing_files

    p12, root = signing_files()
    receipts = {"RECEIPT_SIGNING_P12": p12, "RECEIPT_SIGNING_PASSPHRASE": SIGNING_PASSPHRASE,
                "RECEIPT_TRUST_ROOT": root}
    return bench_production_environ(database_url, receipts, storage_uri, **environ)


@contextmanager
def gunicorn_started(
    database_url: str, storage_uri: str = "memory://", *, workers: int = 1, **environ: str
) -> Iterator[Server]:
    """The same server, not waited for: the caller waits for it to be ready or to exit."""
    port = free_port()
    environ = production_environ(
        database_url, storage_uri, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY=str(workers),
        TRUSTED_PROXIES="1", **environ,
    )
    # The log goes to a file: a pipe nobody reads would block a chatty server.
    log = Path(tempfile.mkstemp(prefix="ho-gunicorn-", suffix=".log")[1])
    with log.open("w") as stderr:
        master = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=environ, stdout=subprocess.DEVNULL, stderr=stderr, text=True,
        )
    server = Server(f"http://127.0.0.1:{port}", master, log)
    try:
        yield server
    finally:
        master.terminate()
        master.wait(timeout=30)
        log.unlink(missing_ok=True)


def wait_ready(server: Server, seconds: float = 30) -> None:
    """Wait until the server answers /readyz with 200."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{server.url}/readyz", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            assert server.master.poll() is None, server.log_text()
        time.sleep(0.2)
    pytest.fail(f"gunicorn did not become ready:\n{server.log_text()}")


def wait_exit(server: Server, seconds: float = 30) -> int:
    """Wait until the master exits and return its status; fail if it serves instead."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.master.poll() is not None:
            return server.master.returncode
        try:
            answer = requests.get(f"{server.url}/readyz", timeout=5)
        except requests.ConnectionError:
            time.sleep(0.2)
            continue
        pytest.fail(f"gunicorn served (/readyz {answer.status_code}) instead of exiting:\n"
                    f"{server.log_text()}")
    pytest.fail(f"gunicorn neither exited nor served:\n{server.log_text()}")


def sign_in(session: requests.Session, url: str, password: str | None = None,
            login: str = "tech"):
    """Sign in through the login page as a browser would (the right password by default)."""
    from tests.conftest import PASSWORD, csrf_token

    page = session.get(f"{url}/login")
    return session.post(f"{url}/login", allow_redirects=False, data={
        "csrf_token": csrf_token(page.text), "login": login, "password": password or PASSWORD,
    })


def press(session: requests.Session, url: str, public_id: str, action: str, data=None):
    """Press a button on the handover's page through a real server."""
    from tests.conftest import csrf_token

    page = session.get(f"{url}/handovers/{public_id}")
    return session.post(f"{url}/handovers/{public_id}/{action}", allow_redirects=False,
                        data={"csrf_token": csrf_token(page.text), **(data or {})})
