"""The technician's jobs: list, create, view and edit handovers."""

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from webapp import audit
from webapp.access import roles_required
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.handovers import bp
from webapp.handovers.forms import HandoverForm
from webapp.handovers.service import form_data, record_facts
from webapp.models import Handover
from webapp.routing import page_number

STAFF = (Role.TECHNICIAN, Role.SUPPORT, Role.ADMIN)


def visible_handovers():
    """Return a query for the handovers the signed-in user may see."""
    query = db.select(Handover)
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
    return record_facts(handover, form.facts(), form.discounts.filled(), form.equipment.filled())


@bp.route("/")
@roles_required(*STAFF)
def index():
    query = visible_handovers().order_by(Handover.created_at.desc(), Handover.id.desc())
    per_page = current_app.config["HANDOVERS_PER_PAGE"]
    handovers = db.paginate(query, page=page_number(), per_page=per_page, error_out=False)
    if handovers.page > max(handovers.pages, 1):
        return redirect(url_for("handovers.index", page=handovers.pages))
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
    return render_template("handovers/detail.html", handover=handover)


@bp.route("/<public_id:public_id>/edit", methods=["GET", "POST"])
@roles_required(Role.TECHNICIAN)
def edit(public_id: str):
    handover = get_own_handover_or_404(public_id)
    if not handover.is_editable:
        flash(_("This handover can no longer be edited: the subscriber has its facts."), "error")
        return redirect(url_for("handovers.detail", public_id=public_id))
    form = HandoverForm(data=form_data(handover))
    if form.validate_on_submit():
        changed = _save(form, handover)
        if changed:
            audit.record("handover.updated", handover=handover, details={"changed": changed})
        db.session.commit()
        flash(_("The handover is saved."), "success")
        return redirect(url_for("handovers.detail", public_id=public_id))
    form.pad_rows()
    return render_template("handovers/form.html", form=form, handover=handover)
