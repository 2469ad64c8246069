"""The signed receipt: real WeasyPrint output, real pyHanko signatures, checked by
pyHanko and by poppler's pdfsig, and the public verification of tampered copies."""

import io
import logging
import re
import subprocess
from decimal import Decimal

import pytest

from tests.conftest import (
    all_yes_answers,
    close_job,
    csrf_token,
    freeze,
    make_handover,
    post_form,
    press,
    signing_files,
    submit_checklist,
    valid_form,
)
from tests.tools import needs
from webapp.extensions import db
from webapp.models import AuditEvent, Handover, Receipt
from webapp.receipts import render

EN = {"Accept-Language": "en"}
MARKUP = '<img src="file:///etc/passwd"> url(file:///dev/urandom)'


@pytest.fixture
def job(app, technician):
    handover = make_handover(app, technician, subscriber_name="Анна Соколова")
    return handover, freeze(app, handover)


@pytest.fixture
def receipt_pdf(app, technician, job):
    handover, token = job
    answers = all_yes_answers(discounts="no", discounts_comment="Обещали скидку 50%")
    return close_job(app, technician, handover, token, answers)


def run(*command, data: bytes | None = None) -> str:
    result = subprocess.run(command, input=data, capture_output=True, check=False, timeout=60)
    return (result.stdout + result.stderr).decode()


def pdftotext(pdf: bytes) -> str:
    return run("pdftotext", "-layout", "-", "-", data=pdf)


def pyhanko_status(app, pdf: bytes):
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    (signature,) = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
    context = ValidationContext(
        trust_roots=[load_cert_from_pemder(signing_files()[1])], allow_fetching=False
    )
    return signature, validate_pdf_signature(signature, context)


@needs("pdftotext")
def test_receipt_is_certified_pades_that_pyhanko_trusts(app, receipt_pdf):
    from pyhanko.sign.fields import MDPPerm
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    signature, status = pyhanko_status(app, receipt_pdf)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert status.md_algorithm == "sha256"
    assert signature.docmdp_level == MDPPerm.NO_CHANGES


@needs("pdfsig", "pdftotext")
def test_pdfsig_reports_the_signature_valid_and_covering_the_whole_file(receipt_pdf, tmp_path):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(receipt_pdf)
    report = run("pdfsig", str(path))
    assert "Signature Type: ETSI.CAdES.detached" in report
    assert "Total document signed" in report
    assert "Signature Validation: Signature is Valid." in report


@needs("pdffonts", "pdftotext")
def test_text_is_extractable_in_russian_with_embedded_font_subsets(receipt_pdf, tmp_path):
    text = pdftotext(receipt_pdf)
    assert "Анна Соколова" in text
    assert "1234567890" in text
    assert "Обещали скидку 50%" in text
    assert "Квитанция о подключении" in text
    path = tmp_path / "receipt.pdf"
    path.write_bytes(receipt_pdf)
    fonts = run("pdffonts", str(path)).splitlines()[2:]
    assert fonts and all(re.search(r"\byes\s+yes\s+yes\b", line) for line in fonts)
    assert all("+Receipt-Sans" in line for line in fonts)


@needs("pdftotext")
def test_the_subscribers_email_is_printed_as_it_was_stored(app, technician):
    tech = app.test_client(user=technician)
    form = valid_form(email="Anna.Sokolova@Example.RU")
    assert post_form(tech, "/handovers/new", form).status_code == 302
    with app.app_context():
        handover = db.session.scalar(db.select(Handover))
        db.session.expunge(handover)
    pdf = close_job(app, technician, handover, freeze(app, handover), locale="en")
    text = " ".join(pdftotext(pdf).split())
    assert "Subscriber's e-mail Anna.Sokolova@example.ru" in text


@needs("pdftotext")
def test_receipt_is_in_the_language_the_subscriber_signed_in(app, technician, job):
    handover, token = job
    text = pdftotext(close_job(app, technician, handover, token, locale="en"))
    assert "Installation handover receipt" in text
    assert "Audit trail" in text


