"""The outbox page: in development, where SMS and e-mail appear instead of being sent."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, render_template

from webapp.access import roles_required
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import OutboxMessage
from webapp.outbox.channels import DeliveryProblem
from webapp.outbox.service import outgoing, shown_on_page

bp = Blueprint("outbox", __name__)

SHOWN = 20


@bp.route("/")
@roles_required(Role.TECHNICIAN, Role.SUPPORT, Role.ADMIN)
def index():
    # On a server messages go out: their texts (codes, addresses) are not for a page.
    if not shown_on_page() or current_app.config["NAME"] == "production":
        abort(404)
    messages = db.session.scalars(
        sa.select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(SHOWN)
    ).all()
    return render_template("outbox/index.html", messages=[as_sent(m) for m in messages])


def as_sent(message: OutboxMessage) -> OutboxMessage:
    """Return the message as it goes out, with the receipt's code in place: nothing here
    is sent, so this page is where a developer reads the code."""
    try:
        return outgoing(message)
    except DeliveryProblem:  # the code could not be read: the mark stays
        return message
