"""Webhooks: the OpenAPI document (3.1) describes every event the outbox sends, as
it sends it, and GET /api/v1/webhook-deliveries shows a client its own deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
from contextlib import contextmanager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from bench.receivers import HttpServer, webhook_receiver
from tests.conftest import add_user, all_yes_answers, close_job, freeze, make_handover
from tests.tools import needs
from webapp.api.auth import create_client, set_client_webhook
from webapp.db_types import now_utc
from webapp.domain.terms import DiscrepancyStatus, Role
from webapp.extensions import db
from webapp.models import AuditEvent, Discrepancy, OutboxMessage, User
from webapp.outbox.messages import EVENTS
from webapp.outbox.worker import work

DOCUMENT = "urn:handover:openapi"
HEADERS = {"Handover-Delivery", "Handover-Event", "Handover-Signature"}
PROBLEM = "application/problem+json"


def document(client) -> dict:
    return client.get("/api/v1/openapi.json").get_json()


def schema_validator(spec: dict, ref: str) -> OAS31Validator:
    """Validate against a schema of the document (a $ref into it), formats checked."""
    registry = Registry().with_resource(DOCUMENT, DRAFT202012.create_resource(spec))
    return OAS31Validator({"$ref": f"{DOCUMENT}{ref}"}, registry=registry,
                          format_checker=OAS31Validator.FORMAT_CHECKER)


def body_validator(spec: dict, event_type: str) -> OAS31Validator:
    """Validate an event's body against its webhook's documented request body."""
    content = spec["webhooks"][event_type]["post"]["requestBody"]["content"]
    return schema_validator(spec, content["application/json"]["schema"]["$ref"])


def api_client(app, name: str, url: str | None, scopes=("orders:write",)) -> tuple[dict, str]:
    """Create a client (with a webhook address when url is given); return its
    Authorization header and its signing secret."""
    with app.app_context():
        _client, token = create_client(name, list(scopes))
        secret = set_client_webhook(name, url)[1] if url else None
        db.session.commit()
    return {"Authorization": f"Bearer {token}"}, secret


def point_webhook(app, name: str, url: str) -> str:
    """Send the client's later deliveries (retries too) to another address."""
    with app.app_context():
        _client, secret = set_client_webhook(name, url)
        db.session.commit()
        return secret


def closed_job_with_a_discrepancy(app, technician, order_number="ORD-1"):
    """Hand over, let the subscriber sign with one No, and close: handed_over, signed,
    discrepancy.found and closed are queued for every client with a webhook."""
    handover = make_handover(app, technician, order_number=order_number)
    close_job(app, technician, handover, freeze(app, handover),
              all_yes_answers(portal_access="no"))
    return handover


def resolve_discrepancies(app, agent) -> None:
    from webapp.support.service import work_on

    with app.app_context():
        author = db.session.get(User, agent.id)
        for discrepancy in db.session.scalars(sa.select(Discrepancy)).all():
            work_on(discrepancy, DiscrepancyStatus.RESOLVED, "Login sent by SMS", author)
        db.session.commit()


