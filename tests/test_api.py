"""The JSON API, as the order system uses it: contracts, errors, tokens, idempotency."""

import re
import sys
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from openapi_spec_validator import validate

from tests.conftest import add_user, all_yes_answers, close_job, csrf_token, freeze, valid_form
from tests.test_receipts import upload
from tests.tools import needs
from webapp.api.auth import create_client
from webapp.extensions import db
from webapp.models import AuditEvent, Handover, IdempotencyKey

PROBLEM = "application/problem+json"
EMAIL = "Enter a valid e-mail address, for example name@example.ru."
LATIN_EMAIL = "Write the e-mail address in Latin letters, for example name@example.ru."
MOBILE = "Enter a mobile number: the receipt is sent to it by SMS."


def order(**changes) -> dict:
    """Return an order as the order system sends it."""
    data = {
        "order_number": "ORD-2026-0077", "account_number": "1234567890",
        "contract_number": "Д-77/2026", "contract_pages": 12,
        "subscriber_name": "Анна Соколова", "phone": "+79123456789",
        "address": "г. Пермь, ул. Ленина, д. 5, кв. 12", "services": ["internet", "tv"],
        "tariff_name": "Домашний 500", "monthly_fee": "650.00", "billing_method": "credit",
        "sales_discounts": [
            {"description": "Скидка новому абоненту", "kind": "percent", "value": "50",
             "months": 3},
        ],
        "technician": "tech",
    }
    return {**data, **changes}


def new_client(app, name="orders", scopes=("orders:write", "receipts:read")) -> dict:
    with app.app_context():
        _client, token = create_client(name, list(scopes))
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def auth(app, technician):
    return new_client(app)


def created(client, auth, **changes):
    response = client.post("/api/v1/handovers", json=order(**changes), headers=auth)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def handovers_in(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(Handover))


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


# Creating handovers


def test_an_order_becomes_a_handover_with_the_sales_promises(app, client, auth, technician):
    body = created(client, auth)
    assert body["status"] == "draft" and len(body["id"]) == 16
    assert body["phone"] == "+79123456789"
    assert body["discounts"] == [{
        "description": "Скидка новому абоненту", "kind": "percent", "value": "50.00",
        "months": 3, "source": "sales",
    }]
    assert body["receipt_number"] is None
    with app.app_context():
        handover = db.session.scalar(db.select(Handover))
        assert handover.technician_id == technician.id
        assert handover.monthly_fee == Decimal("650.00")
        [event] = db.session.scalars(db.select(AuditEvent)).all()
        assert event.event == "handover.created"
        assert event.details == {"by": "api", "client": "orders"} and event.actor_id is None


def test_the_technician_may_be_named_by_employee_id(client, auth, technician):
    assert created(client, auth, technician=technician.employee_id)["status"] == "draft"


def test_a_second_handover_for_the_same_order_is_refused_with_the_first_id(app, client, auth):
    first = created(client, auth)
    response = client.post("/api/v1/handovers", json=order(), headers=auth)
    assert problem(response, 409)["existing_id"] == first["id"]
    # The API does not strip: a number with spaces around it breaks its pattern.
    for number in (" ORD-2026-0077", "ORD-2026-0077 "):
        response = client.post("/api/v1/handovers", json=order(order_number=number),
                               headers=auth)
        assert "/order_number" in [e["pointer"] for e in problem(response, 422)["errors"]]
    assert handovers_in(app) == 1


