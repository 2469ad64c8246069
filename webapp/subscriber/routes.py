"""The subscriber's page, opened from the QR code or link on their own phone."""

import secrets

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale

from webapp import audit
from webapp.db_types import now_utc
from webapp.domain.states import SIGNED_STATUSES
from webapp.domain.terms import HandoverStatus
from webapp.extensions import db
from webapp.handovers.workflow import (
    Outcome,
    find_by_token,
    is_retry,
    link_is_live,
    sign_as_subscriber,
)
from webapp.models import Handover
from webapp.receipts.downloads import send_receipt
from webapp.routing import keep_private
from webapp.subscriber.forms import SubscriberForm, checklist_form

bp = Blueprint("subscriber", __name__)

SIGNED_KEY = "signed_handovers"  # handovers this browser signed, to show their summary
REMEMBERED = 10


@bp.after_request
def private_pages(response):
    # The link is a secret: never send it onwards as a referrer, never cache the page.
    return keep_private(response)


def unavailable():
    """One page for unknown, altered, expired and used links: it reveals nothing."""
    return render_template("subscriber/unavailable.html"), 404


def remember_signed(handover: Handover) -> None:
    signed = [i for i in session.get(SIGNED_KEY, []) if i != handover.id]
    session[SIGNED_KEY] = [*signed, handover.id][-REMEMBERED:]


def fresh_form(handover: Handover) -> SubscriberForm:
    form = checklist_form(handover.services, formdata=None)
    form.facts_version.data = handover.facts_version
    form.submission_id.data = secrets.token_urlsafe(24)
    return form


def render_checklist(handover: Handover, form: SubscriberForm, facts_changed: bool = False):
    if "discounts_stated" in form:  # an item asking for discounts applies
        form.discounts_stated.pad(spare=1)
    return render_template(
        "subscriber/checklist.html", handover=handover, facts=handover.as_facts(), form=form,
        facts_changed=facts_changed,
    )


@bp.route("/s/<token>", methods=["GET", "POST"])
def checklist(token: str):
    handover = find_by_token(token)
    if handover is None:
        return unavailable()
    if handover.status in SIGNED_STATUSES:
        return signed_already(handover, token)
    if not link_is_live(handover):
        return link_closed(handover)

    if request.method == "GET":
        audit.record("subscriber.link_opened", handover=handover)
        db.session.commit()
        return render_checklist(handover, fresh_form(handover))

    form = checklist_form(handover.services)
    if form.facts_version.data != handover.facts_version:
        # The answers were about facts that no longer stand: start again on the new ones.
        record_submission(handover, "facts_changed")
        db.session.commit()
        return render_checklist(handover, fresh_form(handover), facts_changed=True)
    if not form.validate_on_submit():
        record_submission(handover, "invalid", fields=sorted(form.errors))
        db.session.commit()
        return render_checklist(handover, form), 400

    outcome = sign_as_subscriber(
        handover,
        facts_version=form.facts_version.data,
        submission_id=form.submission_id.data,
        answers=form.answers(),
        drawing=form.drawing(),
        typed_name=form.typed_name.data,
        locale=str(get_locale()),
    )
    record_submission(handover, outcome)
    db.session.commit()  # the signing and its audit events together, or neither
    if outcome in (Outcome.SIGNED, Outcome.REPLAYED):
        remember_signed(handover)
        return redirect(url_for("subscriber.checklist", token=token))
    if outcome is Outcome.FACTS_CHANGED:
        return render_checklist(handover, fresh_form(handover), facts_changed=True)
    return link_closed(handover) if outcome is Outcome.CLOSED_LINK else unavailable()


def link_closed(handover: Handover):
    """While the technician corrects the facts the link waits; otherwise it is spent."""
    waiting = (
        handover.status == HandoverStatus.DRAFT
        and handover.link_expires_at is not None
        and handover.link_expires_at > now_utc()
    )
    return render_template("subscriber/updating.html") if waiting else unavailable()


def record_submission(handover: Handover, result: str, **details) -> None:
    """Add the submission's audit event; the view commits it with the rest."""
    audit.record("subscriber.submitted", handover=handover, details={"result": result, **details})


def signed_already(handover: Handover, token: str):
    """Show the summary to the browser that signed; point anyone else to the receipt.

    A retry of the very submission that signed (its response was lost on the
    way) counts as that browser too.
    """
    if request.method == "POST" and is_retry(handover, request.form.get("submission_id")):
        record_submission(handover, Outcome.REPLAYED)
        db.session.commit()
        remember_signed(handover)
        return redirect(url_for("subscriber.checklist", token=token))
    if handover.id not in session.get(SIGNED_KEY, []):
        # The link stays the signing browser's; any other is told where the receipt is
        # kept. Its number is no secret without the code, which only the SMS and the
        # receipt itself carry.
        number = handover.receipt.number if handover.receipt is not None else None
        return render_template("subscriber/signed_elsewhere.html", number=number), 404
    return render_template(
        "subscriber/done.html",
        handover=handover,
        receipt_ready=handover.receipt is not None,
        token=token,
    )


@bp.route("/s/<token>/receipt.pdf")
def receipt(token: str):
    """Let the subscriber download their receipt with the same link, for as long as the
    link lasts counted from when the job was closed (closing may come late)."""
    handover = find_by_token(token)
    ttl = current_app.config["SUBSCRIBER_LINK_TTL"]
    if handover is None or handover.receipt is None or handover.closed_at + ttl <= now_utc():
        abort(404)
    audit.record("receipt.downloaded", handover=handover, details={"by": "subscriber"})
    db.session.commit()
    return send_receipt(handover.receipt)
