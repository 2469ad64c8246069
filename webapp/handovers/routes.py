"""The technician's jobs: list, create, view and edit handovers."""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from webapp import audit
from webapp.access import roles_required
from webapp.domain.states import Action, TransitionRefused, allows
from webapp.domain.terms import HandoverStatus, Role
from webapp.extensions import db
from webapp.handovers import workflow
from webapp.handovers.forms import ConfirmActionForm, CountersignForm, HandoverForm
from webapp.handovers.service import record_facts, recorded
from webapp.models import Handover
from webapp.receipts.downloads import send_receipt
from webapp.receipts.service import ReceiptError
from webapp.routing import numbered_page

bp = Blueprint("handovers", __name__)

STAFF = (Role.TECHNICIAN, Role.SUPPORT, Role.ADMIN)
CHANGED_MEANWHILE = _l(
    "The handover was handed to the subscriber while you were editing, so nothing was saved. "
    "Your changes are still below: take the facts back, then save again."
)
RECEIPT_FAILED = _l(
    "The receipt could not be produced, so the job was not closed. Try again in a moment; "
    "if it keeps failing, tell support."
)
REFUSED = {
    Action.FREEZE: _l("Only a draft can be handed to the subscriber."),
    Action.REOPEN: _l("The subscriber has already signed; the facts can no longer change."),
    Action.CLOSE: _l("The job can be closed only after the subscriber has signed."),
}


def visible_handovers():
    """Return a query for the handovers the signed-in user may see."""
    query = sa.select(Handover)
    if current_user.has_role(Role.TECHNICIAN):
        query = query.where(Handover.technician_id == current_user.id)
    return query


def get_visible_handover_or_404(public_id: str) -> Handover:
    """Return the handover, or 404 when it does not exist or is someone else's job."""
    handover = db.session.scalar(visible_handovers().where(Handover.public_id == public_id))
    if handover is None:
        abort(404)
    return handover


def get_own_handover_or_404(public_id: str) -> Handover:
    """Return a handover of the signed-in technician; anything else is a 404."""
    handover = get_visible_handover_or_404(public_id)
    if handover.technician_id != current_user.id:
        abort(404)
    return handover


def _save(form: HandoverForm, handover: Handover) -> list[str]:
    return record_facts(handover, form.facts(), form.discount_terms(), form.equipment.filled())


@bp.route("/")
@roles_required(*STAFF)
def index():
    query = visible_handovers().order_by(Handover.created_at.desc(), Handover.id.desc())
    handovers = numbered_page(query, current_app.config["HANDOVERS_PER_PAGE"])
    return render_template("handovers/index.html", handovers=handovers)


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.TECHNICIAN)
def create():
    form = HandoverForm()
    if form.validate_on_submit():
        handover = Handover(technician=current_user._get_current_object())
        db.session.add(handover)
        _save(form, handover)
        db.session.flush()
        audit.record("handover.created", handover=handover)
        db.session.commit()
        flash(_("The handover is saved."), "success")
        return redirect(url_for("handovers.detail", public_id=handover.public_id))
    form.pad_rows()
    return render_template("handovers/form.html", form=form, handover=None)


@bp.route("/<public_id:public_id>")
@roles_required(*STAFF)
def detail(public_id: str):
    handover = get_visible_handover_or_404(public_id)
    if handover.technician_id != current_user.id:
        # Staff reading someone else's job see personal data: that is accounted for.
        audit.record_reads([handover])
        db.session.commit()
    return render_detail(handover)


def render_detail(handover: Handover, countersign_form: CountersignForm | None = None, code=200):
    """Render the handover page: facts, the subscriber's link while awaiting, results after."""
    own = handover.technician_id == current_user.id
    link = None
    if own and handover.status == HandoverStatus.AWAITING_SUBSCRIBER:
        token = workflow.link_token(handover, current_app.config["SECRET_KEY"])
        link = url_for("subscriber.checklist", token=token, _external=True)
    page = render_template(
        "handovers/detail.html",
        handover=handover,
        own=own,
        link=link,
        action_form=ConfirmActionForm(formdata=None),
        countersign_form=countersign_form or CountersignForm(formdata=None),
    )
    return page, code