def test_racing_orders_for_one_number_make_one_handover(app, auth):
    answers = []

    def send(number):
        response = app.test_client().post(
            "/api/v1/handovers", json=order(),
            headers={**auth, "Idempotency-Key": f"try-{number}"},
        )
        answers.append(response.status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201] + [409] * 5
    assert handovers_in(app) == 1


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"order_number": "ORD 1; DROP"}, "/order_number"),
        ({"account_number": "12ab"}, "/account_number"),
        ({"phone": "12345"}, "/phone"),
        ({"phone": "8 912 345-67-89"}, "/phone"),  # E.164 only, as the pattern says
        ({"phone": "+77012345678"}, "/phone"),  # Kazakhstan's +7: not a Russian number
        ({"phone": "+74951234567"}, "/phone"),  # a Moscow landline: no SMS reaches it
        ({"email": "ivan@example"}, "/email"),
        ({"email": ["ivan@example.ru"]}, "/email"),
        ({"subscriber_name": " Анна Соколова"}, "/subscriber_name"),
        ({"subscriber_name": "Анна\tСоколова"}, "/subscriber_name"),
        ({"tariff_name": "Домашний\U000E0041"}, "/tariff_name"),  # an invisible tag
        ({"monthly_fee": "1000000.01"}, "/monthly_fee"),
        ({"monthly_fee": "0650.00"}, "/monthly_fee"),
        ({"monthly_fee": " 650"}, "/monthly_fee"),
        ({"services": ["tv", "tv"]}, "/services"),
        ({"contract_pages": True}, "/contract_pages"),
        ({"sales_discounts": [{"description": "x", "kind": "percent", "value": "0",
                               "months": 3}]}, "/sales_discounts/0/value"),
        ({"sales_discounts": [{"description": "x", "kind": "amount", "value": "1000000.01",
                               "months": None}]}, "/sales_discounts/0/value"),
        ({"sales_discounts": [{"description": "x", "kind": "gift", "value": "1",
                               "months": 3}]}, "/sales_discounts/0/kind"),
        ({"sales_discounts": [{"description": "x", "kind": "amount", "value": "1",
                               "months": 3, "extra": 1}]}, "/sales_discounts/0/extra"),
        ({"monthly_fee": "1.234"}, "/monthly_fee"),
        ({"subscriber_name": "Анна\u202eСоколова"}, "/subscriber_name"),
        ({"subscriber_name": "x" * 201}, "/subscriber_name"),
        ({"services": ["internet", "radio"]}, "/services/1"),
        ({"services": []}, "/services"),
        ({"billing_method": "barter"}, "/billing_method"),
        ({"contract_pages": "twelve"}, "/contract_pages"),
        ({"contract_pages": 0}, "/contract_pages"),
        ({"technician": "nobody"}, "/technician"),
        ({"sales_discounts": [{"description": "x", "kind": "percent", "value": "150",
                               "months": 3}]}, "/sales_discounts/0/value"),
        ({"sales_discounts": [{"description": "x", "kind": "percent", "value": "10"}]},
         "/sales_discounts/0/months"),
        ({"surprise": True}, "/surprise"),
        ({"contract_pages": 12.5}, "/contract_pages"),
        ({"contract_pages": "１２"}, "/contract_pages"),
        ({"monthly_fee": 650}, "/monthly_fee"),
        ({"monthly_fee": "٦٥٠"}, "/monthly_fee"),
        ({"sales_discounts": [{"description": "x", "kind": "percent", "value": "１０",
                               "months": 3}]}, "/sales_discounts/0/value"),
        ({"sales_discounts": ["x"]}, "/sales_discounts/0"),
    ],
)
def test_bad_orders_get_problem_details_naming_the_field(app, client, auth, changes, pointer):
    body = problem(client.post("/api/v1/handovers", json=order(**changes), headers=auth), 422)
    assert pointer in [error["pointer"] for error in body["errors"]], body
    assert handovers_in(app) == 0


@pytest.mark.parametrize("changes", [
    {"subscriber_name": "Анна \ud800"}, {"technician": "tech\ud800"},
    {"sales_discounts": [{"\udc00": 1}]},
])
def test_a_lone_surrogate_makes_the_body_bad_json(app, client, auth, changes):
    """Once a 422 at the field; a lone surrogate is no character that a schema could
    allow or forbid (I-JSON refuses it), so the body itself is refused."""
    problem(client.post("/api/v1/handovers", json=order(**changes), headers=auth), 400)
    assert handovers_in(app) == 0


