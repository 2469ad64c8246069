"""Benchmark: render+sign time of the largest receipt, against a naive WeasyPrint call;
memory growth over many receipts; receipts per second with every core; and the cold
start of a worker, preloaded (forked from a warm master, as gunicorn.conf.py does)
against a fresh process. Run with `make bench` (`--quick` for a smoke run); prints
figures only.

A receipt is timed as a closing makes it, by webapp.receipts.service's own steps:
receipt_html, then checked_render, sign_receipt and read_back."""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade

from bench.apps import bench_app
from bench.client import drawn_signature
from bench.report import Aim, Figure, text_table
from bench.stats import percentile, rss_mb
from webapp.extensions import db
from webapp.receipts import render
from webapp.receipts.service import (
    ReceiptHtml,
    checked_render,
    expected_text,
    read_back,
    receipt_context,
    receipt_html,
    sign_receipt,
)

RUNS, NAIVE_RUNS, MEMORY_RUNS = 100, 25, 300
NUMBERS = {"largest": "HO-BENC-HMRK", "typical": "HO-TYPI-CALR"}


@dataclass(frozen=True)
class Prepared:
    """A receipt as a closing has it before rendering: its HTML and signature reason
    (receipt_html), and what it must read back as (expected_text)."""

    page: ReceiptHtml
    expected: list[tuple[str, str]]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps({"page": asdict(self.page), "expected": self.expected}))

    @classmethod
    def load(cls, path: Path) -> Prepared:
        saved = json.loads(path.read_text())
        return cls(ReceiptHtml(**saved["page"]), [tuple(pair) for pair in saved["expected"]])


def widest(fact):
    """Return the largest value the form takes for a fact: every character its limit
    allows (of its example's first, where a pattern restricts them), every choice."""
    from webapp.domain.facts import Kind

    if fact.kind is Kind.CHOICES:
        return [term.value for term in fact.vocabulary]
    if fact.kind is Kind.WHOLE:
        return fact.maximum
    if fact.kind is Kind.MONEY:
        return fact.maximum - Decimal("0.01") if fact.maximum else Decimal("999999.99")
    if fact.kind is Kind.TEXT and fact.max_length:
        return (str(fact.example)[0] if fact.pattern else "Ж") * fact.max_length
    return fact.example


def prepared(app, *, largest: bool) -> Prepared:
    """Build a signed handover and return its receipt, ready to render: the largest the
    forms allow, or a typical one (two discounts, a router, one No)."""
    from webapp.domain.checklist import Answer, DiscountTerms
    from webapp.domain.declared import FACTS, items_for
    from webapp.domain.facts import MAX_DISCOUNTS, MAX_EQUIPMENT
    from webapp.domain.terms import Role
    from webapp.handovers import workflow
    from webapp.handovers.service import record_facts
    from webapp.models import Handover
    from webapp.staff import create_staff_user

    if not largest:
        return typical_receipt(app)
    technician = create_staff_user(
        login="bench", full_name="Иван Петров" * 10, role=Role.TECHNICIAN,
        password="bench-password-not-secret", employee_id="T" * 32,  # noqa: S106
        contractor="К" * 200,
    )
    handover = Handover(technician=technician)
    db.session.add(handover)
    discount = DiscountTerms("amount", Decimal("999999.99"), 120, "Д" * 200)
    equipment = [{"kind": "router", "model": "M" * 100, "serial": f"{'S' * 60}{i:04d}",
                  "terms": "rented", "monthly_fee": Decimal("1000000")}
                 for i in range(MAX_EQUIPMENT)]
    record_facts(handover, {fact.name: widest(fact) for fact in FACTS},
                 [discount] * MAX_DISCOUNTS, equipment)
    db.session.commit()
    workflow.freeze(handover, app.config["SECRET_KEY"], app.config["SUBSCRIBER_LINK_TTL"])
    db.session.commit()
    answers = {item.key: Answer(confirmed=False, comment="Н" * 500)
               for item in items_for(handover.services)}
    workflow.sign_as_subscriber(handover, facts_version=handover.facts_version,
                                    submission_id="b" * 32, answers=answers, drawing=None,
                                    typed_name="Ж" * 200, locale="ru")
    db.session.commit()
    return closing_receipt(handover, NUMBERS["largest"])


