"""The technician's device handed to a subscriber who has no smartphone ("kiosk mode").

The technician presses "Hand this device to the subscriber" on a job that awaits the
subscriber: the session remembers that one job, and until the technician's own
password gives the device back it reaches only the subscriber's pages, the static
files, the health checks and the language switch. Every other page, staff or not,
answers with "This device is with the subscriber", which shows nothing of the
technician. Signing out ends the handing over too.
"""

from __future__ import annotations

import math

import sqlalchemy as sa
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, user_logged_out

from webapp import audit, limits
from webapp.access import roles_required
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.handovers.workflow import link_is_live, link_token
from webapp.kiosk.forms import ReturnForm
from webapp.models import Handover

bp = Blueprint("kiosk", __name__)

SESSION_KEY = "kiosk"  # the public id of the handover the device is handed over for
# What a handed-over device may still reach: what the subscriber needs, nothing of staff.
OPEN_ENDPOINTS = frozenset({
    "static", "main.healthz", "main.readyz", "main.set_language", "kiosk.leave",
})
OPEN_BLUEPRINTS = frozenset({"subscriber"})
# Signing out ends the handing over together with the technician's session: it opens
# nothing, so it needs no password. Its confirmation page stays closed like any other.
OPEN_POSTS = frozenset({"auth.logout"})
NOT_AWAITING = _l(
    "Only a job that awaits the subscriber can be handed to them on this device."
)


def handed_over() -> str | None:
    """Return the public id of the job this signed-in session is handed over for, or None."""
    # Templates are rendered outside requests too (mail and SMS from the outbox worker).
    if not has_request_context() or SESSION_KEY not in session:
        return None
    if not current_user.is_authenticated:
        return None
    return session[SESSION_KEY]


def subscriber_url(handover: Handover | None) -> str | None:
    """Return the address of the subscriber's page for the job, if it ever had a link."""
    if handover is None or handover.link_nonce is None:
        return None
    token = link_token(handover, current_app.config["SECRET_KEY"])
    return url_for("subscriber.checklist", token=token)


def own_handover_or_404(public_id: str) -> Handover:
    """Return the signed-in technician's handover; anyone else's is a 404, as on its page."""
    handover = db.session.scalar(sa.select(Handover).where(
        Handover.public_id == public_id, Handover.technician_id == current_user.id
    ))
    if handover is None:
        abort(404)
    return handover


def kiosk_page(form: ReturnForm, public_id: str):
    """Render "This device is with the subscriber": back to their page, or the password."""
    handover = db.session.scalar(sa.select(Handover).where(Handover.public_id == public_id))
    return render_template("kiosk/locked.html", form=form, subscriber_url=subscriber_url(handover))


@bp.before_app_request
def keep_to_the_subscriber():
    """Answer every page but the subscriber's with the kiosk page while handed over."""
    if SESSION_KEY in session and not current_user.is_authenticated:
        # Signed out or lapsed: no technician's session is left to protect.
        session.pop(SESSION_KEY)
        return None
    public_id = handed_over()
    if public_id is None or request.path.startswith("/api/"):
        # The API authenticates by token and never reads the session.
        return None
    if request.endpoint in OPEN_ENDPOINTS or request.blueprint in OPEN_BLUEPRINTS:
        return None
    if request.endpoint in OPEN_POSTS and request.method == "POST":
        return None
    return kiosk_page(ReturnForm(formdata=None), public_id), 403


@bp.after_app_request
def keep_staff_pages_out_of_history(response):
    """Never let the browser store a signed-in page, so Back cannot show one."""
    # Back from the subscriber's page would otherwise bring the technician's page
    # (their name, their menu) out of the browser's cache on a handed-over device.
    if response.mimetype == "text/html" and current_user.is_authenticated:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.app_context_processor
def kiosk_flag():
    """Tell every template whether the device is with the subscriber."""
    return {"kiosk": handed_over() is not None}


def end_on_sign_out(app: Flask, **_extra) -> None:
    """Forget the handing over when the technician signs out."""
    session.pop(SESSION_KEY, None)


@bp.record_once
def connect_signals(state) -> None:
    """Connect the sign-out signal for the app the blueprint is registered on."""
    user_logged_out.connect(end_on_sign_out, state.app)


@bp.route("/handovers/<public_id:public_id>/kiosk", methods=["POST"])
@roles_required(Role.TECHNICIAN)
def enter(public_id: str):
    """Hand this device to the subscriber for the job and open their page."""
    handover = own_handover_or_404(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if not link_is_live(handover):
        flash(NOT_AWAITING, "error")
        return redirect(url_for("handovers.detail", public_id=public_id))
    # Messages meant for the technician must not greet the subscriber.
    session.pop("_flashes", None)
    session[SESSION_KEY] = handover.public_id
    audit.record("handover.device_handed_over", handover=handover)
    db.session.commit()
    return redirect(subscriber_url(handover))


@bp.route("/kiosk/return", methods=["GET", "POST"])
def leave():
    """Give the device back to the technician once they type their own password."""
    public_id = handed_over()
    if public_id is None:
        return redirect(url_for("main.index"))
    form = ReturnForm()
    if not form.validate_on_submit():
        return kiosk_page(form, public_id), 400 if request.method == "POST" else 200
    login = current_user.login
    # Counted as a sign-in: whoever holds the device guesses no faster than at /login.
    wait = limits.sign_in_attempt(login)
    if wait:
        form.password.errors.append(_(
            "Too many failed sign-ins. Try again in %(minutes)d minutes.",
            minutes=math.ceil(wait / 60),
        ))
        return kiosk_page(form, public_id), 429, {"Retry-After": str(wait)}
    if not current_user.check_password(form.password.data):
        form.password.errors.append(_("Wrong password."))
        return kiosk_page(form, public_id), 400
    limits.signed_in(login)
    session.pop(SESSION_KEY)
    handover = db.session.scalar(sa.select(Handover).where(Handover.public_id == public_id))
    audit.record("handover.device_returned", handover=handover)
    db.session.commit()
    return redirect(url_for("handovers.detail", public_id=public_id))