@pytest.mark.parametrize("missing", ["order_number", "phone", "services", "technician"])
def test_a_missing_field_is_named(client, auth, missing):
    data = order()
    del data[missing]
    body = problem(client.post("/api/v1/handovers", json=data, headers=auth), 422)
    assert f"/{missing}" in [error["pointer"] for error in body["errors"]]


def test_a_whole_number_may_be_written_with_a_zero_fraction(client, auth):
    """12.0 is the number 12 in JSON, and an integer to JSON Schema 2020-12 (OpenAPI 3.1):
    the document allows it, so the server takes it; 12.5 stays refused."""
    discount = {"description": "x", "kind": "percent", "value": "10", "months": 3.0}
    body = created(client, auth, contract_pages=12.0, sales_discounts=[discount])
    assert body["contract_pages"] == 12 and body["discounts"][0]["months"] == 3


def test_bad_json_and_oversize_bodies_get_problem_details(client, auth):
    headers = {**auth, "Content-Type": "application/json"}
    problem(client.post("/api/v1/handovers", data="{not json", headers=headers), 400)
    body = problem(client.post("/api/v1/handovers", data="[]", headers=headers), 422)
    assert body["errors"][0]["pointer"] == ""  # the whole body (RFC 6901)
    problem(client.post("/api/v1/handovers", data="[" * 100_000 + "]" * 100_000,
                        headers=headers), 400)
    problem(client.post("/api/v1/handovers", data="order_number=1", headers={
        **auth, "Content-Type": "application/x-www-form-urlencoded"}), 415)
    huge = '{"order_number": "' + "x" * (2 * 1024 * 1024) + '"}'
    problem(client.post("/api/v1/handovers", data=huge, headers=headers), 413)


@pytest.mark.parametrize(("changes", "detail"), [
    ({"email": "ivan.petrov"}, EMAIL),
    ({"email": "ivan..petrov@example.ru"}, EMAIL),
    ({"email": "ivan@example"}, EMAIL),
    ({"email": "ivan@example.test"}, EMAIL),
    ({"email": "ivan@[192.168.0.1]"}, EMAIL),
    ({"email": '"ivan petrov"@example.ru'}, EMAIL),
    ({"email": "Ivan Petrov <ivan@example.ru>"}, EMAIL),
    ({"email": "ivan@xn--e1afmkfd.xn--p1ai"}, EMAIL),
    ({"email": "a" * 65 + "@example.ru"}, EMAIL),
    ({"email": " ivan@example.ru"}, EMAIL),  # the API does not strip
    ({"email": "<script>alert(1)</script>@example.ru"}, EMAIL),
    ({"email": "x" * 244 + "@example.ru"}, "Use at most 254 characters."),
    ({"email": "ivan@пример.рф"}, LATIN_EMAIL),
    ({"email": ""}, "Fill in this field."),
    ({"email": 42}, "Send text (a JSON string)."),
    ({"phone": "+74951234567"}, MOBILE),  # a Moscow landline
    ({"phone": "+78001234567"}, MOBILE),  # toll-free
    ({"phone": "+78091234567"}, MOBILE),  # premium-rate
])
def test_a_bad_email_or_a_landline_is_refused_as_the_form_refuses_it(
    app, client, auth, changes, detail
):
    body = problem(client.post("/api/v1/handovers", json=order(**changes),
                               headers={**auth, "Accept-Language": "en"}), 422)
    [name] = changes
    assert {e["pointer"]: e["detail"] for e in body["errors"]} == {f"/{name}": detail}
    assert handovers_in(app) == 0


def test_an_email_from_the_order_system_is_stored_normalised(app, client, auth):
    body = created(client, auth, email="Anna.Sokolova@Example.RU")
    assert body["email"] == "Anna.Sokolova@example.ru"
    read = client.get(f"/api/v1/handovers/{body['id']}", headers=auth).get_json()
    assert read["email"] == "Anna.Sokolova@example.ru"
    with app.app_context():
        assert db.session.scalar(db.select(Handover)).fact("email") == "Anna.Sokolova@example.ru"


def test_the_email_may_be_left_out_or_sent_as_null(client, auth):
    assert created(client, auth)["email"] is None
    assert created(client, auth, order_number="ORD-2", email=None)["email"] is None