def typical_receipt(app) -> Prepared:
    return closing_receipt(typical_signed_handover(app), NUMBERS["typical"])


def closing_receipt(handover, number: str) -> Prepared:
    """The receipt closing the job renders, in Russian: the technician countersigns with
    a drawn signature, as in the HTTP closings of bench/pages.py."""
    from webapp.domain.signature import parse_drawing
    from webapp.handovers.workflow import closing_of

    closing = closing_of(handover, parse_drawing(drawn_signature()), None)
    context = receipt_context(handover, number=number, code="ABCDE-FGHJK", closing=closing)
    return Prepared(receipt_html(context, "ru"), expected_text(handover, number))


def typical_signed_handover(app):
    """Store a typical job (two discounts, a router, one No) signed by its subscriber and
    waiting for the technician to close it; return it."""
    import secrets

    from webapp.domain.checklist import Answer, DiscountTerms, Item
    from webapp.domain.declared import items_for
    from webapp.handovers import workflow

    handover = typical_frozen_handover(app)
    answers = {item.key: Answer(confirmed=True) for item in items_for(handover.services)}
    answers[Item.DISCOUNTS] = Answer(False, "Обещали 50% на полгода",
                                     stated_discounts=(DiscountTerms("percent", Decimal(50), 6),))
    workflow.sign_as_subscriber(handover, facts_version=handover.facts_version,
                                    submission_id=secrets.token_hex(16), answers=answers,
                                    drawing=None, typed_name="Анна Соколова", locale="ru")
    db.session.commit()
    return handover


def typical_frozen_handover(app):
    """Store a typical job (two discounts, a router) of the first technician, handed to
    its subscriber (who has not signed yet); return it."""
    from webapp.domain.checklist import DiscountTerms
    from webapp.domain.declared import FACTS
    from webapp.domain.facts import EQUIPMENT_FIELDS, example_values
    from webapp.domain.terms import Role
    from webapp.handovers import workflow
    from webapp.handovers.service import record_facts
    from webapp.models import Handover, User

    technician = db.session.scalar(db.select(User).where(User.role == Role.TECHNICIAN))
    handover = Handover(technician=technician)
    db.session.add(handover)
    record_facts(handover, example_values(FACTS) | {"account_number": "100200300"}, [
        DiscountTerms("percent", Decimal("20"), 6, "Скидка новому абоненту"),
        DiscountTerms("amount", Decimal("98"), None, "Роутер за 1 ₽"),
    ], [{field.name: field.example for field in EQUIPMENT_FIELDS}])
    db.session.commit()
    workflow.freeze(handover, app.config["SECRET_KEY"], app.config["SUBSCRIBER_LINK_TTL"])
    db.session.commit()
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


def kept(receipt: Prepared) -> bytes:
    """What a closing does to a receipt before it is kept, by the service's own steps:
    render with this process's renderer, sign with the app's certificate, read back."""
    signed = sign_receipt(checked_render(receipt.page.html), receipt.page.reason)
    read_back(signed.pdf, receipt.expected)
    return signed.pdf


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return (time.perf_counter() - start) * 1000


