"""Every kind of staff page in Chromium under the Content-Security-Policy: nothing
blocked, no script error, and the scripts that a page needs really run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.browser import MIN_TAP, SMALL_TARGETS, new_page, sign_in
from tests.conftest import add_user, close_job, freeze, make_handover
from tests.tools import needs
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import Receipt

pytestmark = needs("pdftotext")


@pytest.fixture(params=[(1024, "en-US"), (360, "en-US"), (360, "ru-RU")],
                ids=["tablet", "phone", "phone-ru"])
def tablet(browser, request):
    width, locale = request.param
    page = new_page(browser, locale, viewport={"width": width, "height": 768}, has_touch=True)
    # Staff pages are held to warnings too.
    page.on("console", lambda message: message.type == "warning"
            and page.problems.append(message.text))
    yield page
    # Let the icon and stylesheet requests finish: one cut off by the closing browser
    # leaves the server's file open.
    page.wait_for_load_state("networkidle")
    page.context.close()


def visit(page, url: str) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    assert page.problems == [], f"{url}: {page.problems}"
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, url
    assert page.evaluate(SMALL_TARGETS, MIN_TAP) == [], url


@pytest.fixture
def shop(live_app):
    """A technician with one job waiting for the subscriber and one closed with a
    discrepancy; a support agent and an admin."""
    technician = add_user(live_app, "tech")
    add_user(live_app, "agent", Role.SUPPORT)
    add_user(live_app, "boss", Role.ADMIN)
    waiting = make_handover(live_app, technician, order_number="ORD-1")
    freeze(live_app, waiting)
    closed = make_handover(live_app, technician, order_number="ORD-2")
    # Signed on another thread: Playwright's event loop counts as running on this one,
    # and pyHanko signs with asyncio.run().
    with ThreadPoolExecutor(1) as other:
        other.submit(close_job, live_app, technician, closed, freeze(live_app, closed)).result()
    with live_app.app_context():
        number = db.session.scalar(db.select(Receipt.number))
    return {"waiting": waiting, "closed": closed, "number": number}


def test_technician_pages_run_their_scripts_under_the_csp(live_server, tablet, shop):
    url = live_server.url
    sign_in(tablet, url, "tech")
    visit(tablet, f"{url}/handovers/")
    visit(tablet, f"{url}/handovers/new")
    rows = tablet.locator("[data-row]").count()
    tablet.locator("[data-add-row]").first.click()  # rows.js: shown and working
    assert tablet.locator("[data-row]").count() == rows + 1
    visit(tablet, f"{url}/handovers/{shop['waiting'].public_id}")
    assert tablet.locator("svg").count() >= 1  # the QR code, an inline SVG image
    visit(tablet, f"{url}/handovers/{shop['closed'].public_id}")
    assert tablet.problems == []


def test_support_and_admin_pages_show_under_the_csp(live_server, tablet, shop):
    url = live_server.url
    sign_in(tablet, url, "agent")
    for path in ("/support/?q=Orlov", f"/support/receipts/{shop['number']}",
                 "/support/discrepancies", "/support/technicians"):
        visit(tablet, url + path)
    # Every answer refreshes the session cookie: wait for the last one (the icon), or it
    # could sign the agent back in after the cookies are cleared.
    tablet.wait_for_load_state("networkidle")
    tablet.context.clear_cookies()
    sign_in(tablet, url, "boss")
    visit(tablet, f"{url}/admin/users")
    visit(tablet, f"{url}/verify")
    # The stylesheet applied (blocked, the body would keep the browser's 8px margin).
    assert tablet.evaluate("getComputedStyle(document.body).marginTop") == "0px"
