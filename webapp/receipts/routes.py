"""The public receipt pages: anyone holding a receipt can check it (/verify), and its
subscriber can open it by its number and code on any device (/r)."""

import math
import time

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
from flask_babel import gettext as _
from werkzeug.exceptions import TooManyRequests

from webapp import audit, limits
from webapp.domain.text import has_control_characters
from webapp.extensions import db
from webapp.models import Receipt
from webapp.receipts.access import canonical_code, canonical_number, check_code, receipt_by_number
from webapp.receipts.downloads import send_receipt
from webapp.receipts.forms import NUMBER_LIMIT, AccessForm, CodeForm, UploadForm
from webapp.receipts.service import Verdict, public_summary, verify_code, verify_pdf
from webapp.routing import keep_private

bp = Blueprint("receipts", __name__)

# The receipts this browser gave the right code for: number -> until when (epoch seconds).
# The session cookie is signed, so the browser cannot extend or add to them.
OPENED_KEY = "receipts_opened"
OPEN_FOR_SECONDS = 3600
OPENED_KEPT = 5
PRIVATE_ENDPOINTS = frozenset({"receipts.access", "receipts.access_pdf"})


@bp.after_request
def private_pages(response):
    """Keep the receipt's pages out of caches and referrers."""
    # These pages show the subscriber's own data and carry the receipt's number in the
    # path: never cached, never sent onwards as a referrer.
    return keep_private(response) if request.endpoint in PRIVATE_ENDPOINTS else response


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    # Uploads may be larger than the app's usual request limit, up to their own.
    request.max_content_length = current_app.config["VERIFY_UPLOAD_LIMIT"]
    upload, by_code = UploadForm(prefix="upload"), CodeForm(prefix="code")
    result = None
    if request.method == "GET" and request.args.get("number") and request.args.get("code"):
        # The QR code on a receipt leads here with its number and code filled in.
        by_code = CodeForm(formdata=request.args, prefix="", meta={"csrf": False})
        if by_code.validate():
            result = verify_code(by_code.number.data, by_code.code.data)
    elif upload.check_file.data and upload.validate_on_submit():
        result = verify_pdf(upload.pdf.data.read())
    elif by_code.check_code.data and by_code.validate_on_submit():
        result = verify_code(by_code.number.data, by_code.code.data)
    summary = public_summary(result.receipt) if result and result.receipt else None
    # Whoever holds the number and code (the QR code leads here) may open the receipt
    # itself: the same door as the SMS link, with its limits and its audit.
    opens = None
    if result and result.verdict is Verdict.GENUINE and by_code.code.data:
        opens = AccessForm(formdata=None, number=result.receipt.number, code=by_code.code.data)
    return render_template(
        "receipts/verify.html", upload=upload, by_code=by_code, result=result, summary=summary,
        opens=opens,
    )


# Both addresses take both methods: url_for("receipts.access", number=...) then gives
# /r/<number> even while a POST is being answered (the SMS is sent as a job closes).
@bp.route("/r", methods=["GET", "POST"])
@bp.route("/r/<number>", methods=["GET", "POST"])
def access(number: str | None = None):
    """Open a receipt by its number and code; the SMS link fills the number in."""
    if request.method == "GET":
        wanted = canonical_number(number) if number is not None else None
        if wanted is not None and opened_here(wanted):
            return show_opened(wanted)
        form = AccessForm(formdata=None, number=prefilled(number) if number else None)
        return access_page(form)

    form = AccessForm()  # a POST reads the number from the form, wherever it was sent
    if not form.validate_on_submit():
        refused({"reason": "invalid", "fields": sorted(form.errors)})
        return access_page(form), 400
    wanted, code = canonical_number(form.number.data), canonical_code(form.code.data)
    wait = limits.receipt_code_attempt(wanted)
    if wait:
        # The same answer whether or not the number exists; nothing is looked up.
        refused({"reason": "locked"})
        form.code.errors.append(_(
            "Too many wrong codes for this receipt number. Try again in %(minutes)d minutes.",
            minutes=math.ceil(wait / 60),
        ))
        return access_page(form), 429, {"Retry-After": str(wait)}
    check = check_code(wanted, code)
    if not check.right:
        # One message for an unknown number and a wrong code, so it tells neither.
        refused({"reason": "no_match"}, check.receipt)
        form.code.errors.append(_(
            "No receipt has this number and code. Check both against the SMS or the receipt."
        ))
        return access_page(form)
    limits.receipt_code_right(wanted)
    remember_opened(wanted)
    # The receipt is shown by a GET, so reloading it never sends the code again.
    return redirect(url_for("receipts.access", number=wanted))


@bp.route("/r/<number>/receipt.pdf")
def access_pdf(number: str):
    """Send the stored receipt to a browser that gave its code within the hour."""
    wanted = canonical_number(number)
    if wanted is None or not opened_here(wanted):
        abort(404)
    receipt = opened_receipt(wanted)
    audit.record("receipt.downloaded", handover=receipt.handover, details={"by": "code"})
    db.session.commit()
    return send_receipt(receipt)


def access_page(form: AccessForm) -> str:
    """Render the form for the number and code."""
    return render_template("receipts/access.html", form=form)


def prefilled(number: str) -> str:
    """Return the link's number as the form shows it: as stored, or as it came if typable."""
    # A link cut short in the SMS still shows what arrived, for the person to correct.
    wanted = canonical_number(number)
    if wanted is not None:
        return wanted
    return number if len(number) <= NUMBER_LIMIT and not has_control_characters(number) else ""


def refused(details: dict, receipt: Receipt | None = None) -> None:
    """Audit a refused attempt, with its reason and never what was typed."""
    handover = receipt.handover if receipt is not None else None
    audit.record("receipt.code_refused", handover=handover, details=details)
    db.session.commit()


def remember_opened(number: str) -> None:
    """Let this browser open the receipt for OPEN_FOR_SECONDS (the last few receipts)."""
    now = int(time.time())
    kept = {n: until for n, until in _opened().items() if until > now and n != number}
    kept[number] = now + OPEN_FOR_SECONDS
    session[OPENED_KEY] = dict(sorted(kept.items(), key=lambda item: item[1])[-OPENED_KEPT:])


def _opened() -> dict:
    opened = session.get(OPENED_KEY)
    return opened if isinstance(opened, dict) else {}


def opened_here(number: str) -> bool:
    """Tell whether this browser gave the receipt's right code within OPEN_FOR_SECONDS."""
    return _opened().get(number, 0) > time.time()


def opened_receipt(number: str) -> Receipt:
    """Count an opening of the receipt; return it, or refuse with 429 (or 404)."""
    wait = limits.receipt_opened(number)
    if wait:
        raise TooManyRequests(retry_after=wait)
    receipt = receipt_by_number(number)
    if receipt is None:  # only a receipt that exists is ever remembered, and none is removed
        abort(404)
    return receipt


def show_opened(number: str):
    """Show the subscriber their receipt: its terms, discrepancies and the PDF button."""
    receipt = opened_receipt(number)
    handover = receipt.handover
    audit.record("receipt.opened_by_code", handover=handover, details={"receipt": receipt.number})
    db.session.commit()
    return render_template(
        "receipts/opened.html", receipt=receipt, handover=handover, facts=handover.as_facts(),
        open_for_minutes=OPEN_FOR_SECONDS // 60,
    )
