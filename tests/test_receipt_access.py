"""A receipt opened by its number and verification code on any device (/r), its PDF, the
lockout of a number after wrong codes, and where a used signing link points."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from limits import parse
from limits.storage import memory as limit_storage

from tests.browser import MIN_TAP, PHONE, SMALL_TARGETS, new_page
from tests.conftest import (
    add_user,
    all_yes_answers,
    close_job,
    csrf_token,
    detached,
    drawn_signature,
    freeze,
    make_handover,
    post_form,
    press,
    submit_checklist,
    valid_form,
)
from tests.test_rate_limits import lowered, own_app
from tests.test_receipts import pdftotext
from tests.tools import needs
from webapp.domain.digest import sha256_hex
from webapp.extensions import db
from webapp.models import AuditEvent, Handover, Receipt
from webapp.receipts import routes as receipt_routes
from webapp.receipts.access import canonical_code, canonical_number
from webapp.receipts.service import Verdict, verify_pdf

pytestmark = needs("pdftotext")

EN = {"Accept-Language": "en"}
RU = {"Accept-Language": "ru"}
UNKNOWN_NUMBER = "HO-2345-6789"
WRONG_CODE = "AAAAA-BBBBB"
NO_MATCH = "No receipt has this number and code."
LOCKED = re.compile(r"Too many wrong codes for this receipt number\. Try again in (\d+) minutes\.")
TOKEN_FIELD = re.compile(r'name="(csrf_token|next)" type="hidden" value="[^"]*"')


@pytest.fixture
def closed(app, technician):
    """A closed job, recorded through the technician's form (with a discount and a piece
    of equipment), whose subscriber said No to one item: its receipt's number and code."""
    tech = app.test_client(user=technician)
    assert post_form(tech, "/handovers/new", valid_form()).status_code == 302
    with app.app_context():
        handover = db.session.scalar(db.select(Handover))
        discounts = [d.description for d in handover.discounts]
        serials = [e.serial for e in handover.equipment]
        handover = detached(handover)
    token = freeze(app, handover)
    pdf = close_job(app, technician, handover, token, all_yes_answers(portal_access="no"))
    with app.app_context():
        number = db.session.scalar(db.select(Receipt.number))
    code = re.search(r"\b[2-9A-Z]{5}-[2-9A-Z]{5}\b", pdftotext(pdf)).group(0)
    return SimpleNamespace(handover=handover, token=token, number=number, code=code, pdf=pdf,
                           name=handover.subscriber_name, discounts=discounts, serials=serials)


def send_code(client, number: str, code: str, *, page: str = "/r", headers=EN, **kwargs):
    """Open the form's page, then send the number and code with its CSRF token."""
    form = client.get(page, headers=headers, **kwargs)
    return client.post("/r", headers=headers, data={
        "csrf_token": csrf_token(form.text), "number": number, "code": code,
    }, **kwargs)


def events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        found = db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == name)).all()
        db.session.expunge_all()
        return found


def allowed(app, setting: str) -> int:
    return parse(app.config["RATE_LIMITS"][setting]).amount


@contextmanager
def limiter_clock_moved(monkeypatch, seconds: float):
    """Move the clock the rate limiter's storage counts by (memory://), nothing else's."""
    real = time.time
    with monkeypatch.context() as patch:
        patch.setattr(limit_storage, "time", SimpleNamespace(time=lambda: real() + seconds))
        yield


def private(response) -> bool:
    return (response.headers["Referrer-Policy"] == "no-referrer"
            and response.headers["Cache-Control"] == "no-store")


# --- The right code ------------------------------------------------------------------------