def webhook_messages(app, client_name: str | None = None) -> list[OutboxMessage]:
    with app.app_context():
        query = sa.select(OutboxMessage).where(OutboxMessage.channel == "webhook")
        if client_name is not None:
            from webapp.models import ApiClient

            query = query.join(ApiClient).where(ApiClient.name == client_name)
        rows = db.session.scalars(query.order_by(OutboxMessage.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


@contextmanager
def refusing_port():
    """Yield a loopback port that refuses connections: bound, so nobody else takes it
    meanwhile, and never listening."""
    with socket.socket() as bound:
        bound.bind(("127.0.0.1", 0))
        yield bound.getsockname()[1]


def deliver(app) -> None:
    """Run a worker until nothing is due, as `flask outbox work --once` does."""
    with app.app_context():
        work(once=True)


def deliveries(client, auth, query: str = "") -> dict:
    response = client.get(f"/api/v1/webhook-deliveries{query}", headers=auth)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


# The document


def test_the_document_describes_every_event_as_a_webhook_with_its_headers(client):
    spec = document(client)
    validate(spec)
    assert spec["openapi"].startswith("3.1.")
    assert set(spec["webhooks"]) == set(EVENTS)
    for event_type, item in spec["webhooks"].items():
        operation = item["post"]
        headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        assert set(headers) == HEADERS, event_type
        assert all(header["required"] and header["description"] for header in headers.values())
        assert headers["Handover-Event"]["schema"]["enum"] == [event_type]
        signature = headers["Handover-Signature"]["description"]
        assert "HMAC-SHA256" in signature and '"<t>.<body>"' in signature
        note = operation["description"]
        for promise in ("2xx", "exponential backoff", "Handover-Delivery repeats on a retry",
                        "drop a delivery you already have", "410"):
            assert promise in note, (event_type, promise)
        assert operation["security"] == []
        assert {"2XX", "410", "default"} <= set(operation["responses"])
        # Its example is a body the schema allows, of this type.
        example = operation["requestBody"]["content"]["application/json"]["example"]
        body_validator(spec, event_type).validate(example)
        assert example["type"] == event_type
        other = next(t for t in EVENTS if t != event_type)
        assert not body_validator(spec, other).is_valid(example)


def test_the_header_names_are_the_ones_the_outbox_sends():
    from webapp.outbox.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER

    assert {DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER} == HEADERS


@needs("pdftotext")
def test_every_event_the_outbox_sends_keeps_to_its_documented_schema(app, client):
    api_client(app, "orders", "https://orders.example/hooks")
    technician = add_user(app, "tech")
    agent = add_user(app, "agent", Role.SUPPORT)
    closed_job_with_a_discrepancy(app, technician)
    resolve_discrepancies(app, agent)

    spec = document(client)
    messages = webhook_messages(app)
    assert sorted({m.purpose for m in messages}) == sorted(EVENTS)  # every type, once at least
    for message in messages:
        body = json.loads(message.body)
        errors = [e.message for e in body_validator(spec, message.purpose).iter_errors(body)]
        assert errors == [], (message.purpose, body)
        assert (body["type"], body["id"]) == (message.purpose, message.delivery_key)
        # Each body is its own type's alone: the deliveries list tells them apart by it.
        for other in EVENTS:
            if other != message.purpose:
                assert not body_validator(spec, other).is_valid(body), (message.purpose, other)


@needs("pdftotext")
def test_a_delivery_is_signed_and_headed_as_the_document_says(app, client):
    with webhook_receiver() as receiver:
        _auth, secret = api_client(app, "orders", f"{receiver.url}/hooks")
        technician = add_user(app, "tech")
        closed_job_with_a_discrepancy(app, technician)
        deliver(app)
    spec = document(client)
    assert len(receiver.requests) == 4
    for request in receiver.requests:
        body, headers = request["body"], request["headers"]
        event = json.loads(body)
        parameters = {p["name"]: p["schema"] for p in
                      spec["webhooks"][event["type"]]["post"]["parameters"]}
        for name in HEADERS:
            OAS31Validator(parameters[name]).validate(headers[name])
        assert headers["Handover-Delivery"] == event["id"]
        assert headers["Handover-Event"] == event["type"]
        # The recipe the document gives: HMAC-SHA256(secret, "<t>.<raw body>"), in hex.
        t, _, v1 = headers["Handover-Signature"].removeprefix("t=").partition(",v1=")
        expected = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256)
        assert hmac.compare_digest(v1, expected.hexdigest())
        body_validator(spec, event["type"]).validate(event)


# The deliveries


@needs("pdftotext")
def test_a_client_sees_only_its_own_deliveries_with_their_attempts(app, client):
    with webhook_receiver() as receiver:
        mine, _secret = api_client(app, "orders", f"{receiver.url}/mine")
        theirs, _secret = api_client(app, "crm", f"{receiver.url}/theirs")
        technician = add_user(app, "tech")
        closed_job_with_a_discrepancy(app, technician)
        deliver(app)

    spec = document(client)
    page_schema = schema_validator(spec, "#/components/schemas/DeliveryPage")
    for auth, name in ((mine, "orders"), (theirs, "crm")):
        listed = deliveries(client, auth)
        page_schema.validate(listed)
        stored = webhook_messages(app, name)
        newest_first = sorted(stored, key=lambda m: (m.created_at, m.id), reverse=True)
        assert [d["id"] for d in listed["deliveries"]] == [m.delivery_key for m in newest_first]
        assert listed["next_page"] is None
        for delivery, message in zip(listed["deliveries"], newest_first, strict=True):
            assert delivery["event"] == json.loads(message.body)
            assert delivery["type"] == message.purpose == delivery["event"]["type"]
            assert delivery["handover_id"] == delivery["event"]["handover"]["id"]
            assert delivery["status"] == "sent" and delivery["sent_at"]
            assert delivery["next_attempt_at"] is None
            [attempt] = delivery["attempts"]
            assert (attempt["outcome"], attempt["kind"], attempt["detail"]) == (
                "sent", "accepted", "HTTP 204")
            assert attempt["started_at"] <= attempt["finished_at"]
    mine_keys = {d["id"] for d in deliveries(client, mine)["deliveries"]}
    theirs_keys = {d["id"] for d in deliveries(client, theirs)["deliveries"]}
    assert len(mine_keys) == len(theirs_keys) == 4 and not mine_keys & theirs_keys
    assert {json.loads(r["body"])["id"] for r in receiver.requests
            if r["path"] == "/mine"} == mine_keys
    # Reading events is reading the handover's data, and is recorded as such.
    with app.app_context():
        viewed = db.session.scalars(sa.select(AuditEvent.details).where(
            AuditEvent.event == "handover.viewed")).all()
    assert {"by": "api", "client": "orders"} in viewed
    assert {"by": "api", "client": "crm"} in viewed


def test_each_state_is_listed_and_filtered_as_support_reads_it(app, client):
    with refusing_port() as port:
        auth, _secret = api_client(app, "orders", f"http://127.0.0.1:{port}/hooks")
        technician = add_user(app, "tech")
        frozen = make_handover(app, technician, order_number="ORD-1")
        freeze(app, frozen)
        deliver(app)  # handed_over: refused connection, to be retried

    [retrying] = deliveries(client, auth)["deliveries"]
    assert retrying["status"] == "retrying" and retrying["type"] == "handover.handed_over"
    assert retrying["sent_at"] is None and retrying["next_attempt_at"]
    assert retrying["attempts"]
    for attempt in retrying["attempts"]:
        assert (attempt["outcome"], attempt["kind"]) == ("retry", "unreachable")
        assert "refused" in attempt["detail"]  # the reason, in the system's words

    with HttpServer(lambda server, request: (410, b"")) as gone:
        point_webhook(app, "orders", f"{gone.url}/hooks")
        second = make_handover(app, technician, order_number="ORD-2")
        freeze(app, second)
        with app.app_context():  # only the second is due: the first waits for its retry
            db.session.execute(sa.update(OutboxMessage)
                               .where(OutboxMessage.delivery_key == retrying["id"])
                               .values(next_attempt_at=now_utc() + timedelta(hours=1)))
            db.session.commit()
        deliver(app)
    third = make_handover(app, technician, order_number="ORD-3")
    freeze(app, third)  # queued: no worker has run since

    listed = deliveries(client, auth)["deliveries"]
    by_status = {d["status"]: d for d in listed}
    assert set(by_status) == {"queued", "retrying", "failed"} and len(listed) == 3
    failed = by_status["failed"]
    assert failed["next_attempt_at"] is None and failed["sent_at"] is None
    [attempt] = failed["attempts"]
    assert (attempt["outcome"], attempt["kind"]) == ("failed", "recipient_refused")
    assert "410" in attempt["detail"]
    assert by_status["queued"]["attempts"] == [] and by_status["queued"]["next_attempt_at"]
    for status in ("queued", "retrying", "sent", "failed"):
        only = deliveries(client, auth, f"?status={status}")["deliveries"]
        assert [d["id"] for d in only] == [d["id"] for d in listed if d["status"] == status]
    # The list says what support's page says.
    with app.app_context():
        for message in db.session.scalars(sa.select(OutboxMessage)):
            assert by_status[message.status]["id"] == message.delivery_key


@needs("pdftotext")
def test_deliveries_come_a_page_at_a_time(app, client):
    auth, _secret = api_client(app, "orders", "https://orders.example/hooks")
    technician = add_user(app, "tech")
    closed_job_with_a_discrepancy(app, technician)  # four events

    everything = deliveries(client, auth)["deliveries"]
    assert len(everything) == 4
    first = deliveries(client, auth, "?per_page=3")
    assert first["page"] == 1 and first["next_page"] == 2
    second = deliveries(client, auth, "?per_page=3&page=2")
    assert second["page"] == 2 and second["next_page"] is None
    assert [d["id"] for d in first["deliveries"] + second["deliveries"]] == [
        d["id"] for d in everything]
    assert deliveries(client, auth, "?page=3&per_page=3") == {
        "deliveries": [], "page": 3, "next_page": None}


@pytest.mark.parametrize("query", [
    "?status=bogus", "?status=", "?status=SENT", "?status=sent&status=failed", "?per_page=0",
    "?per_page=101", "?page=0", "?page=1.0",
])
def test_bad_parameters_are_refused_naming_them(app, client, query):
    auth, _secret = api_client(app, "orders", None)
    response = client.get(f"/api/v1/webhook-deliveries{query}", headers=auth)
    assert response.status_code == 422 and response.content_type == PROBLEM
    name = query[1:].split("=")[0]
    assert f"/{name}" in [e["pointer"] for e in response.get_json()["errors"]]


def test_without_a_token_or_the_scope_deliveries_are_refused(app, client):
    response = client.get("/api/v1/webhook-deliveries")
    assert response.status_code == 401 and response.content_type == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    reader, _secret = api_client(app, "reader", None, scopes=("receipts:read",))
    response = client.get("/api/v1/webhook-deliveries", headers=reader)
    assert response.status_code == 403 and response.content_type == PROBLEM


def test_a_client_without_a_webhook_has_no_deliveries(app, client):
    auth, _secret = api_client(app, "orders", None)
    assert deliveries(client, auth) == {"deliveries": [], "page": 1, "next_page": None}