def test_a_mobile_number_is_taken_and_a_landline_may_still_be_searched_for(client, auth):
    assert created(client, auth, phone="+79001234567")["phone"] == "+79001234567"
    # Jobs recorded before the phone had to be a mobile one are found by theirs.
    answer = client.get("/api/v1/receipts?phone=%2B74951234567", headers=auth)
    assert answer.status_code == 200 and answer.get_json()["receipts"] == []


def test_the_web_form_says_the_same_as_the_api(client, auth):
    """The rules are the form's own: the same bad value gets the same message."""
    body = problem(client.post(
        "/api/v1/handovers", json=order(account_number="12ab"),
        headers={**auth, "Accept-Language": "en"},
    ), 422)
    [error] = [e for e in body["errors"] if e["pointer"] == "/account_number"]
    assert error["detail"] == "Use 5 to 20 digits."


# Tokens and scopes


def test_calls_without_a_valid_token_get_401(app, client, auth):
    with app.app_context():
        from webapp.api.auth import revoke_client

        other = new_client(app, "old")
        revoke_client("old")
        db.session.commit()
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"},
                    other):
        response = client.get("/api/v1/receipts?account_number=1234567890", headers=headers)
        problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_each_client_reaches_only_what_its_scope_allows(app, client):
    add_user(app, "tech")
    reader = new_client(app, "reader", ["receipts:read"])
    writer = new_client(app, "writer", ["orders:write"])
    problem(client.post("/api/v1/handovers", json=order(), headers=reader), 403)
    problem(client.get("/api/v1/receipts?account_number=1234567890", headers=writer), 403)
    assert client.post("/api/v1/handovers", json=order(), headers=writer).status_code == 201
    assert client.get("/api/v1/receipts?account_number=12345", headers=reader).status_code == 200


def test_the_api_keeps_no_cookie_session(client, auth):
    response = client.post("/api/v1/handovers", json=order(), headers=auth)
    assert "Set-Cookie" not in response.headers


# Idempotency


def test_the_same_key_and_body_return_the_first_response(app, client, auth):
    headers = {**auth, "Idempotency-Key": "order-77-try"}
    first = client.post("/api/v1/handovers", json=order(), headers=headers)
    again = client.post("/api/v1/handovers", json=order(), headers=headers)
    assert (again.status_code, again.get_json()) == (201, first.get_json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert handovers_in(app) == 1


def test_the_same_json_spaced_otherwise_counts_as_the_same_request(app, client, auth):
    import json

    headers = {**auth, "Idempotency-Key": "k", "Content-Type": "application/json"}
    first = client.post("/api/v1/handovers", data=json.dumps(order()), headers=headers)
    again = client.post("/api/v1/handovers", data=json.dumps(order(), indent=4),
                        headers=headers)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert handovers_in(app) == 1


def test_the_same_key_with_another_body_is_refused(app, client, auth):
    headers = {**auth, "Idempotency-Key": "order-77-try"}
    client.post("/api/v1/handovers", json=order(), headers=headers)
    problem(client.post("/api/v1/handovers", json=order(order_number="ORD-78"),
                        headers=headers), 422)
    assert handovers_in(app) == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "ключ"])
def test_a_malformed_key_is_refused(app, client, auth, key):
    problem(client.post("/api/v1/handovers", json=order(),
                        headers={**auth, "Idempotency-Key": key}), 400)
    assert handovers_in(app) == 0


def test_keys_are_per_client(app, client, auth):
    other = new_client(app, "second")
    for headers in (auth, other):
        client.post("/api/v1/handovers", json=order(), headers={**headers, "Idempotency-Key": "k"})
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(IdempotencyKey)) == 1


def test_parallel_requests_with_one_key_make_one_handover(app, auth):
    headers = {**auth, "Idempotency-Key": "parallel"}
    answers = []

    def send():
        response = app.test_client().post("/api/v1/handovers", json=order(), headers=headers)
        answers.append((response.status_code, response.get_json()))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert handovers_in(app) == 1
    assert {status for status, _body in answers} == {201}
    assert len({body["id"] for _status, body in answers}) == 1


