"""Finding a stored receipt by its number and sending its bytes: what the subscriber's,
the technician's, support's and the API's downloads share, below every blueprint."""

from io import BytesIO
from urllib.parse import quote

import sqlalchemy as sa
from flask import abort, send_file
from flask_babel import force_locale, gettext

from webapp.domain.search import RECEIPT_NUMBER
from webapp.extensions import db
from webapp.models import Receipt


def get_receipt_or_404(number: str) -> Receipt:
    """Return the receipt with this number (in any case), or 404 (staff pages and API)."""
    number, receipt = number.upper(), None
    if RECEIPT_NUMBER.fullmatch(number):
        receipt = db.session.scalar(sa.select(Receipt).where(Receipt.number == number))
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
