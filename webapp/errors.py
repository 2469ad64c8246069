"""One error renderer: every HTTP error is a page from templates/errors/<code>.html."""

from flask import Flask, make_response, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from webapp import limits
from webapp.extensions import db

PAGES = frozenset({400, 403, 404, 405, 413, 429, 500})


def render_error(error: HTTPException):
    """Render the error's page, or the generic one for codes without a page; under
    /api/, problem details instead (JSON, never HTML). Either way the response keeps
    the headers the error carries (Allow on a 405, WWW-Authenticate, Retry-After). A
    response made for the error itself (the sign-in form for a blocked sign-in) is
    sent as it is."""
    if error.response is not None:
        return error.response
    if request.path.startswith("/api/"):
        from webapp.api.problems import problem_response

        response = problem_response(error)
    else:
        code = error.code or 500
        template = f"errors/{code}.html" if code in PAGES else "errors/generic.html"
        response = make_response(render_template(template, error=error), code)
    for name, value in carried_headers(error):
        if name not in response.headers:
            response.headers[name] = value
    wait = limits.retry_after(error)
    if wait is not None:
        response.headers["Retry-After"] = str(wait)
    return response


def carried_headers(error: HTTPException) -> list[tuple[str, str]]:
    """The headers the error itself carries (Allow on a 405, WWW-Authenticate on a 401,
    Retry-After on a 429, …), but its Content-Type: the response has its own."""
    return [(name, value) for name, value in error.get_headers()
            if name.lower() != "content-type"]


def handle_server_error(error: InternalServerError):
    # The failed request may have left the session mid-transaction.
    db.session.rollback()
    return render_error(error)


def register(app: Flask) -> None:
    app.register_error_handler(HTTPException, render_error)
    app.register_error_handler(InternalServerError, handle_server_error)