# Reading handovers and receipts


@needs("pdftotext")
def test_the_order_system_follows_a_sales_promise_to_a_genuine_receipt(app, client, auth,
                                                                        technician):
    """Sales promised 50% for 3 months; the application says 50% for 1 month."""
    body = created(client, auth)
    with app.app_context():
        handover = db.session.scalar(db.select(Handover))
        db.session.expunge(handover)
    tech = app.test_client(user=technician)
    form = valid_form(**{
        "order_number": "ORD-2026-0077", "contract_number": "Д-77/2026",
        "discounts-0-description": "Скидка новому абоненту",
        "discounts-0-value": "50", "discounts-0-months": "1",
    })
    edit = f"/handovers/{handover.public_id}/edit"
    page = tech.get(edit).text
    assert tech.post(edit, data={"csrf_token": csrf_token(page), **form}).status_code == 302
    close_job(app, technician, handover, freeze(app, handover), all_yes_answers())

    report = client.get(f"/api/v1/handovers/{body['id']}", headers=auth).get_json()
    assert report["status"] == "closed"
    [discrepancy] = report["discrepancies"]
    assert (discrepancy["item"], discrepancy["source"]) == ("discounts", "sales")
    number = report["receipt_number"]
    pdf = client.get(f"/api/v1/receipts/{number}.pdf", headers=auth)
    assert pdf.mimetype == "application/pdf"
    verdict = upload(client, pdf.data)
    assert "Genuine and unmodified" in verdict.text

    summary = client.get(f"/api/v1/receipts/{number}", headers=auth).get_json()
    assert summary["handover_id"] == body["id"] and summary["discrepancies"] == 1
    for query in ("account_number=1234567890", "phone=%2B79123456789",
                  "order_number=ORD-2026-0077", "contract_number=Д-77/2026"):
        listed = client.get(f"/api/v1/receipts?{query}", headers=auth).get_json()
        assert [r["number"] for r in listed["receipts"]] == [number], query


def test_unknown_ids_and_numbers_are_404_problems(client, auth):
    problem(client.get("/api/v1/handovers/AAAAAAAAAAAAAAAA", headers=auth), 404)
    problem(client.get("/api/v1/receipts/HO-2345-6789", headers=auth), 404)
    problem(client.get("/api/v1/receipts/HO-2345-6789.pdf", headers=auth), 404)
    problem(client.get("/api/v1/nowhere", headers=auth), 404)
    problem(client.delete("/api/v1/handovers", headers=auth), 405)


def test_receipt_searches_keep_to_their_parameters(client, auth):
    body = problem(client.get("/api/v1/receipts?phone=12", headers=auth), 422)
    assert body["errors"][0]["pointer"] == "/phone"
    problem(client.get("/api/v1/receipts?account_number=12345&per_page=1000", headers=auth), 422)
    for query in ("page=1.0", "page=%201", "page=1_0", "account_number=12345&account_number=67890"):
        problem(client.get(f"/api/v1/receipts?{query}", headers=auth), 422)


@needs("pdftotext")
def test_without_a_search_key_every_receipt_is_listed_newest_first(app, client, auth, technician):
    """Once 422 "Say what to look for"; the schema always allowed it, so now it lists."""
    numbers = []
    for n in (1, 2):
        body = created(client, auth, order_number=f"ORD-{n}", account_number=f"1000{n}0")
        with app.app_context():
            handover = db.session.scalar(
                db.select(Handover).where(Handover.public_id == body["id"]))
            db.session.expunge(handover)
        close_job(app, technician, handover, freeze(app, handover))
        numbers.append(client.get(f"/api/v1/handovers/{body['id']}", headers=auth)
                       .get_json()["receipt_number"])
    listed = client.get("/api/v1/receipts", headers=auth).get_json()
    assert [r["number"] for r in listed["receipts"]] == numbers[::-1]
    assert listed["next_page"] is None
    first = client.get("/api/v1/receipts?per_page=1", headers=auth).get_json()
    assert [r["number"] for r in first["receipts"]] == [numbers[1]] and first["next_page"] == 2
    with app.app_context():
        viewed = db.session.scalars(db.select(AuditEvent.details).where(
            AuditEvent.event == "handover.viewed")).all()
    # The two reports above, then each receipt listed.
    assert [d for d in viewed if d.get("by") == "api"] == [{"by": "api", "client": "orders"}] * 5


