"""Russian by default, the browser's language wins, and a visible switch changes it."""

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.conftest import csrf_token, post_form, valid_form

ROOT = Path(__file__).resolve().parent.parent
CATALOG = ROOT / "webapp/translations/ru/LC_MESSAGES/messages.po"


def russian(msgid: str) -> str:
    with CATALOG.open("rb") as file:
        return read_po(file).get(msgid).string


def test_russian_is_the_default(client):
    page = client.get("/login")
    assert '<html lang="ru">' in page.text
    assert russian("Staff sign-in") in page.text


@pytest.mark.parametrize(
    ("accept", "lang"), [("en-GB,en;q=0.9", "en"), ("de-DE,de;q=0.9", "ru"), ("ru,en;q=0.5", "ru")]
)
def test_browser_preference_wins_among_supported_languages(client, accept, lang):
    page = client.get("/login", headers={"Accept-Language": accept})
    assert f'<html lang="{lang}">' in page.text


def test_language_switch_overrides_the_browser_and_returns_to_the_page(client):
    page = client.get("/login", headers={"Accept-Language": "ru"})
    response = client.post(
        "/language", data={"csrf_token": csrf_token(page.text), "en": "English", "next": "/login"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"

    again = client.get("/login", headers={"Accept-Language": "ru"})
    assert '<html lang="en">' in again.text
    assert "Staff sign-in" in again.text


def test_language_switch_never_redirects_off_site(client):
    page = client.get("/login")
    response = client.post(
        "/language",
        data={"csrf_token": csrf_token(page.text), "en": "English", "next": "//evil.example"},
    )
    assert response.headers["Location"] == "/"


def test_language_switch_without_token_changes_nothing(client):
    response = client.post("/language", data={"en": "English"})
    assert response.status_code == 400
    assert '<html lang="ru">' in client.get("/login").text


def test_every_page_shows_the_switch(client):
    page = client.get("/login").text
    assert 'action="/language"' in page
    assert 'value="English"' in page and 'value="Русский"' in page


def test_form_errors_are_in_russian(app, technician):
    client = app.test_client(user=technician)
    response = post_form(client, "/handovers/new", valid_form(account_number="12ab"))
    assert russian("Use 5 to 20 digits.") in response.text
    assert "Use 5 to 20 digits." not in response.text
    assert russian("Subscriber's full name") in response.text


def test_form_is_in_english_when_asked(app, technician):
    client = app.test_client(user=technician)
    page = client.get("/handovers/new", headers={"Accept-Language": "en"})
    assert "Subscriber's full name" in page.text
    assert "Discounts written in the application" in page.text


def test_russian_catalog_translates_every_message_in_the_code():
    with (ROOT / "babel.cfg").open() as file:
        method_map, options_map = parse_mapping_cfg(file)
    keywords = {**DEFAULT_KEYWORDS, "_l": None}
    in_code = {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords)
    }
    with CATALOG.open("rb") as file:
        catalog = read_po(file)
    untranslated = sorted(
        msgid for msgid in in_code
        if not (entry := catalog.get(msgid)) or not all(
            [entry.string] if isinstance(entry.string, str) else entry.string
        ) or entry.fuzzy
    )
    assert untranslated == []


def test_wtforms_own_messages_follow_each_requests_language(sqlite_app):
    """Every form's built-in WTForms messages come in the person's language, request
    after request in one process, though the catalogs are read only once."""
    from wtforms import IntegerField

    from webapp.forms import Form

    class Count(Form):
        class Meta:
            csrf = False

        count = IntegerField()

    said = []
    for language in ("ru", "en", "ru"):
        with sqlite_app.test_request_context("/", method="POST", data={"count": "много"},
                                             headers={"Accept-Language": language}):
            form = Count()
            assert not form.validate()
            said += form.errors["count"]
    assert said == ["Неверное целое число.", "Not a valid integer value.",
                    "Неверное целое число."]
