"""URL pieces shared by every blueprint."""

from flask import request
from werkzeug.routing import BaseConverter

from webapp.models import PUBLIC_ID_PATTERN

MAX_PAGE = 10_000


class PublicIdConverter(BaseConverter):
    """Match only well-formed public ids, so anything else is a plain 404."""

    regex = PUBLIC_ID_PATTERN


def page_number() -> int:
    """Return the ?page= number, kept within what a database offset can hold."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PAGE)