def test_markup_comes_back_as_data_not_markup(client, auth):
    body = created(client, auth, subscriber_name="<script>alert(1)</script>")
    assert body["subscriber_name"] == "<script>alert(1)</script>"


# The document


def test_the_openapi_document_is_valid_and_covers_every_operation(client):
    response = client.get("/api/v1/openapi.json")
    spec = response.get_json()
    validate(spec)
    operations = {
        (path, method) for path, item in spec["paths"].items() for method in item
        if method != "parameters"
    }
    assert operations == {
        ("/api/v1/handovers", "post"), ("/api/v1/handovers/{public_id}", "get"),
        ("/api/v1/receipts", "get"), ("/api/v1/receipts/{number}", "get"),
        ("/api/v1/receipts/{number}.pdf", "get"), ("/api/v1/webhook-deliveries", "get"),
    }
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_pages_keep_their_html_errors(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.mimetype == "text/html"


def test_405_answers_say_which_methods_are_allowed(client, auth):
    """The error's own headers (Allow, here) survive the problem and the page built for it."""
    response = client.delete("/api/v1/handovers", headers=auth)
    problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"OPTIONS", "POST"}
    response = client.put("/api/v1/receipts/HO-2345-6789", headers=auth)
    problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}
    page = client.open("/login", method="TRACE")
    assert page.status_code == 405 and page.mimetype == "text/html"
    assert "POST" in page.headers["Allow"] and "GET" in page.headers["Allow"]


# Language: the API follows Accept-Language, and speaks English without it


def bad_order_problem(client, auth, **headers) -> dict:
    data = order(account_number="12ab", surprise=1)
    del data["phone"]
    return problem(client.post("/api/v1/handovers", json=data, headers={**auth, **headers}), 422)


def test_without_accept_language_every_message_is_english(client, auth):
    body = bad_order_problem(client, auth)
    errors = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert body["title"] == "Unprocessable Entity"
    assert body["detail"] == "The request does not match the schema; see errors."
    assert errors == {"/account_number": "Use 5 to 20 digits.", "/phone": "Send this field.",
                      "/surprise": "This field is not part of the request."}
    body = problem(client.get("/api/v1/receipts"), 401)
    assert body["detail"].startswith("Send a valid token")


def test_russian_is_spoken_when_asked_for_in_every_message(client, auth):
    body = bad_order_problem(client, auth, **{"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"})
    errors = {e["pointer"]: e["detail"] for e in body["errors"]}
    assert body["title"] == "Необрабатываемый запрос"
    assert body["detail"] == "Запрос не соответствует схеме; см. errors."
    assert errors == {"/account_number": "Допустимо от 5 до 20 цифр.",
                      "/phone": "Передайте это поле.",
                      "/surprise": "Такого поля в запросе быть не может."}
    everything = problem(client.post("/api/v1/handovers", json={
        "contract_pages": 0, "services": ["radio"], "monthly_fee": 650, "sales_discounts": [
            {"description": " x", "kind": "percent", "value": "150", "months": 1.5}],
    }, headers={**auth, "Accept-Language": "ru"}), 422)
    assert len(everything["errors"]) >= 8
    for error in everything["errors"]:  # each translated, marshmallow's own messages too
        assert re.search("[А-Яа-я]", error["detail"]), error
    assert problem(client.get("/api/v1/nowhere", headers={"Accept-Language": "ru"}), 404)[
        "title"] == "Не найдено"


def test_the_api_ignores_the_pages_language_choice(app, client, auth):
    with client.session_transaction() as session:
        session["language"] = "ru"
    body = bad_order_problem(client, auth)
    assert body["title"] == "Unprocessable Entity"


