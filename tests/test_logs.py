"""Production logs: one JSON object per line, naming routes by their rule so that no
link, search or other personal value reaches the log."""

from __future__ import annotations

import io
import json
import logging

from tests.conftest import add_user, freeze, make_app, make_handover
from webapp import logs
from webapp.domain.terms import Role


def test_each_request_is_one_json_line_with_its_route_rule_not_its_path(sqlite_app):
    app = make_app(sqlite_app.config["SQLALCHEMY_DATABASE_URI"])
    logs.log_requests(app)
    technician = add_user(app, "tech")
    token = freeze(app, make_handover(app, technician, subscriber_name="Pavel Orlov"))
    agent = app.test_client(user=add_user(app, "agent", Role.SUPPORT))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("handover.request")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        app.test_client().get(f"/s/{token}")
        agent.get("/support/?q=Orlov")
        app.test_client().get("/no-such-page")
    finally:
        logger.removeHandler(handler)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [(line["route"], line["status"]) for line in lines] == [
        ("/s/<token>", 200), ("/support/", 200), ("(no route)", 404),
    ]
    assert all(line["level"] == "info" and line["ms"] >= 0 for line in lines)
    text = stream.getvalue()
    assert token not in text and "Orlov" not in text


def test_an_error_is_logged_as_json_with_its_traceback():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    logger = logging.getLogger("webapp.test")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logger.exception("receipt for a handover could not be produced")
    finally:
        logger.removeHandler(handler)
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["level"] == "error"
    assert line["message"] == "receipt for a handover could not be produced"
    assert "RuntimeError: boom" in line["exception"]
