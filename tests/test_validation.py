"""Every rule of the handover form: a clear message beside the field, nothing typed lost."""

import re

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape

from tests.conftest import csrf_token, post_form, valid_form
from webapp.extensions import db
from webapp.models import Handover

EN = {"Accept-Language": "en"}
FILL = "Fill in this field."
DOC_NUMBER = "Use letters, digits, “-” and “/” only."
PAGES = "Enter from 1 to 200 pages."
WHOLE = "Enter a whole number, for example 12."
PHONE = "Enter a valid phone number, for example +7 912 345-67-89."
MOBILE = "Enter a mobile number: the receipt is sent to it by SMS."
EMAIL = "Enter a valid e-mail address, for example name@example.ru."
LATIN_EMAIL = "Write the e-mail address in Latin letters, for example name@example.ru."
AMOUNT = "Enter a number with at most two decimals, for example 499.90."
MONEY_RANGE = "Enter a value from 0 to 1000000."
PERCENT_RANGE = "Enter more than 0 and at most 100."
CONTROL = "Remove control characters (such as tabs or line breaks)."
SERIAL = "Use Latin letters, digits and “-” only."
MONTHS = "Enter from 1 to 120 months."


def at_most(n):
    return f"Use at most {n} characters."


@pytest.fixture
def tech_client(app, technician):
    return app.test_client(user=technician)


def error_beside(html: str, field_id: str) -> str:
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


def handover_count(app) -> int:
    with app.app_context():
        return db.session.query(Handover).count()