# The contract: every rule is in the document, and the server applies exactly it


def test_receipt_numbers_in_paths_are_the_receipts_own_in_any_case():
    from webapp.api.smorest import ReceiptNumberConverter
    from webapp.domain.search import RECEIPT_NUMBER

    for number in ("HO-7K3M-Q9PX", "ho-7k3m-q9px", "Ho-0000-zzzz", "HO-7K3M-Q9P", "HO_7K3M-Q9PX",
                   "HO-7K3M-Q9PÄ", "XX-7K3M-Q9PX"):
        assert bool(re.fullmatch(ReceiptNumberConverter.regex, number)) == bool(
            RECEIPT_NUMBER.fullmatch(number.upper())), number


def test_the_api_uses_no_web_form():
    api = Path(__file__).resolve().parent.parent / "webapp" / "api"
    for module in api.glob("*.py"):
        imports = re.findall(r"^\s*(?:from|import) ([\w.]+)", module.read_text(), re.MULTILINE)
        assert not [name for name in imports if name.startswith(("wtforms", "flask_wtf"))
                    or name == "webapp.forms" or name.endswith(".forms")
                    or name == "webapp.fact_forms"], module.name


def test_the_order_schema_is_the_declared_facts():
    from webapp.api.schemas import HandoverIn, ReceiptQuery
    from webapp.domain.declared import FACTS

    declared = {fact.name for fact in FACTS if fact.from_order}
    assert set(HandoverIn().fields) == declared | {"sales_discounts", "technician"}
    for fact in FACTS:
        if fact.from_order:
            assert HandoverIn().fields[fact.name].required == fact.required, fact.name
    assert set(ReceiptQuery().fields) == {
        "account_number", "contract_number", "order_number", "phone", "page", "per_page"}


