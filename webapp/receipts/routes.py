"""The public verification page: anyone holding a receipt can check it."""

from io import BytesIO
from urllib.parse import quote

from flask import abort, current_app, render_template, request, send_file
from flask_babel import force_locale, gettext

from webapp.domain.search import RECEIPT_NUMBER
from webapp.extensions import db
from webapp.models import Receipt
from webapp.receipts import bp
from webapp.receipts.forms import CodeForm, UploadForm
from webapp.receipts.service import public_summary, verify_code, verify_pdf


def get_receipt_or_404(number: str) -> Receipt:
    """Return the receipt with this number (in any case), or 404 (staff pages and API)."""
    number, receipt = number.upper(), None
    if RECEIPT_NUMBER.fullmatch(number):
        receipt = db.session.scalar(db.select(Receipt).where(Receipt.number == number))
    if receipt is None:
        abort(404)
    return receipt


def send_receipt(receipt: Receipt):
    """Send the stored bytes exactly as they were signed (subscriber and staff downloads)."""
    plain = f"receipt-{receipt.number}.pdf"
    response = send_file(
        BytesIO(receipt.pdf), mimetype="application/pdf", as_attachment=True, download_name=plain
    )
    # Browsers save it under a name in the receipt's language (RFC 6266 filename*); a
    # client that reads only `filename` (curl -OJ) keeps the ASCII one, never a bare "-HO-…".
    with force_locale(receipt.locale):
        name = gettext("receipt-%(number)s.pdf", number=receipt.number)
    response.headers.set(
        "Content-Disposition", "attachment", filename=plain,
        **{"filename*": f"UTF-8''{quote(name, safe='!#$&+-.^_`|~')}"},
    )
    return response


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
    return render_template(
        "receipts/verify.html", upload=upload, by_code=by_code, result=result, summary=summary
    )
