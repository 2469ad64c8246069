"""A real server and Debian's Chromium for the tests that need a browser."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# CI sets this so a missing browser fails the run instead of quietly skipping.
REQUIRE_BROWSER = os.environ.get("REQUIRE_BROWSER") == "1"


def require_chromium() -> None:
    if not CHROMIUM.exists():
        if REQUIRE_BROWSER:
            pytest.fail("REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (make test installs it as root)")


# Per module, not per session: while Playwright's sync API runs, its event loop
# counts as running in the main thread, and later tests that call asyncio.run()
# (pyHanko signing a receipt) would fail.
@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


class LiveServer:
    """The app served over HTTP on 127.0.0.1 by a thread, as a browser reaches it."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=10)


@pytest.fixture
def live_app(sqlite_app):
    return sqlite_app


@pytest.fixture
def live_server(live_app):
    with LiveServer(live_app) as server:
        yield server
