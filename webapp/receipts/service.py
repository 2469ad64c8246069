"""Receipts: render, sign, store and verify. Routes and the CLI call only this module.

What can stop a receipt from being produced is a ReceiptError (webapp.receipts.errors):
RenderError, SigningError or UnreadableReceipt.

A receipt is issued in the same transaction that closes the handover, once both
signatures exist; its bytes and SHA-256 are stored and never changed.
"""

from __future__ import annotations

import hmac
import logging
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from cryptography import x509
from flask import current_app, has_request_context, render_template, request
from flask_babel import force_locale, gettext
from sqlalchemy.orm import undefer

from webapp import audit
from webapp.domain.digest import sha256_hex
from webapp.domain.privacy import initials, last_digits
from webapp.domain.terms import DiscountSource
from webapp.extensions import db
from webapp.models import AuditEvent, Handover, Receipt, Signature, Signer
from webapp.receipts import readback, render
from webapp.receipts.errors import ReceiptError
from webapp.receipts.render import RenderError
from webapp.receipts.signing import Signed, load_root, load_signer, sign_pdf
from webapp.receipts.trail import audit_rows
from webapp.templating import masked_phone, qr_svg, signature_values

log = logging.getLogger(__name__)


class UnreadableReceipt(ReceiptError):
    """The signed receipt did not read back (empty fonts, missing text): not kept."""


# No 0/O, 1/I/L or U: easy to read aloud and to type from paper.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def new_number() -> str:
    """Return a receipt number like HO-7K4M-9QX2: random, so not guessable in sequence."""
    return f"HO-{_random(4)}-{_random(4)}"


def new_code() -> str:
    return f"{_random(5)}-{_random(5)}"


CODE_PATTERN = re.compile(rf"\b[{ALPHABET}]{{5}}-[{ALPHABET}]{{5}}\b")


def printed_code(receipt: Receipt) -> str | None:
    """Return the verification code printed on a stored receipt (only its hash is kept
    in the database), read from the receipt's own text; None if it cannot be read."""
    try:
        text = readback.extracted_text(receipt.pdf)
    except readback.ReadbackError:
        return None
    return next((code for code in CODE_PATTERN.findall(text)
                 if hmac.compare_digest(code_hash(code), receipt.code_hash)), None)


def normalise_code(text: str) -> str:
    """Read a number or code as typed: any case, spaces or missing dashes."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def verify_page() -> str:
    """Return the public address of /verify that receipts print."""
    base = current_app.config["PUBLIC_URL"] or (
        request.host_url if has_request_context() else "http://localhost:5000/"
    )
    return f"{base.rstrip('/')}/verify"


def verify_url(number: str, code: str) -> str:
    return f"{verify_page()}?{urlencode({'number': number, 'code': code})}"


@dataclass
class Closing:
    """What closing a job adds, known before anything is written: the receipt is
    rendered and signed first, and only then stored with the closing itself, so
    the database is never held locked while a receipt renders."""

    closed_at: datetime
    countersignature: Signature
    events: list[AuditEvent]  # unsaved; prepare_receipt adds "receipt.issued"


def prepare_receipt(handover: Handover, closing: Closing) -> Receipt:
    """Render and sign the receipt of a job about to close; return it unsaved.

    The steps, each callable on its own (the benchmark times them): receipt_context,
    receipt_html, checked_render, sign_receipt, read_back, receipt_row.
    Raises ReceiptError if it cannot be produced, and then nothing may be closed.
    """
    number, code = new_number(), new_code()
    locale = handover.subscriber_locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    closing.events.append(
        audit.event("receipt.issued", handover=handover, details={"number": number})
    )
    with db.session.no_autoflush:
        context = receipt_context(handover, number=number, code=code, closing=closing)
        page = receipt_html(context, locale)
    signed = sign_receipt(checked_render(page.html), page.reason)
    read_back(signed.pdf, expected_text(handover, number))
    return receipt_row(
        handover, number=number, code=code, locale=locale, signed=signed,
        issued_at=closing.closed_at,
    )


@dataclass(frozen=True)
class ReceiptHtml:
    """A receipt ready to render: its HTML, and the reason its signature gives (PDF
    readers show it beside the receipt), both in the receipt's language."""

    html: str
    reason: str