@needs("pdftotext")
def test_receipt_holds_every_answer_signature_and_the_audit_trail(app, receipt_pdf):
    text = pdftotext(receipt_pdf)
    with app.app_context():
        receipt = db.session.scalars(db.select(Receipt)).one()
    assert receipt.number in text
    assert re.search(r"[2-9A-Z]{5}-[2-9A-Z]{5}", text)  # the printed verification code
    assert "/verify" in text
    assert "Name of tech" in text and "E-tech" in text
    assert "127.0.0.1" in text  # the audit trail shows where events came from
    flat = " ".join(text.split())
    for step in ("Подписано абонентом", "Заявка закрыта", "Квитанция выдана"):
        assert step in flat  # the trail reaches the closing that produced the receipt
    assert b"/EmbeddedFile" not in receipt_pdf
    answers = re.findall(r"^\s*(Доступ в личный кабинет|Экземпляр договора|Тариф|Скидки"
                         r"|Способ расчётов|Оборудование|Монтажник)\s+(Да|Нет)\b",
                         text, re.MULTILINE)
    assert dict(answers) == {
        "Доступ в личный кабинет": "Да", "Экземпляр договора": "Да", "Тариф": "Да", "Скидки": "Нет",
        "Способ расчётов": "Да", "Оборудование": "Да", "Монтажник": "Да",
    }


@needs("pdftotext")
def test_receipt_is_stored_once_with_its_hash_and_the_subscriber_can_download_it(
    app, technician, job, receipt_pdf
):
    import hashlib

    handover, token = job
    with app.app_context():
        receipt = db.session.scalars(db.select(Receipt)).one()
        assert receipt.sha256 == hashlib.sha256(receipt_pdf).hexdigest()
        assert receipt.handover_id == handover.id
    download = app.test_client().get(f"/s/{token}/receipt.pdf")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf"
    assert download.data == receipt_pdf
    staff = app.test_client(user=technician).get(f"/handovers/{handover.public_id}/receipt.pdf")
    assert staff.data == receipt_pdf
    with app.app_context():
        by = [e.details["by"] for e in db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.event == "receipt.downloaded"))]
    assert by == ["subscriber", "staff"]


@needs("pdftotext")
def test_receipt_downloads_are_refused_to_others(app, other_technician, job, receipt_pdf):
    handover, token = job
    assert app.test_client().get(f"/s/{'x' * 24}/receipt.pdf").status_code == 404
    intruder = app.test_client(user=other_technician)
    assert intruder.get(f"/handovers/{handover.public_id}/receipt.pdf").status_code == 404
    with app.app_context():
        from webapp.db_types import now_utc

        closed = db.session.get(Handover, handover.id)
        closed.closed_at = now_utc() - app.config["SUBSCRIBER_LINK_TTL"]
        db.session.commit()
    assert app.test_client().get(f"/s/{token}/receipt.pdf").status_code == 404


@pytest.mark.parametrize("statement", ["UPDATE receipts SET number = 'HO-XXXX-XXXX'",
                                       "DELETE FROM receipts"])
@needs("pdftotext")
def test_a_stored_receipt_cannot_be_changed(app, receipt_pdf, statement):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    with app.app_context():
        with pytest.raises(DBAPIError, match="never changed"):
            db.session.execute(text(statement))
        db.session.rollback()
        assert db.session.scalars(db.select(Receipt.pdf)).one() == receipt_pdf


@needs("pdftotext")
def test_closing_twice_makes_one_receipt(app, technician, job, receipt_pdf):
    handover, _ = job
    tech = app.test_client(user=technician)
    again = press(tech, handover, "close", {"typed_name": "Tech"},
                  follow_redirects=True, headers=EN)
    assert "can be closed only after the subscriber has signed" in again.text
    with app.app_context():
        assert db.session.query(Receipt).count() == 1