BAD_VALUES = [
    ("account_number", "12ab5", "Use 5 to 20 digits."),
    ("account_number", "1234", "Use 5 to 20 digits."),
    ("account_number", "1" * 21, at_most(20)),
    ("account_number", "", FILL),
    ("order_number", "ORD 1", DOC_NUMBER),
    ("order_number", "ORD_1", DOC_NUMBER),
    ("order_number", "A" * 33, at_most(32)),
    ("contract_number", "D#1", DOC_NUMBER),
    ("contract_number", "", FILL),
    ("contract_pages", "0", PAGES),
    ("contract_pages", "201", PAGES),
    ("contract_pages", "abc", WHOLE),
    ("contract_pages", "1.5", WHOLE),
    ("contract_pages", "", FILL),
    ("subscriber_name", "A" * 201, at_most(200)),
    ("subscriber_name", "   ", FILL),
    ("subscriber_name", "Anna\tSmith", CONTROL),
    ("subscriber_name", "Anna\u200bSmith", CONTROL),  # zero-width space
    ("subscriber_name", "Anna\u2028Smith", CONTROL),  # line separator
    ("tariff_name", "\ufeffHome 500", CONTROL),  # byte-order mark
    ("address", "A" * 501, at_most(500)),
    ("address", "Line one\nLine two", CONTROL),
    ("phone", "12345", PHONE),
    ("phone", "not a phone", PHONE),
    ("phone", "+7 000 000-00-00", PHONE),
    ("phone", "+7" + "9" * 40, at_most(32)),
    ("phone", "+7 495 123-45-67", MOBILE),  # a Moscow landline: no SMS reaches it
    ("phone", "8 (495) 123-45-67", MOBILE),
    ("phone", "8 800 123-45-67", MOBILE),  # toll-free
    ("email", "ivan.petrov", EMAIL),
    ("email", "ivan.petrov@", EMAIL),
    ("email", "@example.ru", EMAIL),
    ("email", "ivan petrov@example.ru", EMAIL),
    ("email", "ivan..petrov@example.ru", EMAIL),
    ("email", ".ivan@example.ru", EMAIL),
    ("email", "ivan@example", EMAIL),  # no top-level domain
    ("email", "ivan@example.ru.", EMAIL),
    ("email", "ivan@-example.ru", EMAIL),
    ("email", "ivan@example.test", EMAIL),  # reserved: never delivered
    ("email", "ivan@[192.168.0.1]", EMAIL),
    ('email', '"ivan petrov"@example.ru', EMAIL),
    ("email", "Ivan Petrov <ivan@example.ru>", EMAIL),
    ("email", "ivan@example.ru, anna@example.ru", EMAIL),
    ("email", "ivan@xn--e1afmkfd.xn--p1ai", EMAIL),  # a Cyrillic domain spelt in IDNA
    ("email", "a" * 65 + "@example.ru", EMAIL),  # more than 64 before the @
    ("email", "x" * 244 + "@example.ru", at_most(254)),
    ("email", "ivan@пример.рф", LATIN_EMAIL),
    ("email", "ivan@ex\u0430mple.ru", LATIN_EMAIL),  # Cyrillic a, which looks like Latin a
    ("email", "ivan\t@example.ru", CONTROL),
    ("tariff_name", "", FILL),
    ("tariff_name", "T" * 101, at_most(100)),
    ("monthly_fee", "-1", AMOUNT),
    ("monthly_fee", "12.345", AMOUNT),
    ("monthly_fee", "abc", AMOUNT),
    ("monthly_fee", "1000000,01", MONEY_RANGE),
    ("monthly_fee", "", FILL),
    ("portal_login", "L" * 65, at_most(64)),
    ("portal_login", "login\x07", CONTROL),
    ("portal_login", "login\u202e", CONTROL),
    ("portal_login", "my\u00a0login", "Use printable characters only."),
    ("discounts-0-description", "", FILL),
    ("discounts-0-description", "D" * 201, at_most(200)),
    ("discounts-0-value", "0", PERCENT_RANGE),
    ("discounts-0-value", "100.01", PERCENT_RANGE),
    ("discounts-0-value", "ten", AMOUNT),
    ("discounts-0-value", "", FILL),
    ("discounts-0-months", "0", MONTHS),
    ("discounts-0-months", "121", MONTHS),
    ("discounts-0-months", "six", WHOLE),
    ("discounts-0-months", "", "Enter the months, or tick “Permanent”."),
    ("equipment-0-serial", "SN 1", SERIAL),
    ("equipment-0-serial", "SN_1", SERIAL),
    ("equipment-0-serial", "\u0421123", SERIAL),  # Cyrillic Es, which looks like Latin C
    ("equipment-0-serial", "S" * 65, at_most(64)),
    ("equipment-0-serial", "", FILL),
    ("equipment-0-model", "", FILL),
    ("equipment-0-monthly_fee", "1000001", MONEY_RANGE),
    ("equipment-0-monthly_fee", "", FILL),
]


@pytest.mark.parametrize(("field", "bad", "message"), BAD_VALUES)
def test_bad_value_is_refused_beside_its_field_and_all_input_is_kept(
    app, tech_client, field, bad, message
):
    response = post_form(tech_client, "/handovers/new", valid_form(**{field: bad}), headers=EN)

    assert response.status_code == 200
    assert error_beside(response.text, field) == str(escape(message))
    assert "Please correct the fields marked below." in response.text
    # What the person typed comes back: the bad value (stripped of surrounding
    # spaces) and every other field exactly as typed, the phone included.
    assert f'value="{escape(bad.strip())}"' in response.text
    kept = {"subscriber_name": "Анна Соколова", "equipment-0-serial": "TPL-22C6-00017",
            "monthly_fee": "650,00", "phone": "8 912 345-67-89"}
    for other, typed in kept.items():
        assert f'value="{typed}"' in response.text or other == field
    assert handover_count(app) == 0


def test_amount_discount_may_be_zero_to_a_million(app, tech_client):
    form = valid_form(**{"discounts-0-kind": "amount", "discounts-0-value": "1000000,01"})
    response = post_form(tech_client, "/handovers/new", form, headers=EN)
    assert error_beside(response.text, "discounts-0-value") == MONEY_RANGE


def test_permanent_discount_must_not_also_have_months(tech_client):
    form = valid_form(**{"discounts-0-permanent": "y", "discounts-0-months": "6"})
    response = post_form(tech_client, "/handovers/new", form, headers=EN)
    assert error_beside(response.text, "discounts-0-months") == (
        "Leave months empty for a permanent discount."
    )