def test_the_right_code_shows_the_receipt_and_its_pdf_is_the_stored_one(app, closed):
    client = app.test_client()
    form = client.get(f"/r/{closed.number}", headers=EN)
    assert form.status_code == 200 and private(form)
    assert f'value="{closed.number}"' in form.text  # the SMS link fills the number in
    assert closed.name not in form.text

    sent = send_code(client, closed.number, closed.code, page=f"/r/{closed.number}")
    assert sent.status_code == 302
    assert sent.headers["Location"] == f"/r/{closed.number}"
    shown = client.get(sent.headers["Location"], headers=EN)
    assert shown.status_code == 200 and private(shown)
    page = shown.text
    job = closed.handover
    assert closed.discounts and closed.serials
    for expected in (
        closed.number, job.tariff_name, "charged every day",  # the billing method explained
        *closed.discounts, *closed.serials,
        "Name of tech", "E-tech", "Contractor LLC",  # who installed it
        "1 discrepancy", "Personal account access", "Download the receipt (PDF)",
    ):
        assert expected in page, expected
    assert closed.name not in page and job.address not in page  # only what the page needs
    with app.app_context():
        stored_sha256 = db.session.scalar(db.select(Receipt.sha256))

    pdf = client.get(f"/r/{closed.number}/receipt.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and private(pdf)
    assert sha256_hex(pdf.data) == stored_sha256 == sha256_hex(closed.pdf)
    with app.app_context():
        assert verify_pdf(pdf.data).verdict is Verdict.GENUINE


@pytest.mark.parametrize("typed", [
    "plain",  # HO-7K4M-9QX2
    "lower_without_dashes",  # ho7k4m9qx2
    "spaced",  # HO 7K4M 9QX2
    "without_prefix",  # 7K4M-9QX2
    "zero_for_o",  # H0-7K4M-9QX2
    "cyrillic_prefix",  # the prefix typed in Cyrillic letters on a Russian keyboard
])
def test_the_number_and_code_are_read_however_they_are_typed(app, closed, typed):
    number = {
        "plain": closed.number,
        "lower_without_dashes": closed.number.replace("-", "").lower(),
        "spaced": closed.number.replace("-", " "),
        "without_prefix": closed.number[3:],
        "zero_for_o": "H0" + closed.number[2:],
        "cyrillic_prefix": "НО" + closed.number[2:],
    }[typed]
    client = app.test_client()
    form = client.get(f"/r/{number}", headers=EN)
    assert form.status_code == 200 and f'value="{closed.number}"' in form.text

    sent = send_code(client, number, closed.code.lower().replace("-", " "), page=f"/r/{number}")
    assert sent.status_code == 302 and sent.headers["Location"] == f"/r/{closed.number}"
    # Any spelling of the number in the address finds the receipt opened in this browser.
    assert client.get(f"/r/{number}", headers=EN).status_code == 200
    assert client.get(f"/r/{number}/receipt.pdf").status_code == 200


def test_what_reads_as_a_number_or_a_code():
    assert canonical_number("HO7K4M9QX2") == "HO-7K4M-9QX2"
    assert canonical_number(" ho-7k4m-9qx2 ") == "HO-7K4M-9QX2"
    # EN, O, KA, EM and HA typed in Cyrillic look like the Latin letters printed.
    assert canonical_number("\u041d\u041e-7\u041a4\u041c-9Q\u04252") == "HO-7K4M-9QX2"
    for refused in ("", "HO-7K4M-9QX", "HO-7K4M-9QX22", "XX-7K4M-9QX2", "HO-7K4M-9Q02",
                    "HO-1K4M-9QX2", "HO-７K4M-9QX2", "<script>"):
        assert canonical_number(refused) is None, refused
    assert canonical_code("7k4m9 qx2ht") == "7K4M9QX2HT"
    for refused in ("", "7K4M9-QX2H", "7K4M9-QX2HTT", "7K4M9-QX2H0", "7K4M9-QX2H\x00"):
        assert canonical_code(refused) is None, refused


# --- Wrong codes ---------------------------------------------------------------------------


def comparable(response, *typed: str) -> tuple[int, str]:
    """The status and the page, without its form token and what was typed into it."""
    text = TOKEN_FIELD.sub("", response.text)
    for value in typed:
        text = text.replace(f'value="{value}"', "")
    return response.status_code, text


def test_a_wrong_code_and_an_unknown_number_get_the_same_answer(app, closed):
    wrong = send_code(app.test_client(), closed.number, WRONG_CODE)
    unknown = send_code(app.test_client(), UNKNOWN_NUMBER, closed.code)
    assert wrong.status_code == unknown.status_code == 200
    assert NO_MATCH in wrong.text and private(wrong) and private(unknown)
    assert f'value="{closed.number}"' in wrong.text  # what was typed is kept
    assert f'value="{WRONG_CODE}"' in wrong.text
    assert comparable(wrong, closed.number, WRONG_CODE) \
        == comparable(unknown, UNKNOWN_NUMBER, closed.code)
    assert closed.name not in wrong.text
    # Neither opened anything in those browsers.
    assert app.test_client().get(f"/r/{closed.number}/receipt.pdf").status_code == 404


def fail_codes(app, number: str, times: int, address: str = "127.0.0.1") -> None:
    for index in range(times):
        response = send_code(app.test_client(), number, f"AAAAA-BBBB{'CDEFG'[index % 5]}",
                             environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 200 and NO_MATCH in response.text


def assert_locked(response) -> None:
    assert response.status_code == 429
    minutes = int(LOCKED.search(response.text).group(1))
    assert 1 <= minutes <= 15
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert private(response)


def test_wrong_codes_lock_the_number_even_for_the_right_code_until_the_window_passes(
    app, closed, monkeypatch,
):
    assert allowed(app, "receipt_code_per_number") == 5
    # From many addresses: the number is locked, not the address.
    for index in range(5):
        fail_codes(app, closed.number, 1, f"198.51.100.{index + 1}")

    client = app.test_client()
    locked = send_code(client, closed.number, closed.code,
                       environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert_locked(locked)
    assert f'value="{closed.number}"' in locked.text
    assert closed.name not in locked.text
    assert client.get(f"/r/{closed.number}/receipt.pdf").status_code == 404
    # Written any other way, it is the same number.
    assert_locked(send_code(app.test_client(), closed.number.lower().replace("-", ""),
                            closed.code))

    with limiter_clock_moved(monkeypatch, 14 * 60):
        assert_locked(send_code(app.test_client(), closed.number, closed.code))
    with limiter_clock_moved(monkeypatch, 15 * 60 + 1):
        opened = send_code(client, closed.number, closed.code)
        assert opened.status_code == 302
        assert client.get(f"/r/{closed.number}/receipt.pdf").status_code == 200


def test_a_right_code_clears_the_numbers_wrong_ones(app, closed):
    for _ in range(3):
        fail_codes(app, closed.number, allowed(app, "receipt_code_per_number") - 1)
        assert send_code(app.test_client(), closed.number, closed.code).status_code == 302


def test_a_locked_unknown_number_looks_like_a_locked_real_one(app, closed):
    answers = []
    for number in (closed.number, UNKNOWN_NUMBER):
        fail_codes(app, number, allowed(app, "receipt_code_per_number"))
        response = send_code(app.test_client(), number, closed.code)
        assert_locked(response)
        answers.append(comparable(response, number, closed.code))
    assert answers[0] == answers[1]


# --- The PDF -------------------------------------------------------------------------------


def test_the_pdf_is_only_for_the_browser_that_gave_the_code_and_only_for_an_hour(
    app, closed, monkeypatch,
):
    stranger = app.test_client()
    assert stranger.get(f"/r/{closed.number}/receipt.pdf").status_code == 404
    assert stranger.get(f"/r/{UNKNOWN_NUMBER}/receipt.pdf").status_code == 404
    assert stranger.get("/r/%3Cscript%3E/receipt.pdf").status_code == 404
    # Without the code the number's page is only the form, nothing of the receipt.
    form = stranger.get(f"/r/{closed.number}", headers=EN)
    assert closed.handover.tariff_name not in form.text
    assert "Download the receipt" not in form.text

    holder = app.test_client()
    assert send_code(holder, closed.number, closed.code).status_code == 302
    assert holder.get(f"/r/{closed.number}/receipt.pdf").status_code == 200
    assert stranger.get(f"/r/{closed.number}/receipt.pdf").status_code == 404

    later = time.time() + receipt_routes.OPEN_FOR_SECONDS + 1
    monkeypatch.setattr(receipt_routes, "time", SimpleNamespace(time=lambda: later))
    assert holder.get(f"/r/{closed.number}/receipt.pdf").status_code == 404
    again = holder.get(f"/r/{closed.number}", headers=EN)
    assert again.status_code == 200  # the form again, nothing of the receipt
    assert closed.handover.tariff_name not in again.text


def test_a_browser_remembers_only_its_last_few_receipts(app):
    with app.test_request_context("/r"):
        from flask import session

        numbers = [f"HO-2345-{n:04d}".replace("0", "A") for n in range(8)]
        for number in numbers:
            receipt_routes.remember_opened(number)
        kept = session[receipt_routes.OPENED_KEY]
        assert len(kept) == receipt_routes.OPENED_KEPT
        assert receipt_routes.opened_here(numbers[-1]) and not receipt_routes.opened_here(
            numbers[0])


# --- Bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "code", "messages"), [
    ("", "", {"number": "Fill in this field.", "code": "Fill in this field."}),
    ("H" * 21, "A" * 21, {"number": "Use at most 20 characters.",
                          "code": "Use at most 20 characters."}),
    ("<b>HO</b>", "<script>x</script>", {
        "number": "This does not read as a receipt number.",
        "code": "The code has 10 letters and digits.",
    }),
    ("HO-2345\x00-6789", "AAAAA\tBBBBB", {
        "number": "Remove control characters", "code": "Remove control characters",
    }),
    ("HO-2345-678", "AAAAA-BBBB", {
        "number": "This does not read as a receipt number.",
        "code": "The code has 10 letters and digits.",
    }),
])
def test_bad_input_comes_back_with_a_message_beside_each_field(
    app, closed, number, code, messages,
):
    client = app.test_client()
    response = send_code(client, number, code)
    assert response.status_code == 400 and private(response)
    for field, message in messages.items():
        beside = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', response.text)
        assert beside and message in beside.group(1), (field, response.text[:2000])
    assert "<script>x" not in response.text and "<b>HO" not in response.text
    if "<" in number:
        assert 'value="&lt;b&gt;HO&lt;/b&gt;"' in response.text  # kept, as text
    # A refused form costs the number nothing: the right code still opens it.
    for _ in range(allowed(app, "receipt_code_per_number")):
        send_code(client, closed.number, "")
    assert send_code(client, closed.number, closed.code).status_code == 302


def test_a_form_without_its_token_is_refused_and_counts_nothing(app, closed):
    client = app.test_client()
    for _ in range(allowed(app, "receipt_code_per_number") + 1):
        response = client.post("/r", data={"number": closed.number, "code": WRONG_CODE},
                               headers=EN)
        assert response.status_code == 400
    assert "The form had expired" in response.text
    assert send_code(client, closed.number, closed.code).status_code == 302


def test_the_link_is_built_the_same_while_a_post_is_answered(app):
    from flask import url_for

    for method in ("GET", "POST"):
        with app.test_request_context("/handovers/x/close", method=method):
            assert url_for("receipts.access", number=UNKNOWN_NUMBER, _external=True) \
                == f"http://localhost/r/{UNKNOWN_NUMBER}"


def test_a_code_sent_to_a_numbers_own_address_is_read_from_the_form(app, closed):
    client = app.test_client()
    page = client.get(f"/r/{UNKNOWN_NUMBER}", headers=EN)
    sent = client.post(f"/r/{UNKNOWN_NUMBER}", headers=EN, data={
        "csrf_token": csrf_token(page.text), "number": closed.number, "code": closed.code,
    })
    assert sent.status_code == 302 and sent.headers["Location"] == f"/r/{closed.number}"


# --- Languages -----------------------------------------------------------------------------


def test_the_page_speaks_russian_by_default_and_english_when_asked(app, closed):
    client = app.test_client()
    russian = client.get(f"/r/{closed.number}")
    assert '<html lang="ru">' in russian.text
    assert "Номер квитанции" in russian.text and "Код проверки" in russian.text
    refused = send_code(client, "", "", headers=RU)
    assert "Заполните это поле." in refused.text

    english = client.get(f"/r/{closed.number}", headers=EN)
    assert '<html lang="en">' in english.text
    for text in ("Open your receipt", "Receipt number", "Verification code", "Open the receipt"):
        assert text in english.text
    assert "Fill in this field." in send_code(client, "", "").text


# --- Audit ---------------------------------------------------------------------------------


def test_every_access_and_refusal_is_audited_without_what_was_typed(app, closed):
    client = app.test_client()
    send_code(client, closed.number, WRONG_CODE)
    send_code(client, UNKNOWN_NUMBER, closed.code)
    send_code(client, "<b>", "")
    send_code(client, closed.number, closed.code)
    client.get(f"/r/{closed.number}", headers=EN)
    client.get(f"/r/{closed.number}/receipt.pdf")

    [opened] = events(app, "receipt.opened_by_code")
    assert opened.handover_id == closed.handover.id
    assert opened.details == {"receipt": closed.number}
    downloads = [e for e in events(app, "receipt.downloaded") if e.details == {"by": "code"}]
    assert len(downloads) == 1 and downloads[0].handover_id == closed.handover.id
    refusals = events(app, "receipt.code_refused")
    assert [(e.handover_id, e.details) for e in refusals] == [
        (closed.handover.id, {"reason": "no_match"}),  # a real number: its job learns of it
        (None, {"reason": "no_match"}),
        (None, {"reason": "invalid", "fields": ["code", "number"]}),
    ]
    for event in refusals:
        assert event.ip == "127.0.0.1"
        for typed in (closed.number, closed.code, UNKNOWN_NUMBER, WRONG_CODE, "<b>"):
            assert typed not in str(event.details)

    fail_codes(app, UNKNOWN_NUMBER, allowed(app, "receipt_code_per_number") - 1)  # one above
    assert_locked(send_code(client, UNKNOWN_NUMBER, closed.code))
    assert events(app, "receipt.code_refused")[-1].details == {"reason": "locked"}


def test_the_new_events_have_labels(app):
    from webapp.labels import EVENTS

    assert {"receipt.opened_by_code", "receipt.code_refused"} <= set(EVENTS)


# --- Rate limits ---------------------------------------------------------------------------


def test_the_pages_and_the_pdf_are_limited_per_address(app, closed):
    client = app.test_client()
    for _ in range(allowed(app, "receipt_access")):
        assert client.get(f"/r/{closed.number}").status_code == 200
    blocked = client.get(f"/r/{closed.number}/receipt.pdf", headers=EN)
    assert blocked.status_code == 429 and "Too many attempts" in blocked.text
    assert 0 < int(blocked.headers["Retry-After"]) <= 60 and private(blocked)
    elsewhere = app.test_client().get("/r", environ_base={"REMOTE_ADDR": "192.0.2.1"})
    assert elsewhere.status_code == 200


def test_many_addresses_together_cannot_open_one_receipt_past_its_own_limit(app, closed):
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    with own_app(url, **lowered(receipt_access_per_number="4 per minute")) as limited:
        for index in range(4):  # each from an address of its own, each well under its limit
            holder, address = limited.test_client(), {"REMOTE_ADDR": f"198.51.100.{index + 1}"}
            assert send_code(holder, closed.number, closed.code, environ_base=address) \
                .status_code == 302
            assert holder.get(f"/r/{closed.number}", environ_base=address).status_code == 200

        blocked = holder.get(f"/r/{closed.number}/receipt.pdf", headers=EN, environ_base=address)
        assert blocked.status_code == 429 and private(blocked)
        assert "Too many attempts" in blocked.text
    assert len(events(app, "receipt.opened_by_code")) == 4


# --- The signing link, opened in another browser -------------------------------------------


def test_a_second_browser_on_a_used_link_is_pointed_to_the_receipt(app, technician):
    handover = make_handover(app, technician)
    token = freeze(app, handover)
    signer = app.test_client()
    submit_checklist(signer, token, all_yes_answers())

    waiting = app.test_client().get(f"/s/{token}", headers=EN)  # not closed yet: no number
    assert waiting.status_code == 404
    assert "The receipt has been signed" in waiting.text and "by SMS" in waiting.text
    assert 'href="/r"' in waiting.text
    assert "Pavel Orlov" not in waiting.text

    tech = app.test_client(user=technician)
    assert press(tech, handover, "close", {"signature": drawn_signature()}).status_code == 302
    with app.app_context():
        number = db.session.scalar(db.select(Receipt.number))

    second = app.test_client()
    pointed = second.get(f"/s/{token}", headers=EN)
    assert pointed.status_code == 404 and pointed.headers["Referrer-Policy"] == "no-referrer"
    assert "The receipt has been signed" in pointed.text
    assert f'href="/r/{number}"' in pointed.text
    for private_value in ("Pavel Orlov", "Home 300", "/receipt.pdf"):
        assert private_value not in pointed.text
    # The link itself stays the signer's: the second browser still cannot download by it.
    assert second.get(f"/r/{number}", headers=EN).status_code == 200
    assert second.get(f"/r/{number}/receipt.pdf").status_code == 404
    assert "Thank you" in signer.get(f"/s/{token}", headers=EN).text


# --- On a phone (last in this module: the browser's event loop stays for the module) -------


def fits_a_phone(page, name: str) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name
    assert page.evaluate(SMALL_TARGETS, MIN_TAP) == [], name
    assert page.problems == [], f"{name}: {page.problems}"


@pytest.mark.parametrize("locale", ["ru-RU", "en-US"])
def test_on_a_phone_the_receipt_opens_with_labelled_controls_and_nothing_from_elsewhere(
    browser, live_app, live_server, locale,
):
    technician = add_user(live_app, "tech")
    handover = make_handover(live_app, technician)
    # Signed on another thread: Playwright's event loop counts as running on this one,
    # and pyHanko signs with asyncio.run().
    with ThreadPoolExecutor(1) as other:
        pdf = other.submit(close_job, live_app, technician, handover,
                           freeze(live_app, handover)).result()
    with live_app.app_context():
        number = db.session.scalar(db.select(Receipt.number))
    code = re.search(r"\b[2-9A-Z]{5}-[2-9A-Z]{5}\b", pdftotext(pdf)).group(0)

    page = new_page(browser, locale, accept_downloads=True, **PHONE)
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{live_server.url}/r/{number}")  # the link in the SMS
    fits_a_phone(page, "the form")
    for field in ("number", "code"):
        assert page.locator(f"label[for={field}]").count() == 1
    assert page.input_value("#number") == number

    page.fill("#code", WRONG_CODE)
    with page.expect_navigation():
        page.locator("#open_receipt").click()
    fits_a_phone(page, "a wrong code")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    assert page.locator("#code-error").is_visible()

    page.fill("#code", code.lower())
    with page.expect_navigation():
        page.locator("#open_receipt").click()
    fits_a_phone(page, "the receipt")
    assert number in page.locator("h1").inner_text()
    with page.expect_download() as download:
        page.locator("a[download]").click()
    assert sha256_hex(Path(download.value.path()).read_bytes()) == sha256_hex(pdf)

    assert {urlsplit(url).netloc for url in requests} == {urlsplit(live_server.url).netloc}
    page.context.close()

