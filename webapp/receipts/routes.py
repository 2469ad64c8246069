"""The public verification page: anyone holding a receipt can check it."""

from flask import Blueprint, current_app, render_template, request

from webapp.receipts.forms import CodeForm, UploadForm
from webapp.receipts.service import public_summary, verify_code, verify_pdf

bp = Blueprint("receipts", __name__)


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
