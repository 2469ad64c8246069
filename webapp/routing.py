"""URL pieces shared by every blueprint."""

from urllib.parse import urlsplit

from flask import request, url_for
from werkzeug.routing import BaseConverter

from webapp.domain.text import has_control_characters
from webapp.models import PUBLIC_ID_PATTERN

MAX_PAGE = 10_000


class PublicIdConverter(BaseConverter):
    """Match only well-formed public ids, so anything else is a plain 404."""

    regex = PUBLIC_ID_PATTERN


def page_number() -> int:
    """Return the ?page= number, kept within what a database offset can hold."""
    page = request.args.get("page", 1, type=int)
    return min(max(page, 1), MAX_PAGE)


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
