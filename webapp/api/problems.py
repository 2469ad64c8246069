"""Errors as RFC 9457 problem details, with a JSON Pointer for each bad field.

Titles, details and field messages are all in the request's language (English unless
Accept-Language prefers Russian; see webapp/api/smorest.py): messages are catalog
messages, many of them lazy, and turn into text here.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify
from flask_babel import gettext
from werkzeug.exceptions import HTTPException

from webapp.domain.text import N_

PROBLEM_TYPE = "application/problem+json"

# Werkzeug's names of the statuses, in the catalog.
TITLES = {
    400: N_("Bad Request"),
    401: N_("Unauthorized"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    406: N_("Not Acceptable"),
    409: N_("Conflict"),
    413: N_("Request Entity Too Large"),
    415: N_("Unsupported Media Type"),
    422: N_("Unprocessable Entity"),
    429: N_("Too Many Requests"),
    500: N_("Internal Server Error"),
    503: N_("Service Unavailable"),
}
# What werkzeug's own errors mean here (its descriptions are English only).
DETAILS = {
    400: N_("The request is malformed."),
    401: N_("Send a valid token: Authorization: Bearer <token>."),
    403: N_("This client's token does not hold the scope this operation needs."),
    404: N_("Nothing is found at this address."),
    405: N_("This address does not take this method; the Allow header lists those it takes."),
    406: N_("The API answers with JSON (or a PDF) only."),
    413: N_("The request is larger than the API takes."),
    415: N_("Send the body as JSON (Content-Type: application/json)."),
    429: N_("Too many requests: wait as many seconds as Retry-After says."),
    500: N_("Something went wrong on our side. Try again later."),
    503: N_("The service is unavailable for a moment. Try again later."),
}
SCHEMA_MISMATCH = N_("The request does not match the schema; see errors.")


class ApiProblem(HTTPException):
    """An error the API answers with, carrying field problems or other members."""

    def __init__(self, code: int, detail: Any, **members: Any):
        self.code = code
        super().__init__(detail)
        self.members = members


def plain(value: Any) -> Any:
    """Turn lazy catalog messages (at any depth) into text in the request's language."""
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def pointers(messages: Any, path: str = "") -> list[dict[str, str]]:
    """Flatten nested error messages into [{pointer, detail}]: a dict or list of
    row errors goes one level down; plain messages belong to the path itself."""
    if isinstance(messages, dict):
        # marshmallow files errors about a whole object under "_schema".
        return [
            p for key, value in messages.items()
            for p in pointers(value, path if key == "_schema" else f"{path}/{key}")
        ]
    if isinstance(messages, list | tuple):
        found = []
        for index, value in enumerate(messages):
            if isinstance(value, dict | list | tuple):
                found += pointers(value, f"{path}/{index}")
            else:
                found.append({"pointer": path, "detail": str(value)})
        return found
    return [{"pointer": path, "detail": str(messages)}]  # "" points at the whole body


def problem_response(error: HTTPException):
    """Return the error as problem details, in the request's language."""
    code = error.code or 500
    if isinstance(error, ApiProblem):
        detail = str(error.description)
    elif code in DETAILS:
        detail = gettext(DETAILS[code])
    else:
        detail = str(error.description)
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": gettext(TITLES[code]) if code in TITLES else error.name,
        "status": code,
        "detail": detail,
    }
    body |= plain(getattr(error, "members", {}))
    data = getattr(error, "data", None) or {}  # webargs puts what failed here
    if "messages" in data:
        messages = data["messages"]
        body["errors"] = pointers(messages.get("json", messages.get("query", messages)))
        body["detail"] = gettext(SCHEMA_MISMATCH)
    response = jsonify(body)
    response.status_code = code
    response.content_type = PROBLEM_TYPE
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="handover"'
    return response
