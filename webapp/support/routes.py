"""The support workspace: search, receipt pages, the discrepancy queue, technicians' quality."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from webapp import audit
from webapp.access import roles_required
from webapp.domain.search import parse_query
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import Discrepancy, Handover, Receipt, User
from webapp.outbox.service import messages_of
from webapp.receipts.downloads import get_receipt_or_404, send_receipt
from webapp.receipts.service import verify_pdf
from webapp.routing import page_number, safe_next
from webapp.support.forms import (
    ANY,
    NoteForm,
    PeriodForm,
    ResendForm,
    SearchForm,
    start_of,
    today,
)
from webapp.support.search import find
from webapp.support.service import (
    WATCHED_ITEMS,
    DiscrepancyRefused,
    ResendRefused,
    open_discrepancies,
    other_readers,
    quality,
    send_again,
    trail,
    work_on,
)

bp = Blueprint("support", __name__)

SUPPORT = (Role.SUPPORT, Role.ADMIN)
QUALITY_PERIOD = timedelta(days=30)


def technician_choices() -> list[SelectChoice]:
    """Return every technician, and anyone who did jobs as one (since given another
    role), for the search's filter."""
    did_jobs = sa.select(Handover.id).where(Handover.technician_id == User.id).exists()
    people = db.session.scalars(
        sa.select(User).where(sa.or_(User.role == Role.TECHNICIAN, did_jobs))
        .order_by(User.full_name)
    )
    return [SelectChoice(str(user.id), user.full_name) for user in people]


@bp.route("/")
@roles_required(*SUPPORT)
def search():
    form = SearchForm(request.args)
    form.technician.choices = [ANY, *technician_choices()]
    results = None
    if request.args and form.validate():
        per_page = current_app.config["HANDOVERS_PER_PAGE"]
        results = find(parse_query(form.q.data or ""), form.filters(), page_number(), per_page)
    # The pages' links carry the search's own fields, nothing else a URL brought.
    shared = {field.name: request.args[field.name] for field in form if field.name in request.args}
    page = render_template("support/search.html", form=form, results=results, shared=shared)
    return page, 400 if form.errors else 200


def note_prefix(discrepancy: Discrepancy) -> str:
    """Return the prefix of a discrepancy's note form: several share a page."""
    return f"d{discrepancy.id}"


def note_forms(discrepancies: list[Discrepancy]) -> dict[int, NoteForm]:
    """Return an empty note form for each discrepancy shown."""
    return {d.id: NoteForm(formdata=None, prefix=note_prefix(d)) for d in discrepancies}


@bp.route("/receipts/<number>")
@roles_required(*SUPPORT)
def receipt(number: str):
    receipt = get_receipt_or_404(number)
    handover = receipt.handover
    # Every look at personal data is accounted for: who, when, from where.
    audit.record("receipt.viewed", handover=handover, details={"receipt": receipt.number})
    db.session.commit()
    return receipt_page(receipt, resend_form(receipt, formdata=None))


def resend_form(receipt: Receipt, **kwargs) -> ResendForm:
    return ResendForm(email_on_file=bool(receipt.handover.fact("email")), **kwargs)


def receipt_page(receipt: Receipt, form: ResendForm):
    handover = receipt.handover
    return render_template(
        "support/receipt.html",
        receipt=receipt,
        handover=handover,
        verification=verify_pdf(receipt.pdf),
        readers=other_readers(handover, current_user),
        events=trail(handover),
        note_forms=note_forms(handover.discrepancies),
        messages=messages_of(handover.id),
        resend_form=form,
    )


@bp.route("/receipts/<number>/resend", methods=["POST"])
@roles_required(*SUPPORT)
def resend(number: str):
    receipt = get_receipt_or_404(number)
    form = resend_form(receipt)
    if not form.validate_on_submit():
        return receipt_page(receipt, form), 400
    try:
        send_again(receipt, form.channel(), form.dictated(), agent=current_user,
                   reason=form.reason.data)
    except ResendRefused:
        db.session.rollback()
        flash(_("The receipt could not be sent again: its code could not be read from it. "
                "Tell the engineers."), "error")
        return redirect(url_for("support.receipt", number=receipt.number))
    db.session.commit()
    flash(_("Queued: it goes out within a minute. Its delivery shows below."), "success")
    return redirect(url_for("support.receipt", number=receipt.number, _anchor="messages"))


@bp.route("/receipts/<number>.pdf")
@roles_required(*SUPPORT)
def receipt_pdf(number: str):
    receipt = get_receipt_or_404(number)
    audit.record(
        "receipt.downloaded", handover=receipt.handover,
        details={"receipt": receipt.number, "by": "support"},
    )
    db.session.commit()
    return send_receipt(receipt)


@bp.route("/discrepancies")
@roles_required(*SUPPORT)
def discrepancies():
    per_page = current_app.config["HANDOVERS_PER_PAGE"]
    page = page_number()
    waiting, has_next = open_discrepancies(page, per_page)
    audit.record_reads({d.handover for d in waiting})
    db.session.commit()
    return render_template(
        "support/discrepancies.html",
        discrepancies=waiting,
        page=page,
        has_next=has_next,
        note_forms=note_forms(waiting),
    )


@bp.route("/discrepancies/<row_id:discrepancy_id>", methods=["GET", "POST"])
@roles_required(*SUPPORT)
def discrepancy(discrepancy_id: int):
    discrepancy = db.session.get(Discrepancy, discrepancy_id)
    if discrepancy is None:
        abort(404)
    form = NoteForm(prefix=note_prefix(discrepancy))
    back = safe_next(request.args.get("next"))
    if form.validate_on_submit():
        try:
            work_on(discrepancy, form.chosen_status(), form.note.data, current_user)
        except DiscrepancyRefused:
            db.session.rollback()
            flash(_("This discrepancy is already resolved; nothing was changed."), "error")
            return redirect(url_for("support.discrepancy", discrepancy_id=discrepancy_id))
        db.session.commit()
        flash(_("Saved. The receipt itself stays exactly as signed."), "success")
        return redirect(back)
    code = 400 if form.is_submitted() else 200
    audit.record_reads({discrepancy.handover})
    db.session.commit()
    return render_template(
        "support/discrepancy.html", discrepancy=discrepancy, form=form, back=back
    ), code


@bp.route("/technicians")
@roles_required(*SUPPORT)
def technicians():
    form = PeriodForm(request.args)
    since, until = today() - QUALITY_PERIOD, today()
    if not request.args:
        form.since.data, form.until.data = since, until
    elif form.validate():
        until = form.until.data or until
        since = form.since.data or until - QUALITY_PERIOD
    sort = request.args.get("sort", "discrepancies")
    rows = quality(start_of(since), start_of(until + timedelta(days=1)), sort)
    page = render_template(
        "support/technicians.html", form=form, rows=rows, since=since, until=until,
        sort=sort, watched=WATCHED_ITEMS,
    )
    return page, 400 if form.errors else 200