def test_without_a_receipt_the_job_is_not_closed(app, technician, job):
    handover, token = job
    app.config["RECEIPT_SIGNING_P12"] = "/nonexistent/signing.p12"
    submit_checklist(app.test_client(), token, all_yes_answers())
    tech = app.test_client(user=technician)
    response = press(tech, handover, "close", {"typed_name": "Tech"},
                     follow_redirects=True, headers=EN)
    assert "The receipt could not be produced" in response.text
    with app.app_context():
        assert db.session.get(Handover, handover.id).status == "subscriber_signed"
        assert db.session.query(Receipt).count() == 0


# --- Verification ------------------------------------------------------------------------


def upload(client, pdf: bytes, name="receipt.pdf"):
    page = client.get("/verify", headers=EN)
    return client.post(
        "/verify",
        data={"upload-csrf_token": csrf_token(page.text), "upload-check_file": "1",
              "upload-pdf": (io.BytesIO(pdf), name)},
        content_type="multipart/form-data", headers=EN,
    )


@needs("pdftotext")
def test_the_genuine_receipt_is_confirmed_with_personal_data_masked(app, receipt_pdf):
    response = upload(app.test_client(), receipt_pdf)
    assert response.status_code == 200
    assert "Genuine and unmodified" in response.text
    assert "А. С." in response.text
    assert "••••••7890" in response.text and "1234567890" not in response.text
    assert "+7 ••• •••-••-89" in response.text and "345-67" not in response.text
    assert "Анна Соколова" not in response.text
    assert "Home 300" in response.text


def append_incremental_update(pdf: bytes) -> bytes:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    writer.root["/Handover"] = generic.TextStringObject("changed later")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@needs("pdftotext")
def test_an_appended_incremental_update_is_reported_modified(app, receipt_pdf):
    response = upload(app.test_client(), append_incremental_update(receipt_pdf))
    assert "Signed by us, but modified after signing" in response.text
    with app.app_context():
        number = db.session.scalar(db.select(Receipt.number))
    assert number in response.text  # the original it came from is named


@needs("pdftotext", "qpdf")
def test_a_resaved_copy_is_not_genuine(app, receipt_pdf, tmp_path):
    original, resaved = tmp_path / "r.pdf", tmp_path / "resaved.pdf"
    original.write_bytes(receipt_pdf)
    run("qpdf", str(original), str(resaved))
    response = upload(app.test_client(), resaved.read_bytes())
    assert "Signed by us, but modified after signing" in response.text


def test_a_pdf_signed_with_another_certificate_is_not_ours(app, tmp_path):
    from webapp.receipts.signing import create_development_certificates, load_signer, sign_pdf

    other_p12, _ = create_development_certificates(tmp_path, "other")
    from weasyprint import HTML

    forged = sign_pdf(HTML(string="<p>Квитанция</p>").write_pdf(),
                      load_signer(str(other_p12), "other"), reason="forged").pdf
    assert "Signed, but not by us" in upload(app.test_client(), forged).text


