"""Benchmark: render+sign time of the largest receipt, against a naive WeasyPrint call;
memory growth over many receipts; receipts per second with every core; and the cold
start of a worker, preloaded (forked from a warm master, as gunicorn.conf.py does)
against a fresh process. Run with `make bench` (`--quick` for a smoke run); prints
figures only."""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask import render_template
from flask_babel import force_locale
from flask_migrate import upgrade

from bench.report import Aim, Figure, text_table
from bench.stats import percentile, rss_mb
from webapp import create_app
from webapp.config import TestingConfig
from webapp.extensions import db
from webapp.receipts import readback, render
from webapp.receipts.signing import (
    create_development_certificates,
    load_signer,
    sign_pdf,
)

RUNS, NAIVE_RUNS, MEMORY_RUNS = 100, 25, 300
NUMBERS = {"largest": "HO-BENC-HMRK", "typical": "HO-TYPI-CALR"}


def receipt_html(app, *, largest: bool) -> str:
    """Build a signed handover and return its receipt HTML: the largest the forms allow,
    or a typical one (two discounts, a router, one No)."""
    from webapp.domain.checklist import ANSWERED_ITEMS, Answer
    from webapp.domain.terms import Role
    from webapp.handovers import verification
    from webapp.handovers.service import record_facts
    from webapp.models import Handover
    from webapp.staff import create_staff_user

    if not largest:
        return typical_receipt_html(app)
    technician = create_staff_user(
        login="bench", full_name="Иван Петров" * 10, role=Role.TECHNICIAN,
        password="bench-password-not-secret", employee_id="T" * 32,  # noqa: S106
        contractor="К" * 200,
    )
    handover = Handover(technician=technician)
    db.session.add(handover)
    record_facts(handover, {
        "order_number": "O" * 32, "account_number": "9" * 20, "contract_number": "Д" * 32,
        "contract_pages": 200, "subscriber_name": "Ж" * 200, "phone": "+79123456789",
        "address": "Щ" * 500, "services": ["internet", "tv", "home_phone"],
        "tariff_name": "Т" * 100,
        "monthly_fee": Decimal("999999.99"), "billing_method": "credit", "portal_login": "L" * 64,
        "documents": ["full_contract", "tariff_annex", "discount_agreement", "settings_sheet",
                      "equipment_act"],
    }, [{"description": "Д" * 200, "kind": "amount", "value": Decimal("999999.99"),
         "months": 120, "permanent": False}] * 10,
       [{"kind": "router", "model": "M" * 100, "serial": f"{'S' * 60}{i:04d}", "terms": "rented",
         "monthly_fee": Decimal("1000000")} for i in range(20)])
    db.session.commit()
    verification.freeze(handover, app.config["SECRET_KEY"], app.config["SUBSCRIBER_LINK_TTL"])
    db.session.commit()
    answers = {item: Answer(confirmed=False, comment="Н" * 500) for item in ANSWERED_ITEMS}
    verification.sign_as_subscriber(handover, facts_version=handover.facts_version,
                                    submission_id="b" * 32, answers=answers, drawing=None,
                                    typed_name="Ж" * 200, locale="ru")
    return closing_receipt_html(handover, NUMBERS["largest"])


def typical_receipt_html(app) -> str:
    return closing_receipt_html(typical_signed_handover(app), NUMBERS["typical"])


def closing_receipt_html(handover, number: str) -> str:
    """The HTML of the receipt closing the job renders: the technician countersigns with
    a drawn signature, as in the HTTP closings of bench/pages.py."""
    from tests.conftest import drawn_signature
    from webapp.domain.signature import parse_drawing
    from webapp.handovers.verification import closing_of
    from webapp.receipts.service import receipt_context

    closing = closing_of(handover, parse_drawing(drawn_signature()), None)
    context = receipt_context(handover, number=number, code="ABCDE-FGHJK", closing=closing)
    with force_locale("ru"):
        return render_template("receipts/receipt.html", **context)


