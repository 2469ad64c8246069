"""The whole journey in Chromium, in English and in Russian: a technician on a tablet
records and hands over, the subscriber checks and signs on a phone with a finger, the
technician countersigns with a mouse, and support finds the receipt from a caller's
half-remembered details. Every page passes axe-core, fits a phone's width, has tap
targets of at least 44 px, and is saved as a screenshot under test-artifacts/."""

from __future__ import annotations

import re
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from bench.receivers import gateway_settings, sms_gateway
from tests.browser import (
    PHONE,
    ROOT,
    TABLET,
    Journey,
    draw_with_a_finger,
    draw_with_a_mouse,
    new_page,
    sign_in,
    weigh,
)
from tests.conftest import add_user, freeze, make_handover
from tests.tools import needs
from webapp.db_types import now_utc
from webapp.domain.sms import segments
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import Handover
from webapp.outbox.worker import work

WORDS = {
    "en": {
        "locale": "en-US",
        "name": "Anna Sokolova", "address": "Perm, Lenina street 5, flat 12",
        "misspelt_address": "Lenona 5", "tariff": "Home 500",
        "discounts": [("New subscriber", "percent", "20", "6"), ("Loyalty", "amount", "100", "")],
        "promise": "Half price",
    },
    "ru": {
        "locale": "ru-RU",
        "name": "Анна Соколова", "address": "г. Пермь, ул. Ленина, д. 5, кв. 12",
        "misspelt_address": "Ленона 5", "tariff": "Домашний 500",
        "discounts": [("Скидка новому абоненту", "percent", "20", "6"),
                      ("Лояльность", "amount", "100", "")],
        "promise": "Полцены",
    },
}
UI = {
    "ready": "Ready for the subscriber", "close": "Countersign and close the job",
    "signed": "Thank you, you have signed", "download": "Download the receipt (PDF)",
    "search": "Search", "unavailable": "This link cannot be used",
    "open receipt": "Open the receipt",
    "signed_elsewhere": "The receipt has been signed",
}


def ui(lang: str) -> dict[str, str]:
    """The interface's words in the language, from the app's own catalog."""
    from babel.support import Translations

    catalog = Translations.load(str(ROOT / "webapp" / "translations"), [lang])
    words = {key: catalog.gettext(msgid) for key, msgid in UI.items()}
    words["discrepancy_heading"] = catalog.ngettext(
        "%(num)d discrepancy", "%(num)d discrepancies", 1) % {"num": 1}
    return words


# The contrast of the focused control's outline against white (0 if it has none).
FOCUS_CONTRAST = """() => {
    const style = getComputedStyle(document.activeElement);
    if (style.outlineStyle === 'none' || parseFloat(style.outlineWidth) < 2) return 0;
    const [r, g, b] = style.outlineColor.match(/\\d+/g).slice(0, 3).map(Number).map(c => {
        c /= 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05);
}"""
PAGE_BUDGET = 60 * 1024  # the subscriber's page with every asset it loads
ITEMS = ("portal_access", "full_contract", "tariff", "billing_method", "equipment", "technician")


@pytest.fixture
def staff(live_app):
    add_user(live_app, "tech", full_name="Ivan Petrov")
    add_user(live_app, "agent", Role.SUPPORT)


def fill_handover(page, words: dict) -> None:
    page.fill("#order_number", "ORD-77/2026")
    page.fill("#account_number", "1234567890")
    page.fill("#contract_number", "D-77/2026")
    page.fill("#contract_pages", "12")
    page.fill("#subscriber_name", words["name"])
    page.fill("#phone", "8 912 345-67-89")
    page.fill("#address", words["address"])
    page.check("input[name=services][value=internet]")
    page.fill("#tariff_name", words["tariff"])
    page.fill("#monthly_fee", "650")
    page.select_option("#billing_method", "credit")
    page.fill("#portal_login", "lk-1234567890")
    for value in ("full_contract", "settings_sheet"):
        page.check(f"input[name=documents][value={value}]")
    for index, (description, kind, value, months) in enumerate(words["discounts"]):
        if not page.locator(f"#discounts-{index}-description").is_visible():
            page.locator("[data-add-row]").first.click()
        page.fill(f"#discounts-{index}-description", description)
        page.select_option(f"#discounts-{index}-kind", kind)
        page.fill(f"#discounts-{index}-value", value)
        if months:
            page.fill(f"#discounts-{index}-months", months)
        else:
            page.check(f"#discounts-{index}-permanent")
    page.select_option("#equipment-0-kind", "router")
    page.fill("#equipment-0-model", "TP-Link Archer C6")
    page.fill("#equipment-0-serial", "TPL-22C6-00017")
    page.select_option("#equipment-0-terms", "rented")
    page.fill("#equipment-0-monthly_fee", "99")


