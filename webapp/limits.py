"""Rate limits: how often anyone may try the doors that face guessing or load.

One Flask-Limiter per application, its counters in RATELIMIT_STORAGE_URI: memory for
development and tests, Redis in production so that every app server counts together.
The limits themselves are settings (RATE_LIMITS); this module says what each counts
and by whom.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter, RequestLimit
from flask_login import current_user
from werkzeug import Response

LOGIN_FIELD_LIMIT = 200  # hashed for the key, so no more of it matters


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def by_address() -> str:
    """The client's address (after ProxyFix has trusted exactly our own proxies)."""
    return request.remote_addr or "unknown"


def by_login() -> str:
    """The login being tried, whether or not it exists (hashed: no names in Redis)."""
    login = request.form.get("login", "")[:LOGIN_FIELD_LIMIT].strip().casefold()
    return "login:" + _digest(login)


def by_user() -> str:
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else by_address()


def by_credential() -> str:
    """An API client by the token it presents (hashed), or its address if none."""
    header = request.headers.get("Authorization", "")
    return "token:" + _digest(header) if header else by_address()


def failed(response: Response) -> bool:
    """A sign-in attempt that did not sign in (success redirects)."""
    return response.status_code != 302


def sign_in_refused(limit: RequestLimit) -> Response:
    """Answer a blocked sign-in with the form, the login kept, and a plain reason."""
    from webapp.auth.forms import LoginForm

    form = LoginForm()
    minutes = max(1, -(-limit.limit.get_expiry() // 60))
    form.password.errors = [_(
        "Too many failed sign-ins. Try again in %(minutes)d minutes.", minutes=minutes
    )]
    response = current_app.make_response((render_template("auth/login.html", form=form), 429))
    response.headers["Retry-After"] = str(limit.limit.get_expiry())
    return response


@dataclass(frozen=True)
class Door:
    """One rate-limited entry: the setting that holds its limit, and how it counts."""

    setting: str
    endpoints: tuple[str, ...]
    key: Any
    methods: tuple[str, ...] | None = None
    deduct_when: Any = None
    on_breach: Any = None
    blueprint: str | None = None


DOORS = (
    Door("sign_in_per_login", ("auth.login",), by_login, ("POST",), failed, sign_in_refused),
    Door("sign_in_per_address", ("auth.login",), by_address, ("POST",), failed, sign_in_refused),
    Door("verify", ("receipts.verify",), by_address),
    Door("subscriber_link", ("subscriber.verify", "subscriber.receipt"), by_address),
    Door("support_search", ("support.search",), by_user),
    Door("api", (), by_credential, blueprint="api"),
)


def register(app: Flask) -> Limiter:
    """Give the app its own limiter (two apps in one process never share counters
    unless they share a Redis) and put every door's limit on it."""
    limiter = Limiter(key_func=by_address, key_prefix="handover")
    limiter.init_app(app)
    # The decorators below hold the limiter weakly; keep it alive even when disabled.
    app.extensions["rate_limiter"] = limiter
    limits = app.config["RATE_LIMITS"]
    for door in DOORS:
        # Shared: one counter per door, whichever of its endpoints is used.
        decorate = limiter.shared_limit(
            limits[door.setting], door.setting, key_func=door.key,
            methods=list(door.methods) if door.methods else None,
            deduct_when=door.deduct_when, on_breach=door.on_breach,
        )
        if door.blueprint:
            decorate(app.blueprints[door.blueprint])
        for endpoint in door.endpoints:  # the wrapper is what checks a route's limit
            app.view_functions[endpoint] = decorate(app.view_functions[endpoint])

    keyed_by_form = {e for door in DOORS if door.key is by_login for e in door.endpoints}

    @app.before_request
    def read_the_form_first():
        """Parse a form that a limit's key is read from before the limit is checked.
        Flask-Limiter takes any error raised while it counts for its storage failing
        and falls back to counting in memory; a form too large must be a plain 413,
        never a way to switch the shared counters off."""
        if request.method == "POST" and request.endpoint in keyed_by_form:
            request.form  # noqa: B018 - parsing is the point: it raises 413 here

    return limiter