def test_free_text_is_refused_exactly_where_its_pattern_says():
    """Its pattern refuses what has_control_characters refuses, white space at either
    end, and nothing else, in every plane. (A lone surrogate never reaches a pattern:
    the body holding one is refused as JSON, see test_a_lone_surrogate_….)"""
    from webapp.api.patterns import matches, text_pattern
    from webapp.domain.text import has_control_characters

    pattern = text_pattern(5)
    for code in range(sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        ch = chr(code)
        inside = not has_control_characters(ch)
        assert matches(pattern, f"a{ch}b") == inside, hex(code)
        if code <= 0xFFFF:
            assert matches(pattern, ch) == (inside and not ch.isspace()), hex(code)
    assert not matches(pattern, "ab\n") and matches(pattern, "\U0001F680")
    assert matches(pattern, "x" * 5) and not matches(pattern, "x" * 6)


def test_the_document_states_the_email_and_mobile_rules_the_server_applies(client):
    from webapp.api.patterns import phone_pattern
    from webapp.domain.email_address import EMAIL_PATTERN

    spec = client.get("/api/v1/openapi.json").get_json()
    order_in = spec["components"]["schemas"]["HandoverIn"]
    email = order_in["properties"]["email"]
    assert (email["format"], email["maxLength"], email["pattern"]) == ("email", 254, EMAIL_PATTERN)
    assert email["type"] == ["string", "null"] and "email" not in order_in["required"]
    assert order_in["properties"]["phone"]["pattern"] == phone_pattern("RU", ("mobile",))
    [search] = [p for p in spec["paths"]["/api/v1/receipts"]["get"]["parameters"]
                if p["name"] == "phone"]
    assert search["schema"]["pattern"] == phone_pattern("RU")


def test_the_mobile_pattern_allows_exactly_the_numbers_that_take_sms():
    """Of every valid number, the document's mobile pattern matches those the server (and
    the form) takes: libphonenumber's MOBILE ones, never a landline or a toll-free one."""
    import phonenumbers
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from webapp.api.patterns import matches, phone_pattern
    from webapp.domain.phone import normalise_phone, takes_sms

    mobile = phone_pattern("RU", ("mobile",))
    for kind in phonenumbers.PhoneNumberType.values():
        example = phonenumbers.example_number_for_type("RU", kind)
        if example is not None:
            number = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            assert matches(mobile, number) == takes_sms(number), (kind, number)

    @settings(max_examples=3000, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.from_regex(phone_pattern("RU"), fullmatch=True))
    def agree(number):
        assert normalise_phone(number, "RU") == number
        assert matches(mobile, number) == takes_sms(number)

    agree()


def test_every_phone_number_the_pattern_allows_is_a_valid_one():
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from webapp.api.patterns import phone_pattern
    from webapp.domain.phone import normalise_phone

    @settings(max_examples=3000, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(st.from_regex(phone_pattern("RU"), fullmatch=True))
    def valid(number):
        assert normalise_phone(number, "RU") == number

    valid()


@pytest.mark.parametrize(("minimum", "maximum", "exclusive"), [
    ("0", "1000000", False), ("0", "100", True), ("12.34", "56.78", False), ("0.5", "7", True),
])
def test_amount_patterns_state_their_range(minimum, maximum, exclusive):
    from webapp.api.patterns import amount_pattern, matches

    pattern = amount_pattern(Decimal(minimum), Decimal(maximum), exclusive)
    low, high = Decimal(minimum), Decimal(maximum)
    for cents in [*range(0, 20_000), *range(99_990_000, 100_000_200)]:
        value = Decimal(cents) / 100
        inside = (low < value if exclusive else low <= value) and value <= high
        whole, fraction = divmod(cents, 100)
        writings = [f"{whole}.{fraction:02d}"] + ([f"{whole}.{fraction // 10}"]
                                                  if fraction % 10 == 0 else [])
        writings += [str(whole)] if fraction == 0 else []
        for text in writings:
            assert matches(pattern, text) == inside, (pattern, text)
    for text in ("01", "1.", ".5", "+1", "-1", "1.005", "1e2", " 1", "1 ", "١"):
        assert not matches(pattern, text), text



# The command line


def test_api_clients_create_prints_the_token_once_and_keeps_only_its_hash(app, client, runner):
    result = runner.invoke(args=["api-clients", "create", "orders", "--scope", "receipts:read"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("ho_") and len(token) > 40
    with app.app_context():
        from webapp.models import ApiClient

        stored = db.session.scalar(db.select(ApiClient))
        assert stored.scopes == ["receipts:read"] and token not in repr(vars(stored))
        events = db.session.scalars(db.select(AuditEvent.details)).all()
        assert token not in repr(events)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/receipts?account_number=12345", headers=headers).status_code == 200

    result = runner.invoke(args=["api-clients", "revoke", "orders"])
    assert result.exit_code == 0, result.output
    problem(client.get("/api/v1/receipts?account_number=12345", headers=headers), 401)


@pytest.mark.parametrize(
    "args",
    [["create", "orders", "--scope", "everything"], ["create", " "], ["revoke", "ghost"]],
)
def test_api_clients_commands_refuse_bad_requests(runner, args):
    result = runner.invoke(args=["api-clients", *args])
    assert result.exit_code != 0 and "Error" in result.output


def test_a_staff_session_does_not_open_the_api(app, technician):
    signed_in = app.test_client(user=technician)
    problem(signed_in.get("/api/v1/receipts?account_number=12345"), 401)


def test_a_staff_cookie_sent_along_is_ignored(app, technician, auth):
    signed_in = app.test_client(user=technician)
    assert signed_in.post("/api/v1/handovers", json=order(), headers=auth).status_code == 201
    with app.app_context():
        [event] = db.session.scalars(db.select(AuditEvent)).all()
        assert event.actor_id is None and event.details["client"] == "orders"


def test_api_reads_of_personal_data_are_recorded(app, client, auth):
    body = created(client, auth)
    client.get(f"/api/v1/handovers/{body['id']}", headers=auth)
    with app.app_context():
        viewed = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.event == "handover.viewed")
        ).all()
        assert [e.details for e in viewed] == [{"by": "api", "client": "orders"}]
