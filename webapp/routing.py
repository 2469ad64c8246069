"""URL pieces shared by every blueprint."""

from urllib.parse import urlsplit

from flask import abort, current_app, has_request_context, redirect, request, url_for
from werkzeug.routing import BaseConverter, IntegerConverter

from webapp.domain.text import has_control_characters
from webapp.extensions import db
from webapp.models import PUBLIC_ID_PATTERN

MAX_PAGE = 10_000


class PublicIdConverter(BaseConverter):
    """Match only well-formed public ids, so anything else is a plain 404."""

    regex = PUBLIC_ID_PATTERN


class RowIdConverter(IntegerConverter):
    """Match a row id a database integer column can hold; anything larger is a plain
    404, not an overflow in the database driver."""

    def __init__(self, map, *args, **kwargs):
        super().__init__(map, min=1, max=2**31 - 1)


def page_number() -> int:
    """Return the ?page= number, kept within what a database offset can hold."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PAGE)


def numbered_page(query, per_page: int):
    """Return the ?page= page of the query (with page numbers and a count); past the
    last page, send the person to the last one instead."""
    items = db.paginate(query, page=page_number(), per_page=per_page, error_out=False)
    if items.page > max(items.pages, 1):
        abort(redirect(url_for(request.endpoint, **request.view_args, page=items.pages)))
    return items


def one_page(query, page: int, per_page: int) -> tuple[list, bool]:
    """Return a page of the query's rows and whether more follow, without counting
    them all (a count over a million receipts costs more than the page)."""
    rows = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)).all()
    return list(rows[:per_page]), len(rows) > per_page


def safe_next(target: str | None) -> str:
    """Return a same-site path to go back to, or the start page for anything else."""
    if (
        target
        and target.startswith("/")
        and not target.startswith("//")
        and "\\" not in target
        and not has_control_characters(target)
    ):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("main.index")


def keep_private(response):
    """Keep a page that holds a subscriber's secret (a link, a receipt's number) out of
    caches and out of the referrer sent onwards."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def external_url(endpoint: str, **values) -> str:
    """Return a full address of the app's own page, for messages and documents that
    leave it: at PUBLIC_URL when set, else where the current request came (a command
    with no request uses http://localhost:5000)."""
    base = current_app.config.get("PUBLIC_URL")
    if not base and has_request_context():
        return url_for(endpoint, **values, _external=True)
    with current_app.test_request_context(base_url=base or "http://localhost:5000"):
        return url_for(endpoint, **values, _external=True)
