"""The API keeps to the contract it publishes, as Schemathesis finds over HTTP.

A real server of the app (werkzeug on 127.0.0.1, on each test database) is walked
by Schemathesis' engine from /api/v1/openapi.json with every check it has, in every
phase: the document's examples, the coverage phase (boundaries, missing parameters,
methods the document does not list), fuzzing with valid and invalid data, and
stateful sequences along the document's links (a created handover is read back; a
listed receipt is opened, as JSON and as its PDF). A request the document allows
must be accepted, one it forbids refused, every answer documented and shaped as
documented.

What the test supplies is what any client would have: a bearer token holding both
scopes, a technician who exists, and, for valid orders, an order number and an
Idempotency-Key not used before (a repeated one is a conflict the document states,
not a shape the schema could rule out). The rate limits are raised so that the run
is not cut short by them. No check is turned off or relaxed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from schemathesis import openapi
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from bench.receivers import webhook_receiver
from tests.browser import LiveServer
from tests.conftest import add_user, all_yes_answers, app_on, close_job, freeze, make_handover
from tests.test_api_webhooks import refusing_port
from tests.tools import needs
from webapp.api.auth import SCOPES, create_client, set_client_webhook
from webapp.config import Config
from webapp.extensions import db
from webapp.outbox.worker import work

pytestmark = needs("pdftotext")

TECHNICIAN = "tech"
OPERATIONS = {
    "POST /api/v1/handovers", "GET /api/v1/handovers/{public_id}", "GET /api/v1/receipts",
    "GET /api/v1/receipts/{number}", "GET /api/v1/receipts/{number}.pdf",
    "GET /api/v1/webhook-deliveries",
}
# Enough for every phase to reach every operation and link; about 30 s on SQLite.
SEED = 20261207
MAX_EXAMPLES = 60
STATEFUL_EXAMPLES = 25
MAX_STEPS = 20


@pytest.fixture
def contract_app(database_url):
    limits = {**Config.RATE_LIMITS, "api": "1000000 per minute",
              "api_failed_auth": "1000000 per minute"}
    with app_on(database_url, RATE_LIMITS=limits) as app:
        yield app


@pytest.fixture
def api_server(contract_app):
    """The app served over HTTP, with a technician, a closed job with its signed
    receipt (so the receipts have something to list and open), and a client token
    whose webhook deliveries are in every state but failed (so that list has each
    shape to show: sent with attempts, retrying with its reason, queued)."""
    app = contract_app
    technician = add_user(app, TECHNICIAN)
    with app.app_context():
        _client, token = create_client("schemathesis", list(SCOPES))
        db.session.commit()
    with webhook_receiver() as receiver:
        hook(app, f"{receiver.url}/hooks")
        handover = make_handover(app, technician, order_number="ORD-CONTRACT-1")
        close_job(app, technician, handover, freeze(app, handover),
                  all_yes_answers(portal_access="no"))
        deliver(app)
    with refusing_port() as port:
        hook(app, f"http://127.0.0.1:{port}/hooks")
        freeze(app, make_handover(app, technician, order_number="ORD-CONTRACT-2"))
        deliver(app)
    freeze(app, make_handover(app, technician, order_number="ORD-CONTRACT-3"))
    with LiveServer(app) as server:
        server.token = token
        yield server


def hook(app, url: str) -> None:
    """Send the client's webhook events to this address."""
    with app.app_context():
        set_client_webhook("schemathesis", url)
        db.session.commit()


def deliver(app) -> None:
    """Run an outbox worker until nothing is due."""
    with app.app_context():
        work(once=True)


def make_orders_real(schema) -> None:
    """A valid order names a technician who exists, and a fresh order number and
    Idempotency-Key: the rules no schema can state. Invalid orders are left alone."""
    fresh = itertools.count(1)

    @schema.hook
    def map_case(context, case):
        meta = case.meta
        if case.method != "POST" or meta is None or not meta.generation.mode.is_positive:
            return case
        n = next(fresh)
        if isinstance(case.body, dict):
            case.body["technician"] = TECHNICIAN
            number = case.body.get("order_number")
            if isinstance(number, str):
                case.body["order_number"] = f"{number[:24]}-{n}"
        if case.headers and "Idempotency-Key" in case.headers:
            case.headers["Idempotency-Key"] = f"{case.headers['Idempotency-Key'][:240]}-{n}"
        return case


