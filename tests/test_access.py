"""Who gets what on every route that takes an id, a token or a number.

The matrix below must name every such route: a new one fails the test until
someone decides who may use it.
"""

import secrets

import pytest

from tests.conftest import add_user, all_yes_answers, close_job, freeze, make_handover
from tests.tools import needs
from webapp.api.auth import create_client
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import Discrepancy, Receipt

OK, LOGIN = "ok", "login"  # OK: anything but a refusal (a page, a redirect, a form error)
STAFF_PAGE = {"anonymous": LOGIN, "owner": OK, "other": 404, "support": OK, "admin": OK}
OWNER_ONLY = {"anonymous": LOGIN, "owner": OK, "other": 404, "support": 403, "admin": 403}
SUPPORT_ONLY = {"anonymous": LOGIN, "owner": 403, "other": 403, "support": OK, "admin": OK}
ADMIN_ONLY = {"anonymous": LOGIN, "owner": 403, "other": 403, "support": 403, "admin": OK}
PUBLIC = dict.fromkeys(("anonymous", "owner", "other", "support", "admin"), OK)
SPENT = dict.fromkeys(PUBLIC, 404)  # a closed job's link shows nothing more, to anyone
# The receipt's PDF by its number only for a browser that typed its code, none of these.
CODE_ONLY = dict.fromkeys(PUBLIC, 404)

MATRIX = {
    ("handovers.detail", "GET"): STAFF_PAGE,
    ("handovers.status", "GET"): STAFF_PAGE,
    ("handovers.receipt", "GET"): STAFF_PAGE,
    ("handovers.edit", "GET"): OWNER_ONLY,
    ("handovers.edit", "POST"): OWNER_ONLY,
    ("handovers.freeze", "POST"): OWNER_ONLY,
    ("handovers.reopen", "POST"): OWNER_ONLY,
    ("handovers.close", "POST"): OWNER_ONLY,
    ("kiosk.enter", "POST"): OWNER_ONLY,  # the device handed to the subscriber
    ("subscriber.checklist", "GET"): SPENT,
    ("subscriber.checklist", "POST"): SPENT,
    ("subscriber.receipt", "GET"): PUBLIC,
    ("receipts.access", "GET"): PUBLIC,  # the form for the code, the number filled in
    ("receipts.access", "POST"): PUBLIC,  # the code checked (here: refused, no CSRF token)
    ("receipts.access_pdf", "GET"): CODE_ONLY,
    ("support.receipt", "GET"): SUPPORT_ONLY,
    ("support.receipt_pdf", "GET"): SUPPORT_ONLY,
    ("support.resend", "POST"): SUPPORT_ONLY,  # sending the receipt again
    ("support.discrepancy", "GET"): SUPPORT_ONLY,
    ("support.discrepancy", "POST"): SUPPORT_ONLY,
    ("admin.detail", "GET"): ADMIN_ONLY,
    ("admin.change_role", "POST"): ADMIN_ONLY,
    ("admin.deactivate", "POST"): ADMIN_ONLY,
    ("admin.reactivate", "POST"): ADMIN_ONLY,
    ("admin.reset_password", "POST"): ADMIN_ONLY,
}
# Routes that answer a made-up number as they answer a real one: whether it exists must
# not show (the form for the code comes back either way).
SAME_FOR_ANY_NUMBER = {("receipts.access", "GET"), ("receipts.access", "POST")}
API = {
    "api.get_handover": "orders:write",
    "api.get_receipt": "receipts:read",
    "api.receipt_pdf": "receipts:read",
}


def routes_with_ids(app) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.arguments and rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


@pytest.fixture
def world(app):
    """A closed job with its receipt and a discrepancy, and one of each kind of person."""
    owner = add_user(app, "owner")
    people = {
        "owner": owner, "other": add_user(app, "other"),
        "support": add_user(app, "agent", Role.SUPPORT),
        "admin": add_user(app, "boss", Role.ADMIN),
    }
    handover = make_handover(app, owner)
    token = freeze(app, handover)
    close_job(app, owner, handover, token, all_yes_answers(portal_access="no"))
    with app.app_context():
        receipt = db.session.scalar(db.select(Receipt))
        discrepancy_id = db.session.scalar(db.select(Discrepancy.id))
        values = {
            "public_id": handover.public_id, "token": token, "number": receipt.number,
            "discrepancy_id": discrepancy_id, "user_id": people["other"].id,
        }
    return people, values


def url(app, endpoint: str, values: dict) -> str:
    with app.test_request_context():
        from flask import url_for

        rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
        return url_for(endpoint, **{name: values[name] for name in rule.arguments})


def outcome(response) -> object:
    if response.status_code == 302 and "/login" in response.headers.get("Location", ""):
        return LOGIN
    if response.status_code in (401, 403, 404):
        return response.status_code
    assert response.status_code < 500, response.status_code
    return OK


def test_the_matrix_names_every_route_that_takes_an_id(app):
    named = set(MATRIX) | {(endpoint, "GET") for endpoint in API}
    assert routes_with_ids(app) == named


@needs("pdftotext")
def test_each_person_gets_exactly_the_intended_answer_on_every_id(app, world):
    people, values = world
    clients = {name: app.test_client(user=user) for name, user in people.items()}
    clients["anonymous"] = app.test_client()
    wrong = []
    for (endpoint, method), expected in MATRIX.items():
        address = url(app, endpoint, values)
        for who, client in clients.items():
            got = outcome(client.open(address, method=method))
            if got != expected[who]:
                wrong.append((endpoint, method, who, got, expected[who]))
    assert wrong == []


@needs("pdftotext")
def test_made_up_ids_tokens_and_numbers_find_nothing(app, world):
    people, values = world
    made_up = {
        "public_id": secrets.token_urlsafe(12), "token": secrets.token_urlsafe(32),
        "number": "HO-2345-6789", "discrepancy_id": 999_999, "user_id": 999_999,
    }
    for (endpoint, method), expected in MATRIX.items():
        who = next((name for name, answer in expected.items() if answer == OK), "anonymous")
        client = app.test_client(user=people[who]) if who != "anonymous" else app.test_client()
        response = client.open(url(app, endpoint, made_up), method=method)
        if (endpoint, method) in SAME_FOR_ANY_NUMBER:
            real = client.open(url(app, endpoint, values), method=method)
            assert response.status_code == real.status_code < 500, (endpoint, method)
            continue
        assert response.status_code == 404, (endpoint, method)


@needs("pdftotext")
def test_api_clients_reach_only_their_scope(app, world):
    _people, values = world
    tokens = {}
    with app.app_context():
        for scope in ("orders:write", "receipts:read"):
            _client, tokens[scope] = create_client(scope, [scope])
        db.session.commit()
    client = app.test_client()
    for endpoint, scope in API.items():
        address = url(app, endpoint, values)
        assert client.get(address).status_code == 401
        for holder, token in tokens.items():
            response = client.get(address, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == (200 if holder == scope else 403), (endpoint, holder)