def test_at_least_one_service_is_required(app, tech_client):
    form = valid_form()
    del form["services"]
    response = post_form(tech_client, "/handovers/new", form, headers=EN)
    assert error_beside(response.text, "services") == "Choose at least one service."
    assert handover_count(app) == 0


def test_invalid_choice_message_is_in_russian(app, tech_client):
    response = post_form(tech_client, "/handovers/new", valid_form(services=["satellite"]))
    assert error_beside(response.text, "services") == "Выберите один из предложенных вариантов."


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("billing_method", "barter"),
        ("services", "satellite"),
        ("documents", "passport"),
        ("discounts-0-kind", "bitcoin"),
        ("equipment-0-terms", "borrowed"),
    ],
)
def test_values_outside_the_choices_are_refused(app, tech_client, field, bad):
    response = post_form(tech_client, "/handovers/new", valid_form(**{field: bad}), headers=EN)
    assert response.status_code == 200
    assert error_beside(response.text, field) == "Choose one of the options offered."
    assert handover_count(app) == 0


@pytest.mark.parametrize(("prefix", "limit"), [("discounts", 10), ("equipment", 20)])
def test_row_limits_are_enforced_and_every_row_is_kept(app, tech_client, prefix, limit):
    rows = {}
    for index in range(limit + 1):
        if prefix == "discounts":
            rows |= {
                f"discounts-{index}-description": f"Discount number {index}",
                f"discounts-{index}-kind": "percent",
                f"discounts-{index}-value": "5",
                f"discounts-{index}-months": "3",
            }
        else:
            rows |= {
                f"equipment-{index}-kind": "router",
                f"equipment-{index}-model": "Router",
                f"equipment-{index}-serial": f"SN-{index:04d}",
                f"equipment-{index}-terms": "rented",
                f"equipment-{index}-monthly_fee": "0",
            }
    response = post_form(tech_client, "/handovers/new", valid_form(**rows), headers=EN)

    assert f"At most {limit} rows." in response.text
    last = f"Discount number {limit}" if prefix == "discounts" else f"SN-{limit:04d}"
    assert f'value="{last}"' in response.text
    assert handover_count(app) == 0


def test_expired_form_token_keeps_everything_typed(app, tech_client):
    tech_client.get("/handovers/new")
    response = tech_client.post(
        "/handovers/new", data={**valid_form(), "csrf_token": "stale"}, headers=EN
    )
    assert response.status_code == 200
    assert "The form had expired. Nothing you typed is lost" in response.text
    assert 'value="Анна Соколова"' in response.text
    assert 'value="Скидка новому абоненту"' in response.text
    assert handover_count(app) == 0


TEXT_FIELDS = [
    "order_number", "account_number", "contract_number", "subscriber_name", "phone", "email",
    "address", "tariff_name", "portal_login", "discounts-0-description", "equipment-0-model",
    "equipment-0-serial",
]
MARKUP = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_markup_in_every_text_field_comes_back_as_text(tech_client):
    form = valid_form(**dict.fromkeys(TEXT_FIELDS, MARKUP))
    response = post_form(tech_client, "/handovers/new", form, headers=EN)

    assert response.status_code == 200
    assert "<script>alert" not in response.text
    assert "<img src=x" not in response.text
    assert response.text.count(str(escape(MARKUP))) == len(TEXT_FIELDS)


def test_stored_markup_is_shown_as_text_on_the_handover_page(app, tech_client):
    accepted = ["subscriber_name", "address", "tariff_name", "discounts-0-description",
                "equipment-0-model"]
    form = valid_form(**dict.fromkeys(accepted, MARKUP), portal_login="<b>login</b>")
    assert post_form(tech_client, "/handovers/new", form).status_code == 302

    with app.app_context():
        public_id = db.session.scalar(db.select(Handover.public_id))
    page = tech_client.get(f"/handovers/{public_id}").text
    assert "<script>alert" not in page and "<b>login</b>" not in page
    assert str(escape(MARKUP)) in page
    assert "&lt;b&gt;login&lt;/b&gt;" in page