@dataclass
class Walk:
    """What a run found and did."""

    failures: list[str] = field(default_factory=list)
    # phase -> "METHOD /path" of every request sent, methods the document lacks included
    reached: dict[str, set[str]] = field(default_factory=dict)
    # phase -> (operation, status) of every answer
    answered: dict[str, set[tuple[str, int]]] = field(default_factory=dict)
    checks: set[str] = field(default_factory=set)

    def scenario(self, event: events.ScenarioFinished) -> None:
        phase = str(event.phase)
        recorder = event.recorder
        for case_id, node in recorder.cases.items():
            operation = f"{node.value.method.upper()} {node.value.operation.path}"
            self.reached.setdefault(phase, set()).add(operation)
            interaction = recorder.interactions.get(case_id)
            if interaction is not None and interaction.response is not None:
                self.answered.setdefault(phase, set()).add(
                    (operation, interaction.response.status_code))
        for nodes in recorder.checks.values():
            for node in nodes:
                self.checks.add(node.name)
                if node.status == Status.FAILURE and node.failure_info is not None:
                    info = node.failure_info
                    self.failures.append(f"[{phase}] {recorder.label}: {info.failure.title}\n"
                                         f"{info.failure.message}\n{info.code_sample}")
        if event.status == Status.ERROR:
            self.failures.append(f"[{phase}] {recorder.label}: an error (see the log)")


def run(server) -> Walk:
    """Walk the API from its document with every check in every phase."""
    config = SchemathesisConfig.from_dict({
        "seed": SEED,
        "checks": {"enabled": True},
        # No example database: each run draws afresh from the seed, not from what an
        # earlier run (of another version of the document) stored.
        "generation": {"max-examples": MAX_EXAMPLES, "mode": "all", "database": "none"},
        "phases": {"stateful": {"max-steps": MAX_STEPS,
                                "generation": {"max-examples": STATEFUL_EXAMPLES}}},
        "auth": {"openapi": {"bearer": {"bearer": server.token}}},
    })
    schema = openapi.from_url(f"{server.url}/api/v1/openapi.json", config=config)
    make_orders_real(schema)
    walk = Walk()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            walk.scenario(event)
        elif isinstance(event, events.NonFatalError):
            walk.failures.append(f"[{event.phase}] {event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            walk.failures.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            walk.failures += [f"after the run: {f.title}\n{f.message}" for f in event.failures]
    return walk


def test_the_api_keeps_to_its_document_under_every_check(api_server):
    walk = run(api_server)
    assert walk.failures == [], "\n\n".join(dict.fromkeys(walk.failures))
    load_all_checks()
    assert walk.checks == set(CHECKS.get_all_names()), walk.checks  # every one of them ran
    assert "POST /api/v1/handovers" in walk.reached["examples"]
    for phase in ("coverage", "fuzzing", "stateful"):
        assert walk.reached[phase] >= OPERATIONS, (phase, walk.reached[phase])
    # Methods the document does not list were tried (and answered 405, with Allow).
    assert ("DELETE /api/v1/handovers", 405) in walk.answered["coverage"]
    # Valid orders became handovers, and the links led to real resources.
    assert ("POST /api/v1/handovers", 201) in walk.answered["fuzzing"]
    for answer in [("POST /api/v1/handovers", 201), ("GET /api/v1/handovers/{public_id}", 200),
                   ("GET /api/v1/receipts/{number}", 200),
                   ("GET /api/v1/receipts/{number}.pdf", 200),
                   ("GET /api/v1/webhook-deliveries", 200)]:
        assert answer in walk.answered["stateful"], answer
