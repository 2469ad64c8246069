"""Real services for the tests that need them: Redis (as `.ci/run` starts it, or a
private redis-server on a socket when only the Debian package is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

# CI sets these so a missing Redis fails the run instead of quietly skipping.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
REQUIRE_REDIS = os.environ.get("REQUIRE_REDIS") == "1"


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
    directory = Path(tempfile.mkdtemp(prefix="handover-redis-"))
    socket = directory / "redis.sock"
    server = subprocess.Popen(
        [binary, "--port", "0", "--unixsocket", str(socket), "--save", "",
         "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if socket.exists():
                break
            time.sleep(0.05)
        yield f"redis+unix://{socket}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server):
    """The shared Redis, emptied for this test."""
    from limits.storage import storage_from_string

    storage = storage_from_string(redis_server)
    storage.reset()
    return redis_server
