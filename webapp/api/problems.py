"""Errors as RFC 9457 problem details, with a JSON Pointer for each bad field."""

from __future__ import annotations

from typing import Any

from flask import jsonify
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE = "application/problem+json"


class ApiProblem(HTTPException):
    """An error the API answers with, carrying field problems or other members."""

    def __init__(self, code: int, detail: str, **members: Any):
        self.code = code
        super().__init__(detail)
        self.members = members


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
    """Return the error as problem details."""
    code = error.code or 500
    body: dict[str, Any] = {
        "type": "about:blank", "title": error.name, "status": code,
        "detail": error.description,
    }
    body |= getattr(error, "members", {})
    data = getattr(error, "data", None) or {}  # webargs puts what failed here
    if "messages" in data:
        messages = data["messages"]
        body["errors"] = pointers(messages.get("json", messages.get("query", messages)))
        body["detail"] = "The request does not match the schema; see errors."
    response = jsonify(body)
    response.status_code = code
    response.content_type = PROBLEM_TYPE
    if code == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="handover"'
    return response