@pytest.mark.parametrize(
    ("make", "answer"),
    [
        (lambda pdf: pdf[: len(pdf) // 2], "Not a readable PDF"),
        (lambda pdf: bytes(range(256)) * 40, "Not a readable PDF"),
        (lambda pdf: b"", "Not a readable PDF"),
        (lambda pdf: __import__("weasyprint").HTML(string="<p>x</p>").write_pdf(),
         "Not a receipt of ours"),
    ],
)
@needs("pdftotext")
def test_junk_gets_a_clear_answer(app, receipt_pdf, make, answer):
    response = upload(app.test_client(), make(receipt_pdf))
    assert response.status_code == 200
    assert answer in response.text


@needs("pdftotext", "qpdf")
def test_an_encrypted_pdf_is_not_readable(app, receipt_pdf, tmp_path):
    original, encrypted = tmp_path / "r.pdf", tmp_path / "enc.pdf"
    original.write_bytes(receipt_pdf)
    run("qpdf", "--encrypt", "user", "owner", "256", "--", str(original), str(encrypted))
    assert "Not a readable PDF" in upload(app.test_client(), encrypted.read_bytes()).text


def test_an_upload_over_10_mb_gets_a_friendly_413(app):
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import stream_encode_multipart

    client = app.test_client()
    page = client.get("/verify", headers=EN)
    big = b"%PDF-1.7\n" + b"0" * (11 * 1024 * 1024)
    # Encoded in memory: the test client would spool it to a file it never closes.
    stream, length, boundary = stream_encode_multipart(
        {"upload-csrf_token": csrf_token(page.text), "upload-check_file": "1",
         "upload-pdf": FileStorage(io.BytesIO(big), filename="big.pdf")},
        use_tempfile=False,
    )
    response = client.post(
        "/verify", input_stream=stream, content_length=length,
        content_type=f"multipart/form-data; boundary={boundary}", headers=EN,
    )
    assert response.status_code == 413
    assert "larger than Handover accepts" in response.text


@needs("pdftotext")
def test_number_and_code_check_and_the_qr_link(app, receipt_pdf):
    text = pdftotext(receipt_pdf)
    with app.app_context():
        number = db.session.scalar(db.select(Receipt.number))
    code = re.search(r"[2-9A-Z]{5}-[2-9A-Z]{5}", text).group(0)
    client = app.test_client()
    qr = client.get("/verify", query_string={"number": number, "code": code}, headers=EN)
    assert "Genuine and unmodified" in qr.text
    typed = client.get("/verify", query_string={"number": number.lower().replace("-", " "),
                                                "code": code.lower()}, headers=EN)
    assert "Genuine and unmodified" in typed.text
    wrong = client.get("/verify", query_string={"number": number, "code": "AAAAA-AAAAA"},
                       headers=EN)
    assert "Not a receipt of ours" in wrong.text


@needs("pdftotext")
def test_cli_verifies_a_file(app, runner, receipt_pdf, tmp_path):
    genuine, modified = tmp_path / "genuine.pdf", tmp_path / "modified.pdf"
    genuine.write_bytes(receipt_pdf)
    modified.write_bytes(append_incremental_update(receipt_pdf))
    ok = runner.invoke(args=["receipts", "verify", str(genuine)])
    assert ok.exit_code == 0 and ok.output.startswith("genuine (HO-")
    bad = runner.invoke(args=["receipts", "verify", str(modified)])
    assert bad.exit_code == 1 and "modified after signing" in bad.output


# --- What the renderer may fetch ---------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "http://127.0.0.1:9/x.png", "https://example.org/font.ttf",
     render.STATIC_BASE + "../../etc/passwd", render.STATIC_BASE + "css/app.css",
     "ftp://example.org/x"],
)
def test_the_fetcher_refuses_anything_but_allow_listed_static_files(url, caplog):
    fetcher = render.make_fetcher()
    with caplog.at_level(logging.WARNING), pytest.raises(ValueError):
        fetcher.fetch(url)
    assert "receipt renderer refused" in caplog.text
    assert "passwd" not in caplog.text  # the URL itself is never logged


def test_the_fetcher_serves_its_fonts_and_data_uris():
    fetcher = render.make_fetcher()
    font = fetcher.fetch(render.STATIC_BASE + "fonts/DejaVuSans.ttf")
    assert font.read(4) == b"\x00\x01\x00\x00"
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"