@bp.route("/<public_id:public_id>/status")
@roles_required(*STAFF)
def status(public_id: str):
    """Report the state as JSON, for the technician's page to follow the subscriber live."""
    handover = get_visible_handover_or_404(public_id)
    return jsonify(status=handover.status, facts_version=handover.facts_version)


@bp.route("/<public_id:public_id>/freeze", methods=["POST"])
@roles_required(Role.TECHNICIAN)
def freeze(public_id: str):
    return change_state(public_id, Action.FREEZE)


@bp.route("/<public_id:public_id>/reopen", methods=["POST"])
@roles_required(Role.TECHNICIAN)
def reopen(public_id: str):
    return change_state(public_id, Action.REOPEN)


def change_state(public_id: str, action: Action):
    handover = get_own_handover_or_404(public_id)
    if not ConfirmActionForm().validate_on_submit():
        abort(400)
    try:
        if action is Action.FREEZE:
            workflow.freeze(
                handover,
                current_app.config["SECRET_KEY"],
                current_app.config["SUBSCRIBER_LINK_TTL"],
            )
        else:
            workflow.reopen(handover)
    except TransitionRefused:
        db.session.rollback()
        flash(REFUSED[action], "error")
        return redirect(url_for("handovers.detail", public_id=public_id))
    db.session.commit()
    if action is Action.REOPEN:
        return redirect(url_for("handovers.edit", public_id=public_id))
    return redirect(url_for("handovers.detail", public_id=public_id))


@bp.route("/<public_id:public_id>/close", methods=["POST"])
@roles_required(Role.TECHNICIAN)
def close(public_id: str):
    handover = get_own_handover_or_404(public_id)
    if not allows(handover.status, Action.CLOSE):
        flash(REFUSED[Action.CLOSE], "error")
        return redirect(url_for("handovers.detail", public_id=public_id))
    form = CountersignForm()
    if not form.validate_on_submit():
        return render_detail(handover, form, 400)
    try:
        closed = workflow.countersign_and_close(
            handover, form.drawing(), form.typed_name.data
        )
    except ReceiptError:
        db.session.rollback()
        current_app.logger.exception("receipt for a handover could not be produced")
        flash(RECEIPT_FAILED, "error")
        return redirect(url_for("handovers.detail", public_id=public_id))
    if closed:
        db.session.commit()
        flash(_("The job is closed. The signed receipt is ready."), "success")
    else:
        db.session.rollback()
        flash(REFUSED[Action.CLOSE], "error")
    return redirect(url_for("handovers.detail", public_id=public_id))


@bp.route("/<public_id:public_id>/edit", methods=["GET", "POST"])
@roles_required(Role.TECHNICIAN)
def edit(public_id: str):
    handover = get_own_handover_or_404(public_id)
    if not handover.is_editable:
        flash(_("These facts are with the subscriber. Take them back to edit them."), "error")
        return redirect(url_for("handovers.detail", public_id=public_id))
    form = HandoverForm.editing(recorded(handover))
    if form.validate_on_submit():
        changed = _save(form, handover)
        if changed:
            audit.record("handover.updated", handover=handover, details={"changed": changed})
        try:
            db.session.commit()
        except StaleDataError:
            # Handed to the subscriber (or signed) between loading and saving: keep
            # what was typed on the page, store nothing.
            db.session.rollback()
            flash(CHANGED_MEANWHILE, "error")
            form.pad_rows()
            return render_template("handovers/form.html", form=form, handover=handover), 409
        flash(_("The handover is saved."), "success")
        return redirect(url_for("handovers.detail", public_id=public_id))
    form.pad_rows()
    return render_template("handovers/form.html", form=form, handover=handover)


@bp.route("/<public_id:public_id>/receipt.pdf")
@roles_required(*STAFF)
def receipt(public_id: str):
    handover = get_visible_handover_or_404(public_id)
    if handover.receipt is None:
        abort(404)
    audit.record("receipt.downloaded", handover=handover, details={"by": "staff"})
    db.session.commit()
    return send_receipt(handover.receipt)