def receipt_html(context: dict[str, Any], locale: str) -> ReceiptHtml:
    """Render the print template from receipt_context's values, in the locale."""
    with force_locale(locale):
        return ReceiptHtml(
            html=render_template("receipts/receipt.html", **context),
            reason=" ".join((gettext("Handover receipt"), context["number"])),
        )


def sign_receipt(pdf: bytes, reason: str) -> Signed:
    """Certify the rendered receipt with the app's signing certificate (loaded once per
    process), timestamped when a timestamp authority is configured and answers."""
    config = current_app.config
    signer = load_signer(config["RECEIPT_SIGNING_P12"], config["RECEIPT_SIGNING_PASSPHRASE"])
    return sign_pdf(
        pdf, signer, reason=reason, tsa_url=config["RECEIPT_TSA_URL"],
        timestamper=config.get("RECEIPT_TIMESTAMPER"),
    )


def receipt_row(
    handover: Handover, *, number: str, code: str, locale: str, signed: Signed,
    issued_at: datetime,
) -> Receipt:
    """Return the unsaved row that keeps the signed receipt: its bytes and their SHA-256,
    and only a hash of its verification code."""
    return Receipt(
        handover_id=handover.id, number=number, code_hash=code_hash(code),
        locale=locale, pdf=signed.pdf, sha256=sha256_hex(signed.pdf),
        issued_at=issued_at, timestamped=signed.timestamped,
        timestamp_problem=signed.timestamp_problem,
    )


def code_hash(code: str) -> str:
    """What is stored of a verification code, however it was typed."""
    return sha256_hex(normalise_code(code))


def checked_render(html: str) -> bytes:
    """Render receipt HTML with this process's renderer; a renderer that fails is
    reported broken (and replaced) so /readyz says so."""
    seconds = current_app.config["RECEIPT_RENDER_SECONDS"]
    try:
        return render.renderer(seconds).render(html)
    except RenderError as error:
        render.report_broken(seconds, str(error))
        raise


def expected_text(handover: Handover, number: str) -> list[tuple[str, str]]:
    """What a receipt must show as text to be worth keeping: (what, value) pairs."""
    return [
        ("receipt number", number),
        ("account number", handover.account_number),
        ("subscriber name", handover.subscriber_name),
    ]


def read_back(pdf: bytes, expected: list[tuple[str, str]]) -> None:
    """Read the signed receipt back before it is kept; raise UnreadableReceipt if its
    fonts are empty or its text lacks what it must show."""
    try:
        problems = readback.problems(pdf, expected)
    except readback.ReadbackError as error:
        problems = [str(error)]
    if problems:
        # What is missing, never the values: they are personal data.
        log.error("receipt failed its read-back check: %s", "; ".join(problems))
        render.report_broken(current_app.config["RECEIPT_RENDER_SECONDS"], problems[0])
        raise UnreadableReceipt("; ".join(problems))
    render.report_working()


def receipt_problems(receipt: Receipt) -> list[str]:
    """Re-check a stored receipt: its bytes against their SHA-256, its signature, and
    that it reads back (fonts with glyphs, its number, account and name as text)."""
    problems = []
    if sha256_hex(receipt.pdf) != receipt.sha256:
        problems.append("the stored bytes do not match their SHA-256")
    verdict = verify_pdf(receipt.pdf).verdict
    if verdict is not Verdict.GENUINE:
        problems.append(f"signature check: {verdict}")
    try:
        problems += readback.problems(receipt.pdf, expected_text(receipt.handover, receipt.number))
    except readback.ReadbackError as error:
        problems.append(str(error))
    return problems