def typical_signed_handover(app):
    """Store a typical job (two discounts, a router, one No) signed by its subscriber and
    waiting for the technician to close it; return it."""
    import secrets

    from webapp.domain.checklist import ANSWERED_ITEMS, Answer, DiscountTerms, Item
    from webapp.domain.terms import Role
    from webapp.handovers import verification
    from webapp.handovers.service import record_facts
    from webapp.models import Handover, User

    technician = db.session.scalar(db.select(User).where(User.role == Role.TECHNICIAN))
    handover = Handover(technician=technician)
    db.session.add(handover)
    record_facts(handover, {
        "order_number": "ORD-2026-0001", "account_number": "100200300",
        "contract_number": "Д-77/2026", "contract_pages": 12, "subscriber_name": "Анна Соколова",
        "phone": "+79123456789", "address": "г. Пермь, ул. Ленина, д. 5, кв. 12",
        "services": ["internet", "tv"], "tariff_name": "Домашний 500",
        "monthly_fee": Decimal("650.00"), "billing_method": "credit",
        "portal_login": "lk-100200300",
        "documents": ["full_contract", "settings_sheet"],
    }, [{"description": "Скидка новому абоненту", "kind": "percent", "value": Decimal("20"),
         "months": 6, "permanent": False},
        {"description": "Роутер за 1 ₽", "kind": "amount", "value": Decimal("98"), "months": None,
         "permanent": True}],
       [{"kind": "router", "model": "TP-Link Archer C6", "serial": "TPL-22C6-00017",
         "terms": "rented", "monthly_fee": Decimal("99")}])
    db.session.commit()
    verification.freeze(handover, app.config["SECRET_KEY"], app.config["SUBSCRIBER_LINK_TTL"])
    db.session.commit()
    answers = {item: Answer(confirmed=True) for item in ANSWERED_ITEMS}
    answers[Item.DISCOUNTS] = Answer(False, "Обещали 50% на полгода",
                                     stated_discounts=(DiscountTerms("percent", Decimal(50), 6),))
    verification.sign_as_subscriber(handover, facts_version=handover.facts_version,
                                    submission_id=secrets.token_hex(16), answers=answers,
                                    drawing=None, typed_name="Анна Соколова", locale="ru")
    return handover


def naive(html: str) -> bytes:
    """The baseline: what a first WeasyPrint program does, everything made afresh."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    fetcher = render.make_fetcher()
    css = CSS(url=render.STATIC_BASE + "css/receipt.css", font_config=fonts, url_fetcher=fetcher)
    document = HTML(string=html, base_url=render.STATIC_BASE, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[css], font_config=fonts)


def kept(tuned, html: str, signer, label: str) -> bytes:
    """What a closing does to a receipt before it is kept: render, sign, read back."""
    pdf = sign_pdf(tuned.render(html), signer, reason="bench").pdf
    problems = readback.problems(pdf, [("receipt number", NUMBERS[label])])
    assert not problems, problems
    return pdf


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def fixed_cost(tuned) -> Figure:
    """What reuse can save at most: a one-line document, rendered by the process's
    renderer against the naive call; the rest of a receipt's time is its layout."""
    html = "<!doctype html><html lang=ru><body><p>Квитанция</p></body></html>"
    for _ in range(3):
        tuned.render(html)
        naive(html)
    runs = max(4, RUNS // 5)
    tuned_times = [timed(lambda: tuned.render(html)) for _ in range(runs)]
    naive_times = [timed(lambda: naive(html)) for _ in range(runs)]
    return Figure("Receipt, one line", f"render p50 over {runs} (fixed cost)",
                  statistics.median(tuned_times), "ms", f"naive write_pdf() p50 over {runs}",
                  statistics.median(naive_times))


def measure(label: str, html: str, tuned, signer, memory_runs: int) -> list[Figure]:
    """Render+sign the receipt RUNS times against a naive WeasyPrint call of the same
    HTML (interleaved, so a busy moment of the machine weighs on both alike)."""

    def tuned_receipt() -> bytes:
        return kept(tuned, html, signer, label)

    def naive_render() -> bytes:
        return naive(html)

    for _ in range(5):  # warm-up: imports, first font load, first key use
        tuned_receipt()
        naive_render()

    tuned_times, naive_times = [], []
    for round_ in range(RUNS):
        tuned_times.append(timed(tuned_receipt))
        if round_ % (RUNS // NAIVE_RUNS) == 0:
            naive_times.append(timed(naive_render))
    tuned_p50, naive_p50 = statistics.median(tuned_times), statistics.median(naive_times)
    part = f"Receipt, {label} ({pages(tuned_receipt())} pages)"
    baseline = f"naive write_pdf() p50 over {len(naive_times)}"
    figures = [
        Figure(part, f"render+sign p50 over {RUNS}", tuned_p50, "ms", baseline, naive_p50,
               Aim(0.8, on_ratio=True)),
        Figure(part, f"render+sign p95 over {RUNS}", percentile(tuned_times, 0.95), "ms",
               f"naive write_pdf() p95 over {len(naive_times)}", percentile(naive_times, 0.95)),
    ]
    if memory_runs:
        before = rss_mb()
        for _ in range(memory_runs):
            tuned_receipt()
        figures.append(Figure(part, f"RSS growth over {memory_runs} receipts",
                              rss_mb() - before, "MB", aim=Aim(5)))
    return figures


def all_cores_rate(figures: list[Figure], label: str) -> float:
    """Receipts per second with every core busy, from run()'s figures for that receipt."""
    [per_core] = [f for f in figures if f.part == f"Receipt, {label}" and f.unit == "/s"]
    return per_core.value * (os.cpu_count() or 1)


def throughput(label: str, html: str, p12: str, seconds: float, naive_p50: float) -> Figure:
    """Receipts per second with one forked worker per core, each with its own renderer
    (threads do not survive fork), after one warm-up receipt each."""
    cores = os.cpu_count() or 1
    pipes = []
    for _ in range(cores):
        read, write = os.pipe()
        if os.fork() == 0:  # a worker
            os.close(read)
            tuned, signer = render.Renderer(10.0), load_signer(p12, "bench")
            kept(tuned, html, signer, label)
            count, end = 0, time.perf_counter() + seconds
            while time.perf_counter() < end:
                kept(tuned, html, signer, label)
                count += 1
            os.write(write, str(count).encode())
            os._exit(0)
        os.close(write)
        pipes.append(read)
    made = 0
    for read in pipes:
        made += int(os.read(read, 64) or b"0")
        os.close(read)
        os.wait()
    return Figure(f"Receipt, {label}", f"receipts/s per core, all {cores} cores busy",
                  made / seconds / cores, "/s", "naive render, one core", 1000 / naive_p50,
                  Aim(7, at_most=False))


COLD = """
import sys, time
sys.path.insert(0, sys.argv[1])
from bench.receipts import cold_receipt
cold_receipt(*sys.argv[2:])
"""


def cold_receipt(database: str, p12: str, root: str, html_file: str) -> None:
    """In a fresh process: build the app and produce one receipt (timed from outside)."""
    config = type("Cold", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": database, "RECEIPT_SIGNING_P12": p12,
        "RECEIPT_SIGNING_PASSPHRASE": "bench", "RECEIPT_TRUST_ROOT": root,
    })
    app = create_app(config)
    with app.app_context():
        html = Path(html_file).read_text()
        tuned = render.renderer(app.config["RECEIPT_RENDER_SECONDS"])
        kept(tuned, html, load_signer(p12, "bench"), "largest")


def cold_start(app, html: str, workdir: Path, p12: str, root: str) -> Figure:
    """Process start to first receipt: a worker forked from a master that preloaded the
    app and warmed it (webapp.health.warm_up), against a fresh interpreter."""
    from webapp.health import warm_up

    html_file = workdir / "receipt.html"
    html_file.write_text(html)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", COLD, str(Path(__file__).parent.parent),
                    app.config["SQLALCHEMY_DATABASE_URI"], p12, root, str(html_file)],
                   check=True)
    fresh = time.perf_counter() - start

    warm_up(app)  # as gunicorn's master does before forking
    signer = load_signer(p12, "bench")
    start = time.perf_counter()
    if os.fork() == 0:  # a worker builds its own renderer, as gunicorn.conf.py's do
        tuned = render.renderer(app.config["RECEIPT_RENDER_SECONDS"])
        kept(tuned, html, signer, "largest")
        os._exit(0)
    os.wait()
    forked = time.perf_counter() - start
    return Figure("Cold start", "to the first receipt, worker forked from a preloaded master",
                  forked * 1000, "ms", "fresh process", fresh * 1000)


