"""API clients: bearer tokens (only their hash is kept) and the scopes they hold.

create_client and revoke_client change the session and never commit: the CLI
command does (the rule in webapp/extensions.py)."""

from __future__ import annotations

import secrets
from functools import wraps

import sqlalchemy as sa
from flask import abort, g, request
from werkzeug.exceptions import TooManyRequests

from webapp import limits
from webapp.db_types import now_utc
from webapp.domain.digest import sha256_hex
from webapp.extensions import db, login_manager
from webapp.models import ApiClient

SCOPES = ("orders:write", "receipts:read")
TOKEN_PREFIX = "ho_"  # noqa: S105 - marks a Handover token in logs and leak scanners


class ApiClientError(ValueError):
    """The client cannot be created or revoked as asked."""


def token_hash(token: str) -> str:
    return sha256_hex(token)


def create_client(name: str, scopes: list[str]) -> tuple[ApiClient, str]:
    """Add a client to the session and return it with its token, to be shown once."""
    name = name.strip()
    if not name or len(name) > 64 or not name.isprintable():
        raise ApiClientError("name must be 1 to 64 printable characters.")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ApiClientError(f"scopes must be among {', '.join(SCOPES)}.")
    if db.session.scalar(sa.select(ApiClient.id).where(ApiClient.name == name)):
        raise ApiClientError(f"a client named {name!r} exists already.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(name=name, token_hash=token_hash(token), scopes=sorted(set(scopes)))
    db.session.add(client)
    return client, token


def revoke_client(name: str) -> ApiClient:
    """Revoke the client's token: every later call with it gets 401."""
    client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == name))
    if client is None:
        raise ApiClientError(f"no client named {name!r}.")
    client.revoked_at = client.revoked_at or now_utc()
    return client


def set_client_webhook(name: str, url: str | None) -> tuple[ApiClient, str | None]:
    """Register (or with None, remove) the address the client's events go to; return
    the client and the new signing secret, to be shown once."""
    from urllib.parse import urlsplit

    from webapp.outbox.webhooks import new_secret

    client = db.session.scalar(sa.select(ApiClient).where(ApiClient.name == name))
    if client is None or client.revoked_at is not None:
        raise ApiClientError(f"no live client named {name!r}.")
    if url is None:
        client.webhook_url = client.webhook_secret = None
        return client, None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or len(url) > 500:
        raise ApiClientError("the address must be an http(s) URL of at most 500 characters.")
    client.webhook_url, client.webhook_secret = url, new_secret()
    return client, client.webhook_secret


def calling_client() -> ApiClient | None:
    """Return the live client whose bearer token the request carries."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    client = db.session.scalar(
        sa.select(ApiClient).where(ApiClient.token_hash == token_hash(token.strip()))
    )
    return client if client is not None and client.revoked_at is None else None


def requires(scope: str):
    """Let in only a client holding the scope: 401 without a valid token, 403 without the scope."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if wait := limits.counter().exhausted("api_failed_auth", limits.by_address()):
                raise TooManyRequests(retry_after=wait)
            client = calling_client()
            if client is None:
                limits.counter().take("api_failed_auth", limits.by_address())
                abort(401)
            if wait := limits.counter().take("api", f"client:{client.id}"):
                raise TooManyRequests(retry_after=wait)
            if scope not in client.scopes:
                abort(403)
            g.api_client = client
            # The API answers to the token alone: a staff session cookie sent
            # along must not make a staff member the author of what it does.
            g._login_user = login_manager.anonymous_user()
            return view(*args, **kwargs)

        return wrapped

    return decorator
