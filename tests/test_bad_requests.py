"""Whatever a client sends, the answer is a clear page, never a server error."""

import io
import re

import pytest

from tests.conftest import PASSWORD, csrf_token, make_handover, post_form, valid_form
from webapp.extensions import db
from webapp.models import Handover

EN = {"Accept-Language": "en"}


@pytest.fixture
def tech_client(app, technician):
    return app.test_client(user=technician)


@pytest.mark.parametrize(
    "path",
    [
        "/handovers/AAAAAAAAAAAAAAAA",
        "/handovers/AAAAAAAAAAAAAA%00A",
        "/handovers/%00",
        "/handovers/" + "A" * 5000,
        "/handovers/AAAAAAAAAAAAAAAA/edit",
        "/handovers/..%2F..%2Fetc%2Fpasswd",
    ],
)
def test_malformed_or_unknown_handover_ids_are_not_found(tech_client, path):
    response = tech_client.get(path, headers=EN)
    assert response.status_code == 404
    assert "There is no such page" in response.text


@pytest.mark.parametrize("page", ["100000000000000000000000", "-5", "0", "abc", "1e9"])
def test_any_page_number_shows_a_list(app, technician, tech_client, page):
    make_handover(app, technician, subscriber_name="Listed Subscriber")
    response = tech_client.get(f"/handovers/?page={page}", follow_redirects=True)
    assert response.status_code == 200
    assert "Listed Subscriber" in response.text


def test_nul_bytes_in_every_field_are_refused_not_crashing(app, tech_client):
    form = {key: "a\x00b" for key in valid_form() if not isinstance(valid_form()[key], list)}
    response = post_form(tech_client, "/handovers/new", form, headers=EN)
    assert response.status_code == 200
    assert "Please correct the fields marked below." in response.text
    with app.app_context():
        assert db.session.query(Handover).count() == 0


def test_nul_byte_in_sign_in_is_refused(client, technician):
    response = post_form(client, "/login", {"login": "te\x00ch", "password": PASSWORD}, headers=EN)
    assert response.status_code == 200
    assert "Remove control characters" in response.text


@pytest.mark.parametrize("target", ["/\x00", "/\r\nSet-Cookie:x=1", "/ok\tthere"])
def test_control_characters_in_next_never_reach_a_header(client, technician, target):
    page = client.get("/login")
    response = client.post(
        "/login", query_string={"next": target},
        data={"csrf_token": csrf_token(page.text), "login": "tech", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_a_flood_of_rows_is_refused_without_building_them(app, tech_client):
    rows = {f"discounts-{i}-description": "x" for i in range(30_000)}
    response = post_form(tech_client, "/handovers/new", valid_form(**rows), headers=EN)
    assert response.status_code == 200
    assert "At most 10 rows." in response.text
    assert response.text.count('name="discounts-') <= 20 * 5  # at most twice the limit
    assert len(response.data) < 200_000
    with app.app_context():
        assert db.session.query(Handover).count() == 0


def test_a_service_sent_twice_is_recorded_once(app, tech_client):
    post_form(tech_client, "/handovers/new", valid_form(services=["tv", "tv", "internet"]))
    with app.app_context():
        assert db.session.scalar(db.select(Handover.services)) == ["tv", "internet"]


def test_unknown_method_gets_a_405_page(client):
    response = client.put("/login", headers=EN)
    assert response.status_code == 405
    assert "cannot be used that way" in response.text


def form_fields(html: str) -> list[str]:
    return sorted(set(re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', html)))


def pages_with_forms(app, technician):
    """Every kind of form a client can post to, with the client allowed to post it."""
    from tests.conftest import add_user, freeze
    from webapp.domain.terms import Role

    handover = make_handover(app, technician)
    token = freeze(app, handover)
    admin = app.test_client(user=add_user(app, "boss", Role.ADMIN))
    agent = app.test_client(user=add_user(app, "agent", Role.SUPPORT))
    return [
        (app.test_client(), "/login"),
        (app.test_client(), "/verify"),
        (app.test_client(), f"/s/{token}"),
        (app.test_client(user=technician), "/handovers/new"),
        (agent, "/support/?q=Orlov"),
        (admin, "/admin/users/new"),
    ]


def test_files_or_json_in_place_of_text_fields_get_an_answer_not_a_500(app, technician):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash must show as the 500 it would be
    for client, url in pages_with_forms(app, technician):
        page = client.get(url)
        assert page.status_code == 200, url
        fields = form_fields(page.text)
        token = csrf_token(page.text)
        action = url.split("?")[0]
        as_files = {name: (io.BytesIO(b"<b>x</b>"), "x.txt") for name in fields}
        sent = client.post(action, data={**as_files, "csrf_token": token},
                           content_type="multipart/form-data", headers=EN)
        assert sent.status_code < 500, (url, "files", sent.status_code)
        as_json = {name: [1, {"a": None}] for name in fields} | {"csrf_token": token}
        sent = client.post(action, json=as_json, headers=EN)
        assert sent.status_code < 500, (url, "json", sent.status_code)