def pages(pdf: bytes) -> int:
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader

    return int(PdfFileReader(BytesIO(pdf)).root["/Pages"]["/Count"])


def run(quick: bool = False) -> list[Figure]:
    """Measure every receipt figure; `quick` is a smoke run with tiny counts."""
    global RUNS, NAIVE_RUNS, MEMORY_RUNS
    if quick:
        RUNS, NAIVE_RUNS, MEMORY_RUNS = 4, 2, 2
    workdir = Path(tempfile.mkdtemp(prefix="handover-bench-"))
    p12, root = create_development_certificates(workdir, "bench")
    config = type("BenchConfig", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "RECEIPT_SIGNING_P12": str(p12), "RECEIPT_SIGNING_PASSPHRASE": "bench",
        "RECEIPT_TRUST_ROOT": str(root),
    })
    app = create_app(config)
    with app.app_context():
        upgrade()
        tuned = render.renderer(app.config["RECEIPT_RENDER_SECONDS"])
        signer = load_signer(str(p12), "bench")
        figures = [fixed_cost(tuned)]
        for label, largest in (("largest", True), ("typical", False)):
            html = receipt_html(app, largest=largest)
            measured = measure(label, html, tuned, signer, MEMORY_RUNS if largest else 0)
            figures += measured
            figures.append(throughput(label, html, str(p12), 1.0 if quick else 10.0,
                                      measured[0].base))
            if largest:
                figures.append(cold_start(app, html, workdir, str(p12), str(root)))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="Receipt rendering and signing figures.")
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny counts")
    print(text_table(run(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