@needs("pdftotext")
def test_markup_and_file_urls_in_every_field_print_literally_and_fetch_nothing(
    app, technician, caplog
):
    fields = {name: f"{name} {MARKUP}" for name in ("subscriber_name", "address", "tariff_name")}
    short = '<img src="file:///x">'  # fits the 32-character columns
    handover = make_handover(
        app, technician, portal_login="<b>x</b>", order_number=short, contract_number=short,
        **fields,
    )
    with app.app_context():
        from webapp.models import Discount, EquipmentItem, User

        db.session.add_all([
            Discount(handover_id=handover.id, source="application", description=MARKUP,
                     kind="percent", value=Decimal("5"), months=1),
            EquipmentItem(handover_id=handover.id, kind="router", model=MARKUP[:100],
                          serial=short, terms="rented", monthly_fee=Decimal("0")),
        ])
        staff = db.session.get(User, technician.id)
        staff.full_name, staff.contractor = f"Tech {MARKUP}", f"Contractor {MARKUP}"
        db.session.commit()
    token = freeze(app, handover)
    answers = all_yes_answers(
        technician="no", technician_comment=MARKUP, signature="", typed_name=MARKUP
    )
    with caplog.at_level(logging.WARNING, logger="webapp.receipts.render"):
        pdf = close_job(app, technician, handover, token, answers)
    text = pdftotext(pdf).replace("\n", " ")
    # name, address, tariff, discount, model, comment, typed signature, technician, contractor
    assert text.count('<img src="file:///etc/passwd">') >= 9
    assert text.count(short) >= 3  # order, contract, serial
    assert "url(file:///dev/urandom)" in text
    assert "<b>x</b>" in text
    assert "refused" not in caplog.text  # nothing even tried to fetch
    assert b"/EmbeddedFile" not in pdf


@needs("pdftotext")
def test_the_largest_handover_renders(app, technician):
    from webapp.domain.checklist import DiscountTerms
    from webapp.handovers.service import record_facts

    long = "Ж" * 200
    handover = make_handover(app, technician, subscriber_name=long, address="Щ" * 500,
                             tariff_name="T" * 100, portal_login="L" * 64)
    with app.app_context():
        stored = db.session.get(Handover, handover.id)
        discounts = [DiscountTerms("amount", Decimal("999999.99"), 120, "D" * 200)] * 10
        equipment = [{"kind": "router", "model": "M" * 100, "serial": f"{'S' * 60}{i:04d}",
                      "terms": "rented", "monthly_fee": Decimal("1000000")} for i in range(20)]
        record_facts(stored, stored.recorded_facts(), discounts, equipment)
        db.session.commit()
    token = freeze(app, handover)
    pdf = close_job(app, technician, handover, token)
    _, status = pyhanko_status(app, pdf)
    assert status.intact and status.valid
    text = re.sub(r"\s+", "", run("pdftotext", "-", "-", data=pdf))
    assert "S" * 60 + "0019" in text  # the last of 20 equipment rows
    assert "Щ" * 500 in text


# --- Timestamps and start-up checks ------------------------------------------------------


@needs("pdftotext")
def test_an_unreachable_timestamp_authority_still_gives_a_receipt(app, technician, job):
    handover, token = job
    app.config["RECEIPT_TSA_URL"] = "http://127.0.0.1:9/tsa"  # nothing listens there
    pdf = close_job(app, technician, handover, token)
    with app.app_context():
        receipt = db.session.scalars(db.select(Receipt)).one()
        assert receipt.timestamped is False
        assert receipt.timestamp_problem
    assert pyhanko_status(app, pdf)[1].intact


@needs("pdftotext")
def test_a_local_timestamper_makes_a_b_t_receipt(app, technician, job, tmp_path):
    handover, token = job
    app.config["RECEIPT_TIMESTAMPER"] = local_timestamper(tmp_path)
    pdf = close_job(app, technician, handover, token)
    with app.app_context():
        assert db.session.scalars(db.select(Receipt.timestamped)).one() is True
    _, status = pyhanko_status(app, pdf)
    assert status.timestamp_validity is not None and status.timestamp_validity.intact


def local_timestamper(directory):
    """A timestamp authority in process: pyHanko's test stamper with its own certificate."""
    import datetime

    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    from pyhanko.sign.timestamps import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())),
    )


def test_harfbuzz_subsetting_is_available():
    assert render.harfbuzz_subsetting_available()


