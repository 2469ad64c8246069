"""How long a staff sign-in lasts: one signed session cookie, refused once it has gone
PERMANENT_SESSION_LIFETIME (8 hours) without a request, and no remember-me cookie.

"Keep me signed in on this device" only makes the session cookie outlive the browser
window; it never stretches the 8 hours.
"""

from __future__ import annotations

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface, SessionMixin
from flask_login.config import COOKIE_NAME


class IdleSessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, re-signed on every staff request."""

    def should_set_cookie(self, app: Flask, session: SessionMixin) -> bool:
        """Renew a signed-in session on each request, kept past the browser or not."""
        # Flask checks every cookie's age against PERMANENT_SESSION_LIFETIME but renews
        # only permanent ones: a browser-session cookie would keep its sign-in time and
        # lapse 8 hours after signing in however busy the technician was.
        return super().should_set_cookie(app, session) or (
            "_user_id" in session and app.config["SESSION_REFRESH_EACH_REQUEST"]
        )


def refuse_remember_cookie() -> None:
    """Ignore a remember-me cookie an earlier version issued, and delete it."""
    # Flask-Login would sign its holder in for 14 days with no session at all. This is
    # its own mark, as logout_user sets it: skip the cookie now, delete it in the reply.
    if current_app.config.get("REMEMBER_COOKIE_NAME", COOKIE_NAME) in request.cookies:
        session["_remember"] = "clear"


def register(app: Flask) -> None:
    """Use idle-lapsing sessions; must run before anything reads current_user."""
    app.session_interface = IdleSessionInterface()
    app.before_request(refuse_remember_cookie)
