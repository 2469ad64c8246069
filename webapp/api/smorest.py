"""flask-smorest as the API uses it: its Api with errors as problem details (in the
request's language, webapp.i18n), and an argument parser that takes JSON only."""

import http
import re

from flask_babel import lazy_gettext as _l
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import fields
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from webapp.api.problems import PROBLEM_TYPE, SCHEMA_MISMATCH, ApiProblem
from webapp.api.schemas import Problem, discount_in_property
from webapp.api.webhooks import document_webhooks, event_body_property
from webapp.routing import PublicIdConverter

# Headers some problems always carry, as the document promises them.
PROBLEM_HEADERS = {
    http.HTTPStatus.UNAUTHORIZED: {"WWW-Authenticate": {
        "description": 'Always Bearer realm="handover": send the client\'s token.',
        "required": True, "schema": {"type": "string"},
    }},
    http.HTTPStatus.TOO_MANY_REQUESTS: {"Retry-After": {
        "description": "Seconds to wait before the next request.",
        "required": True, "schema": {"type": "integer", "minimum": 1},
    }},
}


# What the shared problem responses mean here (an operation may say more of its own).
DESCRIPTIONS = {
    http.HTTPStatus.UNAUTHORIZED: "No valid bearer token: none, an unknown one, or a revoked one",
    http.HTTPStatus.FORBIDDEN: "The client's token does not hold the scope this operation needs",
    http.HTTPStatus.NOT_FOUND: "Nothing is at this address",
    http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "The body is larger than the API takes (1 MiB)",
    http.HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "The body is not sent as application/json",
    http.HTTPStatus.TOO_MANY_REQUESTS: (
        "Too many requests from this client (or, without a valid token, from this address)"
    ),
}


class ReceiptNumberConverter(BaseConverter):
    """A receipt number (webapp.domain.search.RECEIPT_NUMBER) in any case, HO-7K3M-Q9PX;
    anything else is a plain 404."""

    regex = "[Hh][Oo]-[0-9A-Za-z]{4}-[0-9A-Za-z]{4}"


class HandoverApi(Api):
    """flask-smorest's Api, with errors as RFC 9457 problem details.

    Its app-wide JSON error handler is left out: the pages keep their HTML
    errors, and webapp.errors answers everything under /api/ with a problem.
    No catch-all "default" response is documented: each operation lists the
    statuses it answers with, so a status it does not list is a breach.
    """

    ERROR_SCHEMA = Problem
    DEFAULT_ERROR_RESPONSE_NAME = None

    def init_app(self, app, *, spec_kwargs=None):
        app.url_map.converters["receipt_number"] = ReceiptNumberConverter
        super().init_app(app, spec_kwargs=spec_kwargs)
        self.ma_plugin.converter.add_attribute_function(discount_in_property)
        self.ma_plugin.converter.add_attribute_function(event_body_property)
        # Before any operation is documented, so the event schemas keep their own names.
        document_webhooks(self.spec, app.config)
        self.register_converter(PublicIdConverter, lambda converter: {
            "type": "string", "pattern": f"^{converter.regex}$",
        })
        self.register_converter(ReceiptNumberConverter, lambda converter: {
            "type": "string", "pattern": f"^{converter.regex}$",
            "description": "The receipt's number, in any case",
        })

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": DESCRIPTIONS.get(status, status.phrase)}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            if status in PROBLEM_HEADERS:
                response["headers"] = PROBLEM_HEADERS[status]
            prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)


LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def holds_lone_surrogate(value) -> bool:
    """Tell whether a decoded JSON value holds a lone surrogate ("\\ud800" with no pair)
    in any string or key: I-JSON (RFC 7493) refuses them, no database stores them, and
    no schema can speak of them, so the body is refused before any schema is applied."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            stack += item.keys()
            stack += item.values()
        elif isinstance(item, list):
            stack += item
    return False


class JsonParser(FlaskParser):
    """webargs' parser, refusing what is not JSON instead of reading it as nothing, and
    a query parameter sent twice instead of reading the first."""

    def _raw_load_json(self, req):
        if req.mimetype != "application/json" and req.get_data(cache=True):
            raise ApiProblem(415, _l("Send the body as JSON (Content-Type: application/json)."))
        try:
            body = super()._raw_load_json(req)
        except RecursionError:  # "[[[[…]]]]" nested deeper than Python parses
            raise ApiProblem(400, _l("The JSON body is nested too deeply.")) from None
        if holds_lone_surrogate(body):
            raise ApiProblem(400, _l("The body is not valid JSON text: a string in it holds a "
                                     "lone surrogate (\\ud800 to \\udfff), no character."))
        return body

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise ApiProblem(400, _l("The body is not valid JSON."))

    def load_querystring(self, req, schema):
        repeated = [
            name for name, field in schema.fields.items()
            if not isinstance(field, fields.List) and len(req.args.getlist(name)) > 1
        ]
        if repeated:
            raise ApiProblem(422, _l(SCHEMA_MISMATCH),
                             errors=[{"pointer": f"/{name}",
                                      "detail": _l("Send this parameter once.")}
                                     for name in repeated])
        return super().load_querystring(req, schema)
