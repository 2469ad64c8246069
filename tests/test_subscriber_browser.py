"""The subscriber's page in a real browser on a phone-sized, touch screen."""

import pytest

from tests.browser import PHONE, draw_with_a_finger
from tests.conftest import add_user, freeze, make_handover
from webapp.extensions import db
from webapp.models import Handover


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="en-US", **PHONE)
    page = context.new_page()
    page.requests = []
    page.on("request", lambda request: page.requests.append(request.url))
    # Chromium reports what the Content-Security-Policy blocked on the console.
    page.blocked = []
    page.on("console", lambda message: "Content Security Policy" in message.text
            and page.blocked.append(message.text))
    yield page
    assert page.blocked == [], "the page needs something its CSP forbids"
    context.close()


@pytest.fixture
def waiting_handover(live_app):
    technician = add_user(live_app, "tech")
    handover = make_handover(live_app, technician, tariff_name="Home 300")
    return handover, freeze(live_app, handover)


def answer(page, item, choice):
    page.locator(f"#item-{item} label.choice-{choice}").click()


def test_subscriber_checks_and_signs_with_a_finger_on_a_phone(
    live_app, live_server, phone, waiting_handover
):
    handover, token = waiting_handover
    phone.goto(f"{live_server.url}/s/{token}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360

    for item in ("portal_access", "full_contract", "tariff", "billing_method", "equipment",
                 "technician"):
        answer(phone, item, "yes")
    answer(phone, "discounts", "no")
    phone.fill("#discounts_stated-0-description", "Half price")
    phone.fill("#discounts_stated-0-value", "50")
    phone.fill("#discounts_stated-0-months", "12")
    phone.check("#consent")
    draw_with_a_finger(phone)
    phone.locator("#submit").click()

    phone.wait_for_url(f"**/s/{token}")
    assert phone.locator("h1").inner_text() == "Thank you, you have signed"
    assert "Half price: 50 %, for 12 months" in phone.locator(".discrepancies").inner_text()
    assert {url.split("/")[2] for url in phone.requests} == {live_server.url.split("/")[2]}

    with live_app.app_context():
        signed = db.session.get(Handover, handover.id)
        (signature,) = signed.signatures
        drawing = signature.drawing
        assert [len(stroke) >= 2 for stroke in drawing["strokes"]] == [True, True]
        assert all(
            0 <= x <= drawing["width"] and 0 <= y <= drawing["height"]
            for stroke in drawing["strokes"] for x, y in stroke
        )
        assert [d.item for d in signed.discrepancies] == ["discounts"]


def test_answers_survive_a_reload(live_server, phone, waiting_handover):
    _, token = waiting_handover
    phone.goto(f"{live_server.url}/s/{token}")
    answer(phone, "tariff", "no")
    phone.fill("#tariff_name_stated", "Home 100")
    answer(phone, "equipment", "yes")
    draw_with_a_finger(phone)

    phone.reload()

    assert phone.locator("#item-tariff input[value=no]").is_checked()
    assert phone.input_value("#tariff_name_stated") == "Home 100"
    assert phone.locator("#item-equipment input[value=yes]").is_checked()
    assert phone.evaluate("document.querySelector('canvas').closest('[data-signature-pad]')"
                          ".signaturePad.isEmpty()") is False


def test_clear_and_undo_change_what_is_sent(live_server, phone, waiting_handover):
    _, token = waiting_handover
    phone.goto(f"{live_server.url}/s/{token}")
    draw_with_a_finger(phone)
    strokes = "JSON.parse(document.querySelector('input[name=signature]').value).strokes.length"
    assert phone.evaluate(strokes) == 2
    phone.click("[data-undo]")
    assert phone.evaluate(strokes) == 1
    phone.click("[data-clear]")
    assert phone.input_value("input[name=signature]") == ""
