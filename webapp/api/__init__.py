"""The JSON API for the order system: /api/v1, documented at /api/v1/openapi.json."""

import http

from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from webargs.flaskparser import FlaskParser

from webapp.api.problems import PROBLEM_TYPE, ApiProblem
from webapp.api.schemas import Problem


class HandoverApi(Api):
    """flask-smorest's Api, with errors as RFC 9457 problem details.

    Its app-wide JSON error handler is left out: the pages keep their HTML
    errors, and webapp.errors answers everything under /api/ with a problem.
    """

    ERROR_SCHEMA = Problem

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Any error, as problem details", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


class JsonParser(FlaskParser):
    """webargs' parser, refusing what is not JSON instead of reading it as nothing."""

    def _raw_load_json(self, req):
        if req.mimetype != "application/json" and req.get_data(cache=True):
            raise ApiProblem(415, "Send the body as JSON (Content-Type: application/json).")
        try:
            return super()._raw_load_json(req)
        except RecursionError:  # "[[[[…]]]]" nested deeper than Python parses
            raise ApiProblem(400, "The JSON body is nested too deeply.") from None


bp = Blueprint("api", __name__, url_prefix="/api/v1", description="Handovers and receipts")
bp.ARGUMENTS_PARSER = JsonParser()

from webapp.api import routes  # noqa: E402, F401 - registers the routes on bp
