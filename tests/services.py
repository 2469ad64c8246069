"""Real services for the tests that need them: Redis (as `.ci/run` starts it, or a
private redis-server on a socket when only the Debian package is installed)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

# CI sets these so a missing Redis fails the run instead of quietly skipping.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1"


def free_port() -> int:
    """A loopback port nobody listens on (until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
