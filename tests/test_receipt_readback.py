"""A receipt is read back before it is kept, and stored receipts can be audited: fonts
that vanish under a running renderer (as WeasyPrint's temporary folder did under
gunicorn) must never again produce a signed, stored, unreadable receipt."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import (
    all_yes_answers,
    close_job,
    freeze,
    make_handover,
    press,
    submit_checklist,
)
from tests.tools import needs
from webapp.extensions import db
from webapp.models import Handover, Receipt
from webapp.receipts import readback, render, service
from webapp.receipts.service import read_back

NAME = "Анна Соколова"


class Fonts:
    """This process's renderer, set in copies of the receipt's fonts that a test can
    take away (as WeasyPrint's temporary folder was) and put back."""

    def __init__(self, folder: Path, monkeypatch):
        folder.mkdir()
        allowed = {url: shutil.copy(path, folder / path.name)
                   for url, path in render.static_allow_list().items()}
        monkeypatch.setattr(render, "static_allow_list", lambda: allowed)
        monkeypatch.setattr(render, "_renderers", {})
        monkeypatch.setattr(render, "_health", {})
        render.renderer(10.0)  # the fonts are registered while they exist
        self.saved = {path: path.read_bytes() for path in allowed.values()
                      if path.suffix == ".ttf"}

    def vanish(self) -> None:
        for path in self.saved:
            path.unlink()

    def restore(self) -> None:
        for path, data in self.saved.items():
            path.write_bytes(data)


@pytest.fixture
def fonts(tmp_path, monkeypatch):
    return Fonts(tmp_path / "fonts", monkeypatch)


@pytest.fixture
def signed_job(app, technician):
    """A job the subscriber has signed, waiting for the technician to close it."""
    handover = make_handover(app, technician, subscriber_name=NAME)
    token = freeze(app, handover)
    assert submit_checklist(app.test_client(), token, all_yes_answers()).status_code == 302
    return handover


def closing_message(app, technician, handover) -> str:
    tablet = app.test_client(user=technician)
    return press(tablet, handover, "close", {"typed_name": "Tech"}, follow_redirects=True).text


def stored_state(app, handover) -> tuple[str, int]:
    with app.app_context():
        status = db.session.get(Handover, handover.id).status
        return status, db.session.query(Receipt).filter_by(handover_id=handover.id).count()


@needs("pdftotext")
def test_an_unreadable_receipt_is_not_kept_and_the_job_stays_closable(
    app, technician, signed_job, fonts, caplog, monkeypatch
):
    fonts.vanish()
    page = closing_message(app, technician, signed_job)
    assert "Не удалось сформировать квитанцию" in page
    assert stored_state(app, signed_job) == ("subscriber_signed", 0)
    # The log says what was wrong, never whose receipt it was.
    assert "embedded empty" in caplog.text and "subscriber name not in" in caplog.text
    assert NAME not in caplog.text and "1234567890" not in caplog.text

    client = app.test_client()
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json["checks"]["renderer"] == "broken"

    # Once the renderer works again, readiness says so and the job closes.
    fonts.restore()
    monkeypatch.setattr(service, "RETRY_SECONDS", 0)
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["checks"]["renderer"] == "ok"
    assert "заявка закрыта" in closing_message(app, technician, signed_job).lower()
    assert stored_state(app, signed_job) == ("closed", 1)


def test_a_broken_renderer_is_tried_again_only_now_and_then(app, fonts, monkeypatch):
    fonts.vanish()
    with app.app_context():
        assert service.probe_renderer() is not None
    probes = []
    monkeypatch.setattr(service, "probe_renderer", lambda: probes.append(1))
    client = app.test_client()
    for _ in range(5):
        assert client.get("/readyz").json["checks"]["renderer"] == "broken"
    assert len(probes) == 1  # the first ask retries; the next ones within 10 s do not


@pytest.mark.parametrize(("expected", "problem"), [
    ([("receipt number", "HO-ZZZZ-ZZZZ")], "receipt number not in the extracted text"),
    ([("subscriber name", "Пётр Иванов")], "subscriber name not in the extracted text"),
])
@needs("pdftotext")
def test_the_check_names_what_a_receipt_lacks(app, technician, expected, problem):
    handover = make_handover(app, technician, subscriber_name=NAME)
    pdf = close_job(app, technician, handover, freeze(app, handover))
    assert readback.problems(pdf, [("subscriber name", NAME)]) == []
    assert readback.problems(pdf, expected) == [problem]


@needs("pdftotext")
def test_a_name_in_characters_no_font_has_still_closes(app, technician):
    """Glyphs the fonts lack print as boxes whatever happens; the rest of the name must read."""
    name = "Ли Сяо 李小龍 Ωμέγα"
    handover = make_handover(app, technician, subscriber_name=name)
    pdf = close_job(app, technician, handover, freeze(app, handover))
    assert "Ли Сяо" in readback.extracted_text(pdf)


@needs("pdftotext")
def test_receipts_audit_finds_a_stored_unreadable_receipt_and_passes_good_ones(
    app, technician, runner, fonts, monkeypatch
):
    # What a version without the check stored: signed, hashed, and unreadable.
    fonts.vanish()
    monkeypatch.setattr(service, "read_back", lambda pdf, expected: None)
    bad = make_handover(app, technician, subscriber_name=NAME, order_number="ORD-BAD")
    close_job(app, technician, bad, freeze(app, bad))
    monkeypatch.setattr(service, "read_back", read_back)
    fonts.restore()
    render._renderers.clear()  # a fresh renderer, as after a restart
    good = make_handover(app, technician, subscriber_name=NAME, order_number="ORD-GOOD")
    close_job(app, technician, good, freeze(app, good))
    with app.app_context():
        numbers = {h.order_number: h.receipt.number
                   for h in db.session.scalars(db.select(Handover))}

    result = runner.invoke(args=["receipts", "audit"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[-1] == "Receipts: 2 checked, 1 bad"
    [finding] = lines[:-1]
    assert finding.startswith(f"{numbers['ORD-BAD']}: font ")
    assert "embedded empty" in finding and "subscriber name not in the extracted text" in finding

    since_tomorrow = runner.invoke(args=["receipts", "audit", "--since", "2999-01-01"])
    assert since_tomorrow.exit_code == 0 and since_tomorrow.output == "Receipts: 0 checked, 0 bad\n"


@needs("pdftotext")
def test_receipts_audit_passes_a_database_of_good_receipts(app, technician, runner):
    for order in ("ORD-1", "ORD-2"):
        handover = make_handover(app, technician, subscriber_name=NAME, order_number=order)
        close_job(app, technician, handover, freeze(app, handover))
    result = runner.invoke(args=["receipts", "audit"])
    assert (result.exit_code, result.output) == (0, "Receipts: 2 checked, 0 bad\n")


RENDER_AND_EXIT = """
import os, sys, tempfile
sys.path.insert(0, sys.argv[1])
from webapp.receipts.render import renderer
pdf = renderer(10.0).render("<p>Квитанция</p>")
assert pdf.startswith(b"%PDF")
print(os.listdir(tempfile.gettempdir()))
"""


def test_a_process_that_renders_leaves_no_temporary_folder_and_no_noise(tmp_path):
    """What every test process and server worker does: render, then exit. Nothing of
    the renderer's lies in the temporary folder, where another process could delete it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", RENDER_AND_EXIT, str(Path(__file__).parent.parent)],
        env={"PATH": "/usr/bin:/bin", "TMPDIR": str(folder)}, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n", "the renderer keeps files in the temporary folder"
    assert "Exception ignored" not in done.stderr
    assert list(folder.iterdir()) == []


def test_receipts_audit_reports_stored_bytes_that_are_no_pdf(app, technician, runner):
    import hashlib

    handover = make_handover(app, technician, subscriber_name=NAME)
    junk = b"%PDF-1.7 truncated by a failing disk"
    with app.app_context():
        db.session.add(Receipt(handover_id=handover.id, number="HO-JUNK-2345", code_hash="0" * 64,
                               locale="ru", pdf=junk, sha256=hashlib.sha256(junk).hexdigest()))
        db.session.commit()
    result = runner.invoke(args=["receipts", "audit"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "HO-JUNK-2345: signature check: unreadable; its fonts could not be read (PdfReadError)",
        "Receipts: 1 checked, 1 bad",
    ]