def test_start_up_warns_when_harfbuzz_subsetting_is_missing(monkeypatch, caplog, sqlite_template):
    from tests.conftest import make_app

    monkeypatch.setattr(render, "harfbuzz_subsetting_available", lambda: False)
    with caplog.at_level(logging.WARNING):
        make_app(f"sqlite:///{sqlite_template}")
    assert "libharfbuzz-subset0" in caplog.text


@needs("pdftotext")
def test_the_subscriber_page_offers_the_receipt_once_the_job_is_closed(
    app, technician, job
):
    handover, token = job
    subscriber = app.test_client()
    submit_checklist(subscriber, token, all_yes_answers(), headers=EN)
    waiting = subscriber.get(f"/s/{token}", headers=EN).text
    assert 'http-equiv="refresh"' in waiting and "receipt.pdf" not in waiting

    tech = app.test_client(user=technician)
    press(tech, handover, "close", {"typed_name": "Tech"})
    ready = subscriber.get(f"/s/{token}", headers=EN).text
    assert f'href="/s/{token}/receipt.pdf"' in ready and 'http-equiv="refresh"' not in ready
    staff_page = tech.get(f"/handovers/{handover.public_id}", headers=EN).text
    assert f"/handovers/{handover.public_id}/receipt.pdf" in staff_page



@needs("pdftotext")
def test_a_genuine_receipt_stays_genuine_after_its_certificate_expires(app, receipt_pdf):
    import datetime

    from pyhanko_certvalidator import ValidationContext

    from webapp.receipts import service

    # Validation that does not say when to validate at happens 3,000 days from now,
    # long after the 825-day signing certificate has expired.
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=3000)
    original = ValidationContext.__init__

    def years_later(self, *args, moment=None, **kwargs):
        original(self, *args, moment=moment or later, **kwargs)

    ValidationContext.__init__ = years_later
    try:
        with app.app_context():
            assert service.verify_pdf(receipt_pdf).verdict == service.Verdict.GENUINE
    finally:
        ValidationContext.__init__ = original


def test_a_render_over_budget_fails_loudly_and_the_next_one_works(monkeypatch):
    import time

    slow = render.Renderer(budget_seconds=0.5)
    real_render = slow._render
    monkeypatch.setattr(slow, "_render", lambda html: time.sleep(2) or b"late")
    with pytest.raises(render.RenderError):
        slow.render("<p>x</p>")
    monkeypatch.setattr(slow, "_render", real_render)
    assert slow.render("<p>next</p>").startswith(b"%PDF")


@needs("pdftotext")
def test_the_subscriber_can_download_after_a_late_close(app, technician, job):
    handover, token = job
    from webapp.db_types import now_utc

    submit_checklist(app.test_client(), token, all_yes_answers())
    with app.app_context():
        db.session.get(Handover, handover.id).link_expires_at = now_utc()  # the link ran out
        db.session.commit()
    tech = app.test_client(user=technician)
    press(tech, handover, "close", {"typed_name": "Tech"})
    assert app.test_client().get(f"/s/{token}/receipt.pdf").status_code == 200


def test_the_receipts_qr_code_leads_on_to_the_receipt_itself(app, technician):
    """The QR code printed on the receipt opens /verify with its number and code; from
    there the same number and code open the receipt's terms and PDF."""
    from tests.conftest import close_job, csrf_token, freeze, make_handover
    from webapp.receipts.readback import extracted_text
    from webapp.receipts.service import CODE_PATTERN

    handover = make_handover(app, technician)
    pdf = close_job(app, technician, handover, freeze(app, handover))
    with app.app_context():
        number = db.session.scalar(db.select(Receipt.number))
    code = CODE_PATTERN.findall(extracted_text(pdf))[0]
    browser = app.test_client()
    verified = browser.get("/verify", query_string={"number": number, "code": code},
                           headers={"Accept-Language": "en"})
    assert "Open the receipt" in verified.text
    opened = browser.post("/r", data={"csrf_token": csrf_token(verified.text),
                                      "number": number, "code": code})
    assert opened.status_code == 302
    assert browser.get(f"/r/{number}/receipt.pdf").data == pdf