def test_oversized_request_gets_a_clear_413(app, tech_client):
    page = tech_client.get("/handovers/new")
    response = tech_client.post(
        "/handovers/new",
        data={"csrf_token": csrf_token(page.text), "address": "A" * (2 * 1024 * 1024)},
        headers=EN,
    )
    assert response.status_code == 413
    assert "larger than Handover accepts" in response.text


# The subscriber's e-mail and phone: the receipt is sent to them


def stored_facts(app) -> dict:
    with app.app_context():
        return db.session.scalar(db.select(Handover)).recorded_facts()


@pytest.mark.parametrize(("field", "bad", "message"), [
    ("email", "ivan@example", EMAIL),
    ("email", "ivan@пример.рф", LATIN_EMAIL),
    ("phone", "+7 495 123-45-67", MOBILE),
])
def test_a_bad_email_or_a_landline_is_refused_in_russian_beside_its_field(
    app, tech_client, field, bad, message
):
    response = post_form(tech_client, "/handovers/new", valid_form(**{field: bad}))

    assert response.status_code == 200
    assert "Исправьте поля, отмеченные ниже." in response.text
    with app.test_request_context(), force_locale("ru"):
        in_russian = gettext(message)  # the catalog's words (test_i18n: every one translated)
    assert error_beside(response.text, field) == str(escape(in_russian))
    assert f'value="{escape(bad)}"' in response.text
    assert 'value="Анна Соколова"' in response.text and 'value="650,00"' in response.text
    assert handover_count(app) == 0


@pytest.mark.parametrize(("typed", "stored"), [
    ("Anna.Sokolova@Example.RU", "Anna.Sokolova@example.ru"),  # only the domain is lowered
    ("  anna@example.ru ", "anna@example.ru"),
    ("INFO@Sokolova.RU", "info@sokolova.ru"),  # RFC 2142's role names are case-insensitive
    ("anna+tv@mail.example.ru", "anna+tv@mail.example.ru"),
])
def test_an_email_is_stored_normalised_and_shown_on_the_handover_page(
    app, tech_client, typed, stored
):
    response = post_form(tech_client, "/handovers/new", valid_form(email=typed), headers=EN)
    assert response.status_code == 302, error_beside(response.text, "email")

    assert stored_facts(app)["email"] == stored
    with app.app_context():
        public_id = db.session.scalar(db.select(Handover.public_id))
    page = tech_client.get(f"/handovers/{public_id}", headers=EN).text
    assert "Subscriber's e-mail" in page and stored in page


def test_an_address_with_characters_html_treats_specially_is_shown_as_text(app, tech_client):
    typed = "o'brien&co{tv}@example.ru"  # ', & and braces are allowed before the @
    assert post_form(tech_client, "/handovers/new", valid_form(email=typed)).status_code == 302

    assert stored_facts(app)["email"] == typed
    with app.app_context():
        public_id = db.session.scalar(db.select(Handover.public_id))
    page = tech_client.get(f"/handovers/{public_id}").text
    assert str(escape(typed)) in page and typed not in page


def test_the_email_may_be_left_empty(app, tech_client):
    response = post_form(tech_client, "/handovers/new", valid_form(email=""), headers=EN)
    assert response.status_code == 302
    assert stored_facts(app)["email"] is None


@pytest.mark.parametrize(("typed", "stored"), [
    ("8 912 345-67-89", "+79123456789"),
    ("+7 (900) 123-45-67", "+79001234567"),
    ("89991234567", "+79991234567"),
])
def test_a_mobile_number_is_accepted(app, tech_client, typed, stored):
    response = post_form(tech_client, "/handovers/new", valid_form(phone=typed), headers=EN)
    assert response.status_code == 302, error_beside(response.text, "phone")
    assert stored_facts(app)["phone"] == stored