def fixed_cost() -> Figure:
    """What reuse can save at most: a one-line document, rendered by the process's
    renderer against the naive call; the rest of a receipt's time is its layout."""
    html = "<!doctype html><html lang=ru><body><p>Квитанция</p></body></html>"
    for _ in range(3):
        checked_render(html)
        naive(html)
    runs = max(4, RUNS // 5)
    tuned_times = [timed(lambda: checked_render(html)) for _ in range(runs)]
    naive_times = [timed(lambda: naive(html)) for _ in range(runs)]
    return Figure("Receipt, one line", f"render p50 over {runs} (fixed cost)",
                  statistics.median(tuned_times), "ms", f"naive write_pdf() p50 over {runs}",
                  statistics.median(naive_times))


def measure(label: str, receipt: Prepared, memory_runs: int) -> list[Figure]:
    """Render+sign the receipt RUNS times against a naive WeasyPrint call of the same
    HTML (interleaved, so a busy moment of the machine weighs on both alike)."""

    def tuned_receipt() -> bytes:
        return kept(receipt)

    def naive_render() -> bytes:
        return naive(receipt.page.html)

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


def in_child(work) -> int:
    """Fork a child that runs work() and writes what it returns (a count) to a pipe;
    return the pipe's end to read it from, empty if work() failed (its traceback goes
    to stderr). The child exits there, never returning into the caller."""
    read, write = os.pipe()
    if os.fork() == 0:
        status = 1
        try:
            os.close(read)
            os.write(write, str(work()).encode())
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    os.close(write)
    return read


def collect(pipes: list[int]) -> list[int]:
    """Read each forked child's count and wait for it; raise if one made none."""
    answers = []
    for read in pipes:
        answers.append(os.read(read, 64))
        os.close(read)
        os.wait()
    if not all(answers):
        raise RuntimeError("a forked worker failed (its traceback is above)")
    return [int(answer) for answer in answers]


def throughput(label: str, receipt: Prepared, seconds: float, naive_p50: float) -> Figure:
    """Receipts per second with one forked worker per core, each with its own renderer
    (threads do not survive fork; checked_render builds one per process), after one
    warm-up receipt each."""
    cores = os.cpu_count() or 1

    def worker() -> int:
        kept(receipt)
        count, end = 0, time.perf_counter() + seconds
        while time.perf_counter() < end:
            kept(receipt)
            count += 1
        return count

    made = sum(collect([in_child(worker) for _ in range(cores)]))
    return Figure(f"Receipt, {label}", f"receipts/s per core, all {cores} cores busy",
                  made / seconds / cores, "/s", "naive render, one core", 1000 / naive_p50,
                  Aim(7, at_most=False))


COLD = """
import sys, time
sys.path.insert(0, sys.argv[1])
from bench.receipts import cold_receipt
cold_receipt(*sys.argv[2:])
"""


def cold_receipt(database: str, workdir: str, receipt_file: str) -> None:
    """In a fresh process: build the app and produce one receipt (timed from outside)."""
    app = bench_app(database, Path(workdir))
    with app.app_context():
        kept(Prepared.load(Path(receipt_file)))


def cold_start(app, receipt: Prepared, workdir: Path) -> Figure:
    """Process start to first receipt: a worker forked from a master that preloaded the
    app and warmed it (webapp.health.warm_up), against a fresh interpreter."""
    from webapp.health import warm_up

    receipt_file = workdir / "receipt.json"
    receipt.save(receipt_file)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", COLD, str(Path(__file__).parent.parent),
                    app.config["SQLALCHEMY_DATABASE_URI"], str(workdir), str(receipt_file)],
                   check=True)
    fresh = time.perf_counter() - start

    warm_up(app)  # as gunicorn's master does before forking (the signer loaded too)
    start = time.perf_counter()
    # The worker builds its own renderer, as gunicorn.conf.py's do.
    collect([in_child(lambda: len(kept(receipt)))])
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
    app = bench_app(f"sqlite:///{workdir / 'bench.sqlite3'}", workdir)
    with app.app_context():
        upgrade()
        figures = [fixed_cost()]
        for label, largest in (("largest", True), ("typical", False)):
            receipt = prepared(app, largest=largest)
            measured = measure(label, receipt, MEMORY_RUNS if largest else 0)
            figures += measured
            figures.append(throughput(label, receipt, 1.0 if quick else 10.0,
                                      measured[0].base))
            if largest:
                figures.append(cold_start(app, receipt, workdir))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description="Receipt rendering and signing figures.")
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny counts")
    print(text_table(run(parser.parse_args().quick)))


if __name__ == "__main__":
    main()