def text_of(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "receipt.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          text=True, check=True).stdout


def genuine(app, pdf: bytes) -> bool:
    """Validate the downloaded receipt as /verify does, with pyHanko against our root."""
    from webapp.receipts.service import Verdict, verify_pdf

    def check():
        with app.app_context():
            return verify_pdf(pdf).verdict == Verdict.GENUINE

    # pyHanko runs asyncio.run(); Playwright's loop counts as running on this thread.
    with ThreadPoolExecutor(1) as other:
        return other.submit(check).result()


@pytest.mark.parametrize("lang", ["en", "ru"])
@needs("pdftotext")
def test_the_whole_journey(live_app, live_server, browser, staff, lang, tmp_path):
    words, url = WORDS[lang] | ui(lang), live_server.url
    journey = Journey(f"journey-{lang}")

    # 1. The technician records the job on a tablet and hands it over.
    tablet = new_page(browser, words["locale"], **TABLET)
    sign_in(tablet, url, "tech", lambda page: journey.check(page, "sign-in"))
    journey.check(tablet, "handovers")
    tablet.goto(f"{url}/handovers/new")
    journey.check(tablet, "new handover")
    fill_handover(tablet, words)
    with tablet.expect_navigation():
        tablet.locator("#submit").click()
    journey.check(tablet, "handover recorded")
    with tablet.expect_navigation():
        tablet.get_by_role("button", name=words["ready"]).click()
    journey.check(tablet, "qr code for the subscriber")
    link = tablet.locator(".link-box a").get_attribute("href")

    # 2. The subscriber checks every item on a phone and signs with a finger.
    phone = new_page(browser, words["locale"], **PHONE)
    weight, hosts = weigh(phone, link)
    assert weight <= PAGE_BUDGET, f"the subscriber's page transfers {weight} bytes"
    assert hosts == {urlsplit(url).netloc}, hosts
    journey.check(phone, "subscriber checklist")
    for item in ITEMS:
        phone.locator(f"#item-{item} label.choice-yes").click()
    phone.locator("#item-discounts label.choice-no").click()
    phone.fill("#discounts_stated-0-description", words["promise"])
    phone.fill("#discounts_stated-0-value", "50")
    phone.fill("#discounts_stated-0-months", "12")
    phone.check("#consent")
    draw_with_a_finger(phone)
    journey.check(phone, "subscriber answered and signed")
    with phone.expect_navigation():
        phone.locator("#submit").click()
    assert phone.locator("h1").inner_text() == words["signed"]
    journey.check(phone, "subscriber signed")

    # 3. The technician countersigns with the mouse and closes the job.
    tablet.reload()
    tablet.get_by_role("heading", name=words["close"]).scroll_into_view_if_needed()
    draw_with_a_mouse(tablet, "[data-signature-pad] canvas")
    journey.check(tablet, "countersign")
    with tablet.expect_navigation():
        tablet.get_by_role("button", name=words["close"]).click()
    assert tablet.get_by_role("link", name=words["download"]).is_visible()
    journey.check(tablet, "job closed")

    # The subscriber's page notices by itself, and offers the signed receipt.
    phone.wait_for_selector("[data-receipt-ready]", timeout=60_000)
    journey.check(phone, "subscriber receipt ready")
    with phone.expect_download() as download:
        phone.get_by_role("link", name=words["download"]).click()
    pdf = (tmp_path / "download.pdf")
    download.value.save_as(pdf)
    assert genuine(live_app, pdf.read_bytes())
    assert words["promise"] in text_of(pdf.read_bytes(), tmp_path)

    # After the visit: the SMS reaches the gateway, and its link opens the receipt on
    # another device with the code it carries.
    with sms_gateway() as gateway:
        live_app.config.update(gateway_settings(gateway))
        with live_app.app_context():
            work(once=True)
    [sms] = [r["fields"]["mes"] for r in gateway.requests]
    assert segments(sms) <= 2
    sms_link = re.search(r"https?://\S+", sms).group()
    code = re.search(r"\b[2-9A-Z]{5}-[2-9A-Z]{5}\b", sms).group()
    later = new_page(browser, words["locale"], **PHONE)
    later.goto(sms_link)
    journey.check(later, "receipt by number and code")
    later.fill("#code", code)
    with later.expect_navigation():
        later.get_by_role("button", name=words["open receipt"]).click()
    journey.check(later, "receipt opened by code")
    with later.expect_download() as download:
        later.get_by_role("link", name=words["download"]).click()
    again = tmp_path / "again.pdf"
    download.value.save_as(again)
    assert again.read_bytes() == pdf.read_bytes() and genuine(live_app, again.read_bytes())

    # 4. Support finds it from a misspelt address and a phone said another way.
    desk = new_page(browser, words["locale"], viewport={"width": 1280, "height": 900})
    sign_in(desk, url, "agent", lambda page: journey.check(page, "sign-in"))
    for query in (words["misspelt_address"], "+7 (912) 345 67 89"):
        desk.goto(f"{url}/support/")
        desk.fill("#q", query)
        with desk.expect_navigation():
            desk.get_by_role("button", name=words["search"], exact=True).click()
        journey.check(desk, f"search {query}")
        assert desk.locator(".results").get_by_text(words["name"]).count() == 1
    with desk.expect_navigation():
        desk.locator(".results a").first.click()
    journey.check(desk, "receipt for support")
    first = desk.locator("main section").first
    assert "has-discrepancies" in first.get_attribute("class")
    assert first.locator("h2").inner_text() == words["discrepancy_heading"]
    assert words["promise"] in first.inner_text()
    for page in (tablet, phone, later, desk):
        page.context.close()


# --- What goes wrong on the doorstep ---------------------------------------------------------


@pytest.fixture
def waiting(live_app):
    technician = add_user(live_app, "tech")
    handover = make_handover(live_app, technician, tariff_name="Home 300")
    return handover, freeze(live_app, handover)



@pytest.mark.parametrize("lang", ["en", "ru"])
def test_an_expired_link_says_so_on_the_phone(live_app, live_server, browser, waiting, lang):
    handover, token = waiting
    with live_app.app_context():
        db.session.get(Handover, handover.id).link_expires_at = now_utc() - timedelta(minutes=1)
        db.session.commit()
    journey = Journey(f"expired-link-{lang}")
    phone = new_page(browser, WORDS[lang]["locale"], **PHONE)
    phone.goto(f"{live_server.url}/s/{token}")
    assert phone.locator("h1").inner_text() == ui(lang)["unavailable"]
    journey.check(phone, "expired link")
    phone.context.close()


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_used_link_opened_on_another_phone_shows_only_where_the_receipt_will_be(
    live_server, browser, waiting, lang,
):
    _, token = waiting
    journey = Journey(f"used-link-{lang}")
    phone = new_page(browser, **PHONE)
    phone.goto(f"{live_server.url}/s/{token}")
    for item in (*ITEMS, "discounts"):
        phone.locator(f"#item-{item} label.choice-yes").click()
    phone.check("#consent")
    draw_with_a_finger(phone)
    with phone.expect_navigation():
        phone.locator("#submit").click()

    other = new_page(browser, WORDS[lang]["locale"], **PHONE)
    other.goto(f"{live_server.url}/s/{token}")
    assert other.locator("h1").inner_text() == ui(lang)["signed_elsewhere"]
    assert "Sokolova" not in other.content() and "Home 300" not in other.content()
    journey.check(other, "used link on another phone")
    with other.expect_navigation():  # not closed yet: the receipt's page without a number
        other.locator("main a.button").click()
    assert other.url == f"{live_server.url}/r"
    journey.check(other, "the receipt by its number and code")
    for page in (phone, other):
        page.context.close()


def test_without_javascript_the_subscriber_signs_by_typing_their_name(
    live_app, live_server, browser, waiting
):
    handover, token = waiting
    journey = Journey("no-javascript")
    phone = new_page(browser, java_script_enabled=False, **PHONE)
    phone.goto(f"{live_server.url}/s/{token}")
    assert not phone.locator("canvas").is_visible()  # the drawing box needs a script
    for item in (*ITEMS, "discounts"):
        phone.locator(f"#item-{item} label.choice-yes").click()
    phone.check("#consent")
    phone.fill("#typed_name", "Pavel Orlov")
    journey.check(phone, "typed signature without javascript")
    with phone.expect_navigation():
        phone.locator("#submit").click()
    journey.check(phone, "signed without javascript")
    with live_app.app_context():
        (signature,) = db.session.get(Handover, handover.id).signatures
        assert (signature.drawing, signature.typed_name) == (None, "Pavel Orlov")
    phone.context.close()


def test_the_checklist_and_the_typed_signature_work_from_the_keyboard(
    live_app, live_server, browser, waiting
):
    handover, token = waiting
    phone = new_page(browser, **PHONE)
    phone.goto(f"{live_server.url}/s/{token}")
    for item in (*ITEMS, "discounts"):
        radio = phone.locator(f"#item-{item} input[value=yes]")
        radio.focus()
        assert phone.evaluate(FOCUS_CONTRAST) >= 3, "focus must be visible (3:1)"
        phone.keyboard.press("Space")
        assert radio.is_checked()
    phone.locator("#consent").focus()
    phone.keyboard.press("Space")
    phone.locator("#typed_name").focus()
    phone.keyboard.type("Pavel Orlov")
    phone.locator("#submit").focus()
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    with live_app.app_context():
        assert db.session.get(Handover, handover.id).status == "subscriber_signed"
    phone.context.close()


def test_the_subscriber_switches_language_on_the_phone_and_it_sticks(
    live_server, browser, waiting
):
    _, token = waiting
    phone = new_page(browser, "ru-RU", **PHONE)
    phone.goto(f"{live_server.url}/s/{token}")
    assert phone.locator("html").get_attribute("lang") == "ru"
    phone.locator("#item-tariff label.choice-no").click()
    with phone.expect_navigation():
        phone.get_by_role("button", name="English").click()
    assert phone.url.endswith(f"/s/{token}")  # back on the same page
    assert phone.locator("html").get_attribute("lang") == "en"
    assert phone.locator("#item-tariff input[value=no]").is_checked()  # nothing lost
    phone.reload()
    assert phone.locator("html").get_attribute("lang") == "en"
    phone.context.close()