def stored_receipts(since: datetime | None = None) -> Iterator[Receipt]:
    """Yield every stored receipt (issued on or after `since`), oldest first, a few at a
    time so that millions fit in memory."""
    query = sa.select(Receipt).options(undefer(Receipt.pdf)).order_by(Receipt.id)
    if since is not None:
        query = query.where(Receipt.issued_at >= since)
    for receipt in db.session.scalars(query.execution_options(yield_per=50)):
        yield receipt
        db.session.expunge(receipt.handover)
        db.session.expunge(receipt)


# A document in the receipt's fonts, regular and bold, Cyrillic and Latin: what the
# renderer must get right before /readyz calls it working again.
PROBE_TEXT = ("Проверка шрифтов квитанции", "Receipt font check")
PROBE_HTML = (
    '<!doctype html><html lang="ru"><body><p>{}</p><p><strong>{}</strong></p></body></html>'
).format(*PROBE_TEXT)
RETRY_SECONDS = 10.0


def probe_renderer() -> str | None:
    """Render and read back a small document; return the problem, or None if it reads."""
    try:
        read_back(checked_render(PROBE_HTML), [("probe text", text) for text in PROBE_TEXT])
    except (RenderError, UnreadableReceipt) as error:
        return str(error)
    return None


def renderer_status() -> str:
    """Return "ok", or "broken" while this process's receipts come out unreadable; a
    broken renderer is tried afresh at most every RETRY_SECONDS, so it recovers."""
    health = render.health()
    if health.problem is not None and time.monotonic() - health.retried_at >= RETRY_SECONDS:
        health.retried_at = time.monotonic()
        probe_renderer()
    return "ok" if render.health().problem is None else "broken"


def receipt_context(
    handover: Handover, *, number: str, code: str, closing: Closing
) -> dict[str, Any]:
    """Return everything the print template shows, as plain values (no models)."""
    url = verify_url(number, code)
    return {
        "number": number,
        "code": code,
        "verify_page": verify_page(),
        "qr": qr_svg(url),
        "issued_at": closing.closed_at,
        "facts": handover.recorded_facts(),
        "signed_at": handover.subscriber_signed_at,
        "closed_at": closing.closed_at,
        "discounts": [(d.source, d.as_terms()) for d in handover.discounts],
        "equipment": [e.as_row() for e in handover.equipment],
        "technician": dict(handover.technician_identity),
        "answers": [
            {"item": a.item, "confirmed": a.confirmed, "comment": a.comment}
            for a in handover.answers
        ],
        "discrepancies": [
            {"item": d.item, "source": d.source, "recorded": d.recorded, "stated": d.stated}
            for d in handover.discrepancies
        ],
        "subscriber_signature": signature_values(handover.signature_of(Signer.SUBSCRIBER)),
        "technician_signature": signature_values(closing.countersignature),
        # Bounded however many events a flood of link opens adds (webapp/domain/trail.py).
        "audit": audit_rows(handover.id, closing.events),
    }


class Verdict(StrEnum):
    GENUINE = "genuine"  # ours, unmodified, stored
    MODIFIED = "modified"  # signed by us, changed after signing
    NOT_OURS = "not_ours"  # signed, but not with our certificate
    UNKNOWN = "unknown"  # not a receipt we issued (unsigned, or not on record)
    UNREADABLE = "unreadable"  # not a PDF we can read


@dataclass(frozen=True)
class Verification:
    verdict: Verdict
    receipt: Receipt | None = None


@cache
def _root(path: str, modified: float) -> x509.Certificate:
    return load_root(path)


def our_root() -> x509.Certificate:
    """Return our root certificate, read once per process (again if the file changes)."""
    path = current_app.config["RECEIPT_TRUST_ROOT"]
    return _root(path, Path(path).stat().st_mtime)


@cache
def _as_asn1(root: x509.Certificate):
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return asn1_x509.Certificate.load(root.public_bytes(Encoding.DER))


