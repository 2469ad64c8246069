"""Dates, money and phone numbers as each language writes them, in pages and in receipts."""

import re
import subprocess
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask import render_template_string
from flask_babel import force_locale

from tests.conftest import add_user, close_job, freeze, make_app, make_handover
from tests.tools import needs
from webapp.domain.phone import format_phone, mask_phone
from webapp.domain.privacy import last_digits
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.handovers import workflow
from webapp.models import Handover

MOMENT = datetime(2026, 3, 5, 7, 5, tzinfo=UTC)  # 10:05 in Moscow, the default zone
NBSP = "\u00a0"  # Babel keeps amounts whole with no-break spaces
# What each language shows for 1234.50 roubles, MOMENT, +79123456789 and MOMENT's day.
WRITTEN = {
    "ru": {
        "money": f"1{NBSP}234,50{NBSP}₽", "when": "05.03.2026, 10:05 (Москва)",
        "phone": "8 (912) 345-67-89", "day": "05.03.2026",
    },
    "en": {
        "money": f"RUB{NBSP}1,234.50", "when": "5 Mar 2026, 10:05 (Moscow Time)",
        "phone": "+7 912 345-67-89", "day": "5 Mar 2026",
    },
}
LANGUAGES = list(WRITTEN)


def pdf_text(pdf: bytes) -> str:
    """Return the receipt's text as poppler extracts it, any run of spaces read as one."""
    result = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True)
    return re.sub(r"\s+", " ", result.stdout.decode())


def in_language(language: str) -> dict:
    return {"headers": {"Accept-Language": language}}


def job_at_moment(app, technician, **facts) -> Handover:
    handover = make_handover(app, technician, monthly_fee=Decimal("1234.50"), **facts)
    with app.app_context():
        db.session.get(Handover, handover.id).created_at = MOMENT
        db.session.commit()
    return handover


@pytest.mark.parametrize(
    ("e164", "home", "written"),
    [
        ("+79123456789", "RU", "8 (912) 345-67-89"),
        ("+74951234567", "RU", "8 (495) 123-45-67"),
        ("+79123456789", None, "+7 912 345-67-89"),
        ("+375291234567", "RU", "+375 29 123-45-67"),
    ],
)
def test_a_number_is_written_as_dialled_at_home_and_international_otherwise(e164, home, written):
    assert format_phone(e164, home) == written


@pytest.mark.parametrize(
    ("e164", "home", "keep", "masked"),
    [
        ("+79123456789", "RU", 4, "8 (•••) •••-67-89"),
        ("+79123456789", None, 2, "+7 ••• •••-••-89"),
        ("+442079460958", "RU", 4, "+44 •• •••• 0958"),  # the country code tells nothing
    ],
)
def test_masking_hides_the_subscriber_digits_and_keeps_the_layout(e164, home, keep, masked):
    assert mask_phone(e164, keep, home) == masked


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_page_writes_money_time_and_phone_as_its_language_does(app, technician, language):
    handover = job_at_moment(app, technician)
    page = app.test_client(user=technician).get(
        f"/handovers/{handover.public_id}", **in_language(language)
    ).text
    written = WRITTEN[language]
    assert written["money"] in page
    assert f"<dd>{written['when']}</dd>" in page  # Created
    assert f"<dd>{written['phone']}</dd>" in page
    assert "+79123456789" not in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_numbers_from_other_countries_stay_international(app, technician, language):
    handover = make_handover(app, technician, phone="+375291234567")
    page = app.test_client(user=technician).get(
        f"/handovers/{handover.public_id}", **in_language(language)
    ).text
    assert "<dd>+375 29 123-45-67</dd>" in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_page_writes_days_as_its_language_does(app, language):
    support = app.test_client(user=add_user(app, "agent", Role.SUPPORT))
    page = support.get(
        "/support/technicians?since=2026-03-05&until=2026-03-05", **in_language(language)
    ).text
    assert page.count(WRITTEN[language]["day"]) >= 2  # from that day to that day


@pytest.mark.parametrize(
    ("language", "masked"), [("ru", "8 (•••) •••-67-89"), ("en", "+7 ••• •••-67-89")]
)
def test_a_masked_phone_keeps_the_layout_of_its_language(app, technician, language, masked):
    make_handover(app, technician)
    support = app.test_client(user=add_user(app, "agent", Role.SUPPORT))
    page = support.get("/support/?q=1234567890", **in_language(language)).text
    assert masked in page
    assert WRITTEN[language]["phone"] not in page


@pytest.mark.parametrize("language", LANGUAGES)
@needs("pdftotext")
def test_the_receipt_writes_money_time_and_phone_in_the_subscriber_language(
    app, technician, monkeypatch, language
):
    monkeypatch.setattr(workflow, "now_utc", lambda: MOMENT)  # signed and closed then
    handover = job_at_moment(app, technician)
    pdf = close_job(app, technician, handover, freeze(app, handover), locale=language)
    text = pdf_text(pdf)
    written = {name: value.replace(NBSP, " ") for name, value in WRITTEN[language].items()}
    assert written["money"] in text
    assert text.count(written["when"]) >= 3  # issued, signed, closed
    assert written["phone"] in text


@pytest.mark.parametrize(
    ("zone", "language", "written"),
    [
        ("Asia/Yekaterinburg", "ru", "05.03.2026, 12:05 (Екатеринбург)"),
        ("Asia/Yekaterinburg", "en", "5 Mar 2026, 12:05 (Yekaterinburg Time)"),
        ("Asia/Kolkata", "en", "5 Mar 2026, 12:35 (GMT+05:30)"),
    ],
)
def test_times_follow_the_configured_zone_and_name_it(sqlite_template, zone, language, written):
    app = make_app(f"sqlite:///{sqlite_template}", BABEL_DEFAULT_TIMEZONE=zone)
    with app.test_request_context(), force_locale(language):
        assert render_template_string("{{ moment|when }}", moment=MOMENT) == written


def test_a_phone_that_is_not_e164_is_still_masked_not_an_error():
    assert mask_phone("not a number 6789") == last_digits("not a number 6789", 4)
