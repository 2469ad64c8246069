"""A real server and Debian's Chromium for the tests that need a browser, and the
checks every page must pass there: axe-core, the layout on a phone, tap targets."""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
# axe-core from the npm registry, installed by `make test` (tests/a11y/package.json).
AXE = ROOT / "tests" / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
# Screenshots of each step, for people to look at (git-ignored).
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
PHONE = {"viewport": {"width": 360, "height": 740}, "has_touch": True, "is_mobile": True}
TABLET = {"viewport": {"width": 768, "height": 1024}, "has_touch": True}
MIN_TAP = 44
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


def new_page(browser, locale: str = "en-US", **options):
    """A page in a fresh context that records what the CSP blocked, script errors and
    failed requests, with axe-core ready (added by the browser, so the CSP allows it)."""
    context = browser.new_context(locale=locale, **options)
    if AXE.exists():
        context.add_init_script(path=str(AXE))
    context.set_default_timeout(20_000)  # a step that cannot happen fails, never hangs
    page = context.new_page()
    page.problems = []
    page.scripts = options.get("java_script_enabled", True)
    # A page may be a deliberate 404 (a used link); what it loads may not fail.
    page.on("console", lambda message: message.type == "error"
            and not message.text.startswith("Failed to load resource")
            and page.problems.append(message.text))
    page.on("pageerror", lambda error: page.problems.append(str(error)))
    page.on("response", lambda response: response.status >= 400
            and response.request.resource_type != "document"
            and page.problems.append(f"{response.status} {response.url}"))
    return page


def sign_in(page, url: str, login: str, check=None) -> None:
    """Sign in through the form, as a person does; `check` looks at the form first."""
    from tests.conftest import PASSWORD

    page.goto(f"{url}/login")
    if check:
        check(page)
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("#submit").click()


def axe_problems(page) -> list[str]:
    """The serious and critical accessibility violations axe-core finds on the page."""
    if not AXE.exists():
        if REQUIRE_BROWSER:
            pytest.fail(f"axe-core is missing at {AXE}: `make test` installs it with npm")
        pytest.skip("axe-core is not installed (make test installs it with npm)")
    violations = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations
            .filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', '));
    }""")
    return violations


SMALL_TARGETS = """(min) => {
    const seen = el => {
        const box = el.getBoundingClientRect();
        return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';
    };
    const small = [];
    const controls = 'button, a.button, nav a, header a, .pager a, input, select, textarea, '
        + 'label, summary';
    for (const el of document.querySelectorAll(controls)) {
        if (!seen(el) || el.type === 'hidden') continue;
        const choice = el.type === 'checkbox' || el.type === 'radio';
        // A box or a round button is tapped through its label, which must be large.
        if (choice && [...(el.labels || [])].some(l => l.getBoundingClientRect().height >= min))
            continue;
        const target = el.control && ['checkbox', 'radio'].includes(el.control.type);
        if (el.tagName === 'LABEL' && !target) continue;
        const box = el.getBoundingClientRect();
        if (box.height < min || box.width < min)
            small.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + ' "' +
                (el.innerText || el.value || '').trim().slice(0, 30) + '" ' +
                Math.round(box.width) + 'x' + Math.round(box.height));
    }
    return small;
}"""


class Journey:
    """Checks each page a person reaches and saves a screenshot of it."""

    def __init__(self, name: str):
        self.folder = SCREENSHOTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.step = 0
        self.checked: list[str] = []

    def check(self, page, name: str) -> None:
        """Axe finds nothing serious, nothing scrolls sideways, every tap target is large
        enough, nothing was blocked or failed; then a screenshot."""
        page.wait_for_load_state("load")
        self.step += 1
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
        page.screenshot(path=str(self.folder / f"{self.step:02d}-{slug}.png"), full_page=True)
        width = page.viewport_size["width"]
        assert page.evaluate("document.documentElement.scrollWidth") <= width, name
        assert page.evaluate(SMALL_TARGETS, MIN_TAP) == [], name
        if page.scripts:  # axe-core needs the page's timers, which stop without scripts
            assert axe_problems(page) == [], name
        assert page.problems == [], f"{name}: {page.problems}"
        self.checked.append(f"{page.url} {json.dumps(name)}")


def draw_with_a_finger(page, selector="canvas"):
    """Draw two strokes with real touch events, through the DevTools protocol."""
    canvas = page.locator(selector)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    cdp = page.context.new_cdp_session(page)

    def touch(kind, points):
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    for stroke in ([(0.1, 0.6), (0.3, 0.2), (0.5, 0.7), (0.7, 0.3)], [(0.2, 0.8), (0.8, 0.8)]):
        points = [{"x": box["x"] + fx * box["width"], "y": box["y"] + fy * box["height"]}
                  for fx, fy in stroke]
        touch("touchStart", [points[0]])
        for point in points[1:]:
            touch("touchMove", [point])
        touch("touchEnd", [])


def draw_with_a_mouse(page, selector="canvas"):
    canvas = page.locator(selector)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.move(box["x"] + 0.1 * box["width"], box["y"] + 0.5 * box["height"])
    page.mouse.down()
    for fx, fy in ((0.3, 0.2), (0.5, 0.8), (0.8, 0.3)):
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"], steps=5)
    page.mouse.up()


def weigh(page, url: str) -> tuple[int, set[str]]:
    """Open the URL and return the bytes it transferred with every asset it loaded
    (as the network log counts them, compressed if served compressed), and the hosts
    it asked."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    sizes: dict[str, int] = {}
    hosts: set[str] = set()
    def asked(event):
        address = urlsplit(event["request"]["url"])
        if address.scheme in ("http", "https", "ws", "wss"):  # not data: or blob:
            hosts.add(address.netloc)

    cdp.on("Network.requestWillBeSent", asked)
    cdp.on("Network.loadingFinished",
           lambda event: sizes.__setitem__(event["requestId"], event["encodedDataLength"]))
    page.goto(url)
    page.wait_for_load_state("networkidle")
    cdp.detach()
    return sum(sizes.values()), hosts