MAX_CHAIN = 4


def _issued_by_us(signature) -> bool:
    """Tell whether the signer's certificate chains to our root, through any
    intermediates embedded in the signature. Checked apart from the document's
    integrity, so a tampered receipt of ours is still recognised as ours."""
    try:
        root = our_root()
        current = x509.load_der_x509_certificate(signature.signer_cert.dump())
        others = [x509.load_der_x509_certificate(c.dump()) for c in signature.other_embedded_certs]
        for _ in range(MAX_CHAIN):
            if current.issuer == root.subject:
                current.verify_directly_issued_by(root)
                return True
            issuer = next(c for c in others if c.subject == current.issuer)
            current.verify_directly_issued_by(issuer)
            others.remove(issuer)
            current = issuer
    except Exception:  # any parse, lookup or signature failure means: not ours
        return False
    return False


def _by_hash(data: bytes) -> Receipt | None:
    return db.session.scalar(sa.select(Receipt).where(Receipt.sha256 == sha256_hex(data)))


def verify_pdf(data: bytes) -> Verification:
    """Say whether the bytes are a genuine, unmodified receipt of ours."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        if reader.encrypted:
            return Verification(Verdict.UNREADABLE)
        signatures = reader.embedded_signatures
    except Exception:  # junk, truncated or malformed input: a clear answer, not a 500
        return Verification(Verdict.UNREADABLE)
    if not signatures:
        return Verification(Verdict.UNKNOWN)
    signature = signatures[0]
    if not _issued_by_us(signature):
        return Verification(Verdict.NOT_OURS)
    stored = _by_hash(data)
    # Judged as of signing: a receipt stays genuine after its certificate expires.
    moment = stored.issued_at if stored else signature.self_reported_timestamp
    if stored is not None and _intact_and_complete(signature, moment):
        return Verification(Verdict.GENUINE, stored)
    # Signed by us but not this exact file: find the original from the signed part.
    start, length = signature.byte_range[2], signature.byte_range[3]
    original = _by_hash(data[: start + length])
    if original is None and stored is None and _intact_and_complete(signature, moment):
        return Verification(Verdict.UNKNOWN)
    return Verification(Verdict.MODIFIED, original or stored)


def _intact_and_complete(signature, moment) -> bool:
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    context = ValidationContext(
        trust_roots=[_as_asn1(our_root())],
        allow_fetching=False,
        moment=moment,
    )
    try:
        status = validate_pdf_signature(signature, context)
    except Exception:  # a signature that cannot even be evaluated is not intact
        return False
    return bool(
        status.intact and status.valid and status.trusted
        and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    )


def verify_code(number: str, code: str) -> Verification:
    """Look a receipt up by its number and printed verification code."""
    wanted = normalise_code(number)
    receipt = db.session.scalar(
        sa.select(Receipt).where(Receipt.number == f"HO-{wanted[2:6]}-{wanted[6:10]}")
    ) if len(wanted) == 10 and wanted.startswith("HO") else None
    if receipt and hmac.compare_digest(receipt.code_hash, code_hash(code)):
        return Verification(Verdict.GENUINE, receipt)
    return Verification(Verdict.UNKNOWN)


def public_summary(receipt: Receipt) -> dict[str, Any]:
    """Return the key terms anyone holding the receipt may see, personal data masked."""
    handover = receipt.handover
    return {
        "number": receipt.number,
        "issued_at": receipt.issued_at,
        "subscriber": initials(handover.subscriber_name),
        "account_number": last_digits(handover.account_number, 4),
        "phone": masked_phone(handover.phone, 2),
        "tariff_name": handover.tariff_name,
        "monthly_fee": handover.monthly_fee,
        "billing_method": handover.billing_method,
        "discounts": [d.as_terms() for d in handover.discounts_from(DiscountSource.APPLICATION)],
        "discrepancies": len(handover.discrepancies),
    }
