"""The technician's device handed to the subscriber, in Chromium on a phone and a tablet."""

import pytest

from tests.browser import MIN_TAP, PHONE, SMALL_TARGETS, TABLET, new_page, sign_in
from tests.conftest import add_user, freeze, make_handover

KIOSK_PAGE = "This device is with the subscriber"


@pytest.fixture(params=[PHONE, TABLET], ids=["phone", "tablet"])
def device(browser, request):
    page = new_page(browser, **request.param)
    yield page
    # Let the icon and stylesheet requests finish: one cut off by the closing browser
    # leaves the server's file open.
    page.wait_for_load_state("networkidle")
    page.context.close()


def fits(page) -> None:
    """Nothing scrolls sideways, every tap target is large, nothing failed or was blocked."""
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, page.url
    assert page.evaluate(SMALL_TARGETS, MIN_TAP) == [], page.url
    assert page.problems == [], f"{page.url}: {page.problems}"


def test_a_handed_over_device_shows_the_subscriber_nothing_of_the_technician(
    live_app, live_server, device
):
    technician = add_user(live_app, "tech", full_name="Ivan Technician")
    handover = make_handover(live_app, technician)
    freeze(live_app, handover)
    sign_in(device, live_server.url, "tech")
    device.goto(f"{live_server.url}/handovers/{handover.public_id}")

    with device.expect_navigation():
        device.get_by_role("button", name="Hand this device to the subscriber").click()

    assert "/s/" in device.url
    subscriber_page = device.url
    assert device.locator("h1").inner_text() == "Check your installation"
    assert device.locator("header nav, header a").count() == 0  # no staff navigation
    assert device.get_by_text("Sign out").count() == 0
    fits(device)

    device.go_back()  # the technician's page, from the browser's history
    assert device.locator("h1").inner_text() == KIOSK_PAGE
    assert "Ivan Technician" not in device.content()

    device.goto(f"{live_server.url}/handovers/")
    assert device.locator("h1").inner_text() == KIOSK_PAGE
    assert "Ivan Technician" not in device.content()
    assert "Pavel Orlov" not in device.content()
    fits(device)

    with device.expect_navigation():
        device.get_by_role("link", name="Back to the subscriber's page").click()
    assert device.url == subscriber_page
