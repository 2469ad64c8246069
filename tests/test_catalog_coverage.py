"""Every page a person can see is in their language: no text reaches them around the catalog.

The test walks a working day through the application in Russian, then again in
English, opening every page in every state a person meets it in (each kind of
staff, the subscriber's link at each step, the public check, the error pages, the
receipt PDF) and reads what a person reads there: the text outside scripts and
styles, and the attributes that are shown or spoken (placeholder, title,
aria-label, alt, the words on buttons). Everything the walk types is Russian, so
on a Russian page a word in Latin letters is text that did not go through the
catalog, unless it is data that can only be Latin (serial numbers, models,
logins), an identifier, or on the short allow-list below with its reason. On an
English page the same holds for Cyrillic.

Every GET route in the URL map must be walked or excluded with a reason, and every
page template rendered, so a new page cannot slip past.
"""

from __future__ import annotations

import io
import re
import subprocess
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser
from importlib.metadata import version
from pathlib import Path

import pytest
from flask import template_rendered
from werkzeug.exceptions import Gone, InternalServerError, NotFound
from werkzeug.http import parse_options_header

from tests.conftest import (
    PASSWORD,
    add_user,
    all_yes_answers,
    csrf_token,
    drawn_signature,
    hidden_fields,
    valid_form,
)
from tests.test_receipts import append_incremental_update
from tests.tools import needs
from webapp.domain.privacy import initials
from webapp.domain.search import RECEIPT_NUMBER
from webapp.domain.terms import DiscountKind, DiscountSource, Role
from webapp.errors import render_error
from webapp.extensions import db
from webapp.models import Discount, Discrepancy, Handover, Receipt
from webapp.outbox.worker import work

pytestmark = needs("pdftotext")

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# --- What is read, and what may be in the other script -------------------------------------

# Attributes people read or hear; `value` only on buttons (in a text box it is data).
READ_ATTRIBUTES = frozenset({
    "alt", "title", "placeholder", "label", "aria-label", "aria-description",
    "aria-roledescription", "aria-valuetext",
})
BUTTON_INPUTS = frozenset({"submit", "button", "reset"})
# <samp> quotes another system's output as it came (an SMS gateway's or mail server's
# answer on the support page), which no catalog can translate.
NOT_READ = frozenset({"script", "style", "template", "samp"})

WORD = re.compile(r"[^\W\d_]+")
FOREIGN = {"ru": re.compile(r"[A-Za-z\u00C0-\u024F]"), "en": re.compile(r"[\u0400-\u04FF]")}

# Words allowed in the other script, each with the reason it is not a missing translation.
ALLOWED_WORDS = {
    "ru": {
        "English": "the language switch names each language in that language",
        "Handover": "the product's name, kept in Latin letters in Russian text too, as the "
                    "catalog does («Выйти из Handover?»)",
        "PDF": "the file format, written in Latin letters in Russian («Скачать квитанцию (PDF)»)",
        "IP": "«IP-адрес» is the Russian term (the receipt's audit trail)",
        "ONT": "the marking on the device itself: «Оптический терминал (ONT)»",
        "SMS": "written in Latin letters in Russian too («придёт в SMS»)",
    },
    "en": {
        "Русский": "the language switch names each language in that language",
    },
}

# Identifiers and formats that are the same in every language.
ALLOWED_PATTERNS = {
    re.compile(r"\bhttps?://\S+"): "addresses (the subscriber's link, the check page printed "
                                   "on the receipt) are typed into a browser as they are",
    re.compile(rf"\b{RECEIPT_NUMBER.pattern}\b"): "receipt numbers are identifiers",
    re.compile(r"\b[2-9A-Z]{5}-[2-9A-Z]{5}\b"): "the receipt's verification code, typed back "
                                                 "as it is printed",
    re.compile(r"\.pdf\b"): "a file name's extension, which tells the system what it is",
    re.compile(r"\b[\w.+-]+@[\w-]+(\.[\w-]+)+\b"): "e-mail addresses (an example beside the "
                                                "field) are typed as they are",
}


class ReadText(HTMLParser):
    """Collect what a person reads on a page: text outside scripts and styles, and the
    attributes that are shown or spoken."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.unread_depth = 0

    def handle_starttag(self, tag, attrs):
        self.read_attributes(tag, attrs)
        if tag in NOT_READ:
            self.unread_depth += 1

    def handle_startendtag(self, tag, attrs):
        self.read_attributes(tag, attrs)

    def handle_endtag(self, tag):
        if tag in NOT_READ and self.unread_depth:
            self.unread_depth -= 1

    def handle_data(self, data):
        if not self.unread_depth:
            self.chunks.append(data)

    def read_attributes(self, tag, attrs):
        self.chunks += [value for name, value in attrs if name in READ_ATTRIBUTES and value]
        attributes = dict(attrs)
        if tag == "input" and attributes.get("type") in BUTTON_INPUTS and attributes.get("value"):
            self.chunks.append(attributes["value"])


def html_text(html: str) -> str:
    reader = ReadText()
    reader.feed(html)
    reader.close()
    return " ".join(reader.chunks)


def pdf_text(pdf: bytes) -> str:
    """Return the text of a PDF's pages and what a PDF reader shows besides them."""
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True,
        timeout=60,
    )
    # A value the PDF breaks after a hyphen ("TPL-22C6-⏎00017") is still one value.
    pages = re.sub(r"(?<=\w-)\n", "", result.stdout.decode())
    return " ".join([pages, *pdf_properties(pdf)])


def pdf_properties(pdf: bytes) -> list[str]:
    """Return the document's title and the like (the reader's title bar and properties),
    and each signature's reason, location and contact (its signature panel)."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    reader = PdfFileReader(io.BytesIO(pdf))
    info = reader.trailer["/Info"]
    shown = [info.get(key) for key in ("/Title", "/Subject", "/Author", "/Keywords")]
    for signature in reader.embedded_signatures:
        shown += [signature.sig_object.get(key)
                  for key in ("/Reason", "/Location", "/ContactInfo", "/Name")]
    return [str(value) for value in shown if value]


def stray_phrases(text: str, language: str, data: set[str]) -> list[tuple[str, str]]:
    """Return the runs of words in the wrong script for the language, each in its context,
    once typed data, allowed identifiers and allowed words are set aside."""
    text = " ".join(text.split())
    for value in sorted(data, key=len, reverse=True):
        text = text.replace(value, " ")
    for pattern in ALLOWED_PATTERNS:
        text = pattern.sub(" ", text)
    text = " ".join(text.split())
    runs: list[list[int]] = []
    run = None
    for match in WORD.finditer(text):
        word = match.group()
        if word in ALLOWED_WORDS[language] or not FOREIGN[language].search(word):
            run = None
        elif run is None:
            run = [match.start(), match.end()]
            runs.append(run)
        else:
            run[1] = match.end()
    return [(text[start:end], text[max(start - 40, 0):end + 40]) for start, end in runs]


# --- What the walk types: Russian, except what can only be Latin ---------------------------

STAFF = {
    "technician": (Role.TECHNICIAN, {
        "login": "ivanov", "full_name": "Иван Петрович Иванов", "employee_id": "М-1024",
        "contractor": "ООО «СвязьМонтаж»"}),
    "newcomer": (Role.TECHNICIAN, {
        "login": "kuznetsov", "full_name": "Сергей Кузнецов", "employee_id": "М-2048",
        "contractor": "ИП Кузнецов"}),
    "former": (Role.TECHNICIAN, {
        "login": "sidorov", "full_name": "Пётр Сидоров", "employee_id": "М-0512",
        "contractor": "ООО «СвязьМонтаж»"}),
    "support": (Role.SUPPORT, {
        "login": "smirnova", "full_name": "Ольга Смирнова", "employee_id": "П-77",
        "contractor": "ПАО «Связь»"}),
    "admin": (Role.ADMIN, {
        "login": "volkova", "full_name": "Мария Волкова", "employee_id": "А-1",
        "contractor": "ПАО «Связь»"}),
}
NEW_STAFF = {"login": "orlova", "full_name": "Дарья Орлова", "employee_id": "М-4096",
             "contractor": "ИП Орлова"}
SUBSCRIBERS = ("Анна Соколова", "Борис Лебедев", "Вера Новикова", "Григорий Морозов")
ADDRESSES = (
    "г. Пермь, ул. Ленина, д. 5, кв. 12", "г. Пермь, ул. Мира, д. 10, кв. 3",
    "г. Пермь, Комсомольский проспект, д. 42, кв. 77", "г. Пермь, ул. Сибирская, д. 1",
)
TARIFF = "Домашний 500"
DISCOUNTS = ("Скидка новому абоненту", "Роутер за полцены")
SALES_DISCOUNT = "Скидка от продаж"
# Serial numbers are Latin by rule; the router's model is printed on it in Latin.
ROUTER_MODEL, ROUTER_SERIAL = "TP-Link Archer C6", "TPL-22C6-00017"
BOX_MODEL, BOX_SERIAL = "Приставка «Смотрёшка»", "SMB-2024-7781"
OTHER_SERIAL = "ZTE-0099"
# What the subscriber and support type on their pages.
SAID = {
    "comment": "Логин дали, но войти не получилось",
    "tariff": "Домашний 300",
    "discount": "Обещали скидку на полгода",
    "note": "Позвонили абоненту, скидку добавили в лицевой счёт",
    "resolved": "Абонент подтвердил, что всё исправлено",
    "typed": "Вера Новикова",
}


def order(n: int) -> dict:
    """The n-th job's numbers; the personal account login is Latin, as portals issue them,
    and so is the e-mail address (Handover takes addresses in Latin letters only)."""
    return {"order_number": f"ЗАК-{n}/2026", "contract_number": f"Д-{n}/2026",
            "account_number": f"770000000{n}", "portal_login": f"lk-770000000{n}",
            "email": f"abonent{n}@example.ru"}


def handover_form(n: int, **overrides) -> dict:
    """The technician's form for the n-th job, in Russian."""
    russian = order(n) | {
        "subscriber_name": SUBSCRIBERS[n], "address": ADDRESSES[n], "tariff_name": TARIFF,
        "discounts-0-description": DISCOUNTS[0],
        "discounts-1-description": DISCOUNTS[1], "discounts-1-kind": "amount",
        "discounts-1-value": "49,50", "discounts-1-permanent": "y",
        "equipment-0-model": ROUTER_MODEL, "equipment-0-serial": ROUTER_SERIAL,
        "equipment-1-kind": "tv_box", "equipment-1-model": BOX_MODEL,
        "equipment-1-serial": BOX_SERIAL, "equipment-1-terms": "sold",
        "equipment-1-monthly_fee": "0",
    }
    return valid_form(**(russian | overrides))


def typed_data() -> set[str]:
    """Every value the walk types, and the forms pages show it in (initials)."""
    data = {value for _role, fields in STAFF.values() for value in fields.values()}
    data |= set(NEW_STAFF.values()) | set(SAID.values())
    data |= set(SUBSCRIBERS) | {initials(name) for name in SUBSCRIBERS} | set(ADDRESSES)
    data |= {TARIFF, *DISCOUNTS, SALES_DISCOUNT}
    data |= {ROUTER_MODEL, ROUTER_SERIAL, BOX_MODEL, BOX_SERIAL, OTHER_SERIAL}
    data |= {value for n in range(len(SUBSCRIBERS)) for value in order(n).values()}
    # The receipt's audit trail shows each event's device: here, the test client.
    data.add(f"Werkzeug/{version('werkzeug')}")
    return data


# --- The walk ------------------------------------------------------------------------------

# GET routes that are not pages a person reads, with the reason.
EXCLUDED = {
    "static": "stylesheets, scripts, fonts and icons",
    "main.healthz": "JSON for the load balancer",
    "main.readyz": "JSON for the load balancer",
    "handovers.status": "JSON that the technician's page polls",
    "api-docs.openapi_json": "the JSON API's machine-readable description",
    "api.get_handover": "JSON for the order system",
    "api.list_receipts": "JSON for the order system",
    "api.get_receipt": "JSON for the order system",
    "api.list_webhook_deliveries": "JSON for the order system",
    "api.receipt_pdf": "the same stored PDF that the walk reads from the staff and "
                       "subscriber routes",
}
# Page templates rendered outside the walk's requests, and where their text is read.
READ_ELSEWHERE = {
    "receipts/receipt.html": "rendered when the job closes; the walk reads it in the PDFs",
}


@dataclass
class Walk:
    """One language's walk: what was read, and which routes and templates it reached."""

    app: object
    language: str
    data: set[str] = field(default_factory=typed_data)
    # A phrase in the wrong script -> the first page it was read on, with its context.
    findings: dict[str, str] = field(default_factory=dict)
    endpoints: set[str] = field(default_factory=set)
    templates: set[str] = field(default_factory=set)

    @property
    def headers(self) -> dict:
        return {"Accept-Language": self.language}

    def client(self, who: str, user=None):
        client = self.app.test_client(user=user) if user else self.app.test_client()
        client.who = who
        return client

    def look(self, client, url: str, status: int = 200, method: str = "GET", **kwargs):
        """Open a page as a browser would (following redirects), and read it."""
        with self.recording_templates():
            response = client.open(
                url, method=method, headers=self.headers, follow_redirects=True, **kwargs
            )
        label = f"{method} {url[:80]} as {client.who}"
        assert response.status_code == status, (label, response.status_code, response.text[:300])
        for step in (*response.history, response):
            self.reached(step.request)
        self.read(label, response)
        return response

    def submit(self, client, url: str, data: dict, status: int = 200, action: str | None = None,
               prefix: str = "", **kwargs):
        """Open the form's page, post the data with its CSRF token (to `action` when the
        form posts elsewhere; `prefix` names one form among several) and read the answer."""
        page = self.look(client, url, **kwargs)
        data = {f"{prefix}csrf_token": csrf_token(page.text), **data}
        return self.look(client, action or url, status, method="POST", data=data, **kwargs)

    def reached(self, request) -> None:
        if request.method != "GET":
            return
        try:
            endpoint, _args = self.app.url_map.bind("localhost").match(request.path, "GET")
        except NotFound:
            return
        self.endpoints.add(endpoint)

    def read(self, label: str, response) -> None:
        if response.mimetype == "application/pdf":
            # The file's name too: the person finds it by that in their downloads.
            _disposition, options = parse_options_header(response.headers["Content-Disposition"])
            text = f"{options['filename']} {pdf_text(response.data)}"
        else:
            assert response.mimetype == "text/html", (label, response.mimetype)
            text = html_text(response.text)
            if 'action="/language"' not in response.text:  # a switch on every page
                self.findings.setdefault("(no language switch)", label)
            # A password shown once to the administrator: random letters, not words.
            self.data.update(re.findall(r"data-new-password>([^<]+)<", response.text))
        self.check(label, text)

    def check(self, label: str, text: str) -> None:
        for phrase, context in stray_phrases(text, self.language, self.data):
            self.findings.setdefault(phrase, f"{label}: …{context}…")

    @contextmanager
    def recording_templates(self):
        def rendered(sender, template, context, **extra):
            self.templates.add(template.name)

        with template_rendered.connected_to(rendered, self.app):
            yield

    def render_error_page(self, error) -> None:
        """Read an error page that no request can provoke on purpose (500, and a code
        without a page of its own), rendered by the one error renderer."""
        with self.app.test_request_context("/", headers=self.headers), \
                self.recording_templates():
            html = render_error(error).get_data(as_text=True)
        self.check(f"error page {error.code}", html_text(html))


def get_endpoints(app) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}


def page_templates() -> set[str]:
    """Every template that is a page: not the layout, a partial or a macro file."""
    return {
        path.relative_to(TEMPLATES).as_posix() for path in TEMPLATES.rglob("*.html")
        if not path.name.startswith("_") and path.name != "base.html"
    }


def stored(app, model, **where):
    with app.app_context():
        row = db.session.scalars(db.select(model).filter_by(**where)).one()
        db.session.expunge(row)
        return row


# --- A working day, page by page ----------------------------------------------------------


def walk_the_day(walk: Walk) -> None:
    app = walk.app
    app.config.update(HANDOVERS_PER_PAGE=2, STAFF_PER_PAGE=2)  # so every list has pages
    people = {
        name: add_user(app, fields["login"], role, active=name != "former",
                       **{key: value for key, value in fields.items() if key != "login"})
        for name, (role, fields) in STAFF.items()
    }
    staff = {name: walk.client(name, user) for name, user in people.items()}
    jobs = technician_works(walk, staff["technician"])
    subscribers_check(walk, staff["technician"], jobs)
    support_works(walk, staff["support"], staff["admin"], jobs)
    admin_works(walk, staff["admin"], people)
    anyone_visits(walk, people, jobs)
    errors_happen(walk, people)


def create_job(walk: Walk, tech, n: int, **overrides) -> Handover:
    walk.submit(tech, "/handovers/new", handover_form(n, **overrides))
    return stored(walk.app, Handover, order_number=order(n)["order_number"])


def press(walk: Walk, client, handover, action: str, data: dict | None = None, status=200):
    """Press a button on the handover's page (freeze, reopen, close), and read the answer."""
    page = f"/handovers/{handover.public_id}"
    return walk.submit(client, page, data or {}, status, action=f"{page}/{action}")


def link_token(walk: Walk, tech, handover) -> str:
    """Return the token of the subscriber's link that the technician's page shows."""
    page = walk.look(tech, f"/handovers/{handover.public_id}")
    return re.search(r'href="http://localhost/s/([^"]+)"', page.text).group(1)


class UnreachableTimestamper:
    """A timestamp authority that does not answer: the receipt is signed without it."""

    def __getattr__(self, name):
        raise ConnectionError("the timestamp authority did not answer")


def technician_works(walk: Walk, tech) -> dict:
    """The technician: an empty list, the form with every kind of mistake, jobs in each
    state, and the buttons refused."""
    walk.look(tech, "/handovers/")  # no jobs yet
    walk.look(tech, "/")
    mistakes = handover_form(
        0, order_number="№ 1", account_number="12ab", contract_pages="много", phone="12",
        address="г. Пермь\tул. Ленина", tariff_name="Т" * 101, monthly_fee="дорого",
        services=None, **{
            "discounts-0-value": "150", "discounts-0-months": "", "discounts-1-months": "3",
            "discounts-2-description": "Скидка", "discounts-2-value": "много",
            "equipment-0-serial": "СЕРИЙНЫЙ", "equipment-1-model": "",
            "equipment-1-monthly_fee": "-1", "equipment-2-model": "Модем",
            "equipment-2-monthly_fee": "1,234",
        },
    )
    walk.submit(tech, "/handovers/new", mistakes)
    walk.look(tech, "/handovers/new", method="POST", data=handover_form(0))  # form expired
    draft = create_job(walk, tech, 0)
    edit = f"/handovers/{draft.public_id}/edit"
    walk.submit(tech, edit, handover_form(0, phone="+7 912 000-00-00"))
    press(walk, tech, draft, "close")  # refused: nobody has signed

    disputed = create_job(walk, tech, 1)
    with walk.app.app_context():  # sales promised a discount that the application lacks
        db.session.add(Discount(
            handover_id=disputed.id, source=DiscountSource.SALES, position=0,
            description=SALES_DISCOUNT, kind=DiscountKind.PERCENT, value=Decimal(30), months=12,
        ))
        db.session.commit()
    press(walk, tech, disputed, "freeze")
    press(walk, tech, disputed, "freeze")  # refused: already with the subscriber
    walk.look(tech, f"/handovers/{disputed.public_id}/edit")  # refused: with the subscriber

    corrected = create_job(walk, tech, 2, billing_method="advance")
    press(walk, tech, corrected, "freeze")
    nothing_more = dict.fromkeys(
        ("discounts-0-description", "discounts-0-value", "discounts-0-months",
         "discounts-1-description", "discounts-1-value", "equipment-0-model",
         "equipment-0-serial", "equipment-0-monthly_fee", "equipment-1-model",
         "equipment-1-serial", "equipment-1-monthly_fee", "portal_login"), "")
    clean = create_job(walk, tech, 3, billing_method="advance", documents=None, **nothing_more)
    press(walk, tech, clean, "freeze")
    walk.look(tech, "/handovers/")
    walk.look(tech, "/handovers/?page=2")
    return {"draft": draft, "disputed": disputed, "corrected": corrected, "clean": clean}


def subscribers_check(walk: Walk, tech, jobs: dict) -> None:
    """The subscriber's link at each step, and the technician closing the jobs."""
    tokens = jobs["tokens"] = {
        name: link_token(walk, tech, jobs[name]) for name in ("disputed", "corrected", "clean")
    }

    waiting = walk.client("subscriber")  # while the technician corrects something
    walk.look(waiting, f"/s/{tokens['corrected']}")
    press(walk, tech, jobs["corrected"], "reopen")
    walk.look(waiting, f"/s/{tokens['corrected']}")  # the details are being updated

    phone, url = walk.client("subscriber"), f"/s/{tokens['disputed']}"
    page = walk.look(phone, url)
    mistakes = {
        "tariff": "no", "tariff_name_stated": "", "tariff_fee_stated": "дёшево",
        "discounts": "no", "discounts_stated-0-description": SAID["discount"],
        "discounts_stated-0-value": "10", "discounts_stated-0-months": "полгода",
        "equipment": "no", "equipment_serials_stated": "серийник",
        "signature": "{", "typed_name": "",
    }
    walk.look(phone, url, 400, method="POST", data=hidden_fields(page.text) | mistakes)
    page = walk.look(phone, url)
    stale = hidden_fields(page.text) | {"facts_version": "999"} | all_yes_answers()
    walk.look(phone, url, method="POST", data=stale)  # the facts changed meanwhile
    page = walk.look(phone, url)
    disputes = all_yes_answers(
        portal_access="no", portal_access_comment=SAID["comment"],
        tariff="no", tariff_name_stated=SAID["tariff"], tariff_fee_stated="400",
        discounts="no", equipment="no", technician="no",
        equipment_serials_stated=f"{ROUTER_SERIAL}, {OTHER_SERIAL}",
        **{"discounts_stated-0-description": SAID["discount"],
           "discounts_stated-0-kind": "percent", "discounts_stated-0-value": "50",
           "discounts_stated-0-months": "6"},
    )
    walk.look(phone, url, method="POST", data=hidden_fields(page.text) | disputes)
    walk.look(phone, url)  # signed; the receipt is not ready yet

    detail = f"/handovers/{jobs['disputed'].public_id}"
    walk.look(tech, detail)  # the countersignature form
    press(walk, tech, jobs["disputed"], "close", {"signature": ""}, status=400)
    press(walk, tech, jobs["disputed"], "close", {"signature": "{"}, status=400)
    press(walk, tech, jobs["disputed"], "close", {"signature": drawn_signature()})
    walk.look(phone, url)  # the receipt is ready
    walk.look(phone, f"{url}/receipt.pdf")
    walk.look(tech, f"{detail}/receipt.pdf")

    typist, url = walk.client("subscriber"), f"/s/{tokens['clean']}"
    page = walk.look(typist, url)
    typed = all_yes_answers(signature="", typed_name=SAID["typed"])
    walk.look(typist, url, method="POST", data=hidden_fields(page.text) | typed)
    walk.app.config["RECEIPT_TIMESTAMPER"] = UnreachableTimestamper()
    name = STAFF["technician"][1]["full_name"]
    press(walk, tech, jobs["clean"], "close", {"signature": "", "typed_name": name})
    del walk.app.config["RECEIPT_TIMESTAMPER"]
    walk.look(typist, f"{url}/receipt.pdf")
    technician_hands_the_device_over(walk, tech, jobs["corrected"])


def technician_hands_the_device_over(walk: Walk, tech, handover) -> None:
    """A subscriber without a smartphone signs on the technician's device, which goes
    back to the technician with their password."""
    press(walk, tech, handover, "freeze")
    subscriber = press(walk, tech, handover, "kiosk").request.path
    walk.look(tech, "/handovers/", 403)  # this device is with the subscriber
    walk.submit(tech, "/kiosk/return", {"password": "не тот пароль"}, 400)
    page = walk.look(tech, subscriber)
    walk.look(tech, subscriber, method="POST", data=hidden_fields(page.text) | all_yes_answers())
    walk.submit(tech, "/kiosk/return", {"password": PASSWORD})  # back on the job's page


def support_works(walk: Walk, agent, admin, jobs: dict) -> None:
    """Support: searches, receipts with and without discrepancies, the queue, the figures."""
    number = stored(walk.app, Receipt, handover_id=jobs["disputed"].id).number
    clean_number = stored(walk.app, Receipt, handover_id=jobs["clean"].id).number

    walk.look(agent, "/")
    walk.look(agent, "/support/")
    walk.look(agent, "/support/?q=")  # nothing typed, nothing chosen
    walk.look(agent, "/support/?q=7700000001")  # exact
    walk.look(agent, "/support/?q=Саколова")  # similar
    walk.look(agent, "/support/?q=Несуществующий")  # nothing found
    walk.look(agent, "/support/?status=closed")  # filters only
    walk.look(agent, "/support/?q=ЗАК&discrepancies=yes&unconfirmed=tariff")
    walk.look(agent, "/support/?since=вчера&until=2000-01-01&status=потерян&q=" + "ы" * 201, 400)
    walk.look(agent, "/support/?since=1999-12-31", 400)
    walk.look(agent, "/support/?until=2000-01-01&since=2001-01-01", 400)

    walk.look(agent, f"/support/receipts/{number}")  # nobody else has opened it
    walk.look(admin, f"/support/receipts/{number}")
    walk.look(agent, f"/support/receipts/{number}")  # the administrator opened it
    walk.look(agent, f"/support/receipts/{number}.pdf")
    walk.look(agent, f"/support/receipts/{clean_number}")  # signed without a timestamp
    receipt_page, resend = f"/support/receipts/{number}", f"/support/receipts/{number}/resend"
    for data, status in (
        ({"to": "other_sms", "phone": "8 495 123-45-67", "reason": ""}, 400),  # a landline
        ({"to": "other_email", "email": "анна@пример.рф", "reason": "звонила"}, 400),
        ({"to": "other_email", "email": "", "reason": ""}, 400),
        ({"to": "sms", "reason": ""}, 200),  # queued: its row shows below
    ):
        walk.submit(agent, receipt_page, data, status, action=resend)
    with walk.app.app_context():
        work(once=True)  # development and tests show SMS and e-mail on the outbox page
    walk.look(agent, receipt_page)  # the messages sent
    walk.look(agent, "/outbox/")

    walk.look(agent, "/support/discrepancies")
    walk.look(agent, "/support/discrepancies?page=2")
    with walk.app.app_context():
        first, second = db.session.scalars(
            db.select(Discrepancy.id).order_by(Discrepancy.id).limit(2)
        ).all()
    page, prefix = f"/support/discrepancies/{first}", f"d{first}-"
    for note, button, status in (
        ("", "contacted", 400), (SAID["note"], "contacted", 200),
        (SAID["resolved"], "resolved", 200), (SAID["resolved"], "resolved", 200),  # refused
    ):
        data = {f"{prefix}note": note, f"{prefix}{button}": "y"}
        walk.submit(agent, page, data, status, prefix=prefix)
    walk.look(agent, f"/support/discrepancies/{second}?next=/support/discrepancies")
    walk.look(agent, f"/support/receipts/{number}")  # with the notes

    walk.look(agent, "/support/technicians")
    for key in ("name", "handovers", "discrepancies", "tariff"):
        walk.look(agent, f"/support/technicians?sort={key}")
    walk.look(agent, "/support/technicians?since=завтра&until=2026-02-30", 400)
    walk.look(agent, "/handovers/")
    walk.look(agent, "/handovers/?page=2")
    walk.look(agent, f"/handovers/{jobs['disputed'].public_id}")
    walk.look(agent, f"/handovers/{jobs['draft'].public_id}")


def admin_works(walk: Walk, admin, people: dict) -> None:
    """The administrator: the staff list, a new account, roles, access, passwords."""
    walk.look(admin, "/")
    walk.look(admin, "/admin/users")
    walk.look(admin, "/admin/users?page=2")
    new = "/admin/users/new"
    walk.submit(admin, new, NEW_STAFF | {"role": "technician", "login": "с пробелом",
                                         "full_name": ""})
    walk.submit(admin, new, NEW_STAFF | {"role": "king", "login": STAFF["technician"][1]["login"],
                                         "employee_id": "Н" * 300})
    walk.submit(admin, new, NEW_STAFF | {"role": "technician"})  # the new password, once

    walk.look(admin, f"/admin/users/{people['technician'].id}")
    for user, action, data, status in (
        (people["former"], "password", {}, 200),  # the new password, once
        (people["newcomer"], "role", {"role": "support"}, 200),
        (people["newcomer"], "deactivate", {}, 200),
        (people["newcomer"], "reactivate", {}, 200),
        (people["admin"], "role", {"role": "technician"}, 400),  # refused: their own
        (people["admin"], "deactivate", {}, 200),  # refused: their own
    ):
        page = f"/admin/users/{user.id}"
        walk.submit(admin, page, data, status, action=f"{page}/{action}")


def anyone_visits(walk: Walk, people: dict, jobs: dict) -> None:
    """Without an account: sign-in, the public check of a receipt, a spent link."""
    anonymous = walk.client("anonymous")
    walk.look(anonymous, "/")
    walk.look(anonymous, "/handovers/")  # please sign in
    walk.submit(anonymous, "/login", {"login": "", "password": ""})
    walk.submit(anonymous, "/login", {"login": "ivanov", "password": "не тот пароль"})
    leaving = walk.client("technician", people["technician"])
    walk.look(leaving, "/logout")
    walk.submit(leaving, "/logout", {})  # signed out: the sign-in page says so

    number = stored(walk.app, Receipt, handover_id=jobs["disputed"].id).number
    pdf = walk.look(walk.client("support", people["support"]), f"/support/receipts/{number}.pdf")
    code = re.search(r"\b[2-9A-Z]{5}-[2-9A-Z]{5}\b", pdf_text(pdf.data)).group()
    walk.look(anonymous, f"/verify?number={number}&code={code}")  # from the receipt's QR code
    walk.look(anonymous, "/verify?number=HO-2345-6789&code=AAAAA-BBBBB")  # unknown
    upload(walk, anonymous, None)  # no file chosen
    upload(walk, anonymous, b"%PDF-1.7 not a PDF at all")
    upload(walk, anonymous, append_incremental_update(pdf.data))
    by_code = {"code-number": "", "code-code": "", "code-check_code": "y"}
    walk.submit(anonymous, "/verify", by_code, prefix="code-")
    walk.submit(anonymous, "/verify", by_code | {"code-number": number, "code-code": code},
                prefix="code-")
    walk.look(anonymous, f"/s/{jobs['tokens']['disputed']}", 404)  # not the signer's browser
    walk.look(anonymous, "/s/AAAAAAAAAAAAAAAAAAAAAAAA", 404)
    opens_by_code(walk, number, code)


def opens_by_code(walk: Walk, number: str, code: str) -> None:
    """The subscriber on another device: the SMS link, mistakes, the receipt and its PDF."""
    phone = walk.client("subscriber")
    walk.look(phone, f"/r/{number}")  # the number filled in from the SMS link
    walk.submit(phone, "/r", {"number": "НО-12", "code": "<код>"}, 400)
    walk.submit(phone, "/r", {"number": number, "code": "AAAAA-BBBBB"})  # a wrong code
    walk.submit(phone, f"/r/{number}", {"number": number, "code": code}, action="/r")
    walk.look(phone, f"/r/{number}/receipt.pdf")


def errors_happen(walk: Walk, people: dict) -> None:
    """Every error page: bad request, not allowed, not found, wrong method, too large,
    too many attempts, and the two no request provokes on purpose."""
    anonymous = walk.client("anonymous")
    walk.look(anonymous, "/language", 400, method="POST", data={"en": "English"})  # no token
    walk.look(walk.client("technician", people["technician"]), "/support/", 403)
    walk.look(anonymous, "/no-such-page", 404)
    walk.look(anonymous, "/login", 405, method="PUT")
    too_large = b"x" * (walk.app.config["MAX_CONTENT_LENGTH"] + 1)
    walk.look(anonymous, "/login", 413, method="POST", data=too_large,
              content_type="application/x-www-form-urlencoded")
    too_many(walk)
    walk.render_error_page(InternalServerError())
    walk.render_error_page(Gone())


def upload(walk: Walk, client, pdf: bytes | None):
    """Upload a file on the public check's page (None: press the button without one)."""
    page = walk.look(client, "/verify")
    data = {"upload-csrf_token": csrf_token(page.text), "upload-check_file": "y"}
    if pdf is not None:
        data["upload-pdf"] = (io.BytesIO(pdf), "квитанция.pdf")
    return walk.look(client, "/verify", method="POST", data=data,
                     content_type="multipart/form-data")


def too_many(walk: Walk) -> None:
    """The rate limits' pages, from an address of their own: a blocked sign-in, the 429
    page of /verify, and a receipt number locked after wrong codes."""
    limits = {name: int(text.split()[0]) for name, text in walk.app.config["RATE_LIMITS"].items()}
    elsewhere = {"environ_base": {"REMOTE_ADDR": "192.0.2.44"}}
    client = walk.client("anonymous")
    wrong = {"login": "nobody", "password": "не тот пароль"}
    for _attempt in range(limits["sign_in_per_login_and_address"]):
        page = client.get("/login", **elsewhere)
        client.post("/login", data={"csrf_token": csrf_token(page.text), **wrong}, **elsewhere)
    walk.submit(client, "/login", wrong, 429, **elsewhere)
    for _attempt in range(limits["verify"]):
        client.get("/verify", **elsewhere)
    walk.look(client, "/verify", 429, **elsewhere)
    wrong = {"number": "HO-2345-6789", "code": "AAAAA-BBBBB"}
    for _attempt in range(limits["receipt_code_per_number"]):
        page = client.get("/r", **elsewhere)
        client.post("/r", data={"csrf_token": csrf_token(page.text), **wrong}, **elsewhere)
    walk.submit(client, "/r", wrong, 429, **elsewhere)  # the number is locked for a while


# --- The test ----------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_page_shows_only_text_in_the_persons_language(app, language):
    walk = Walk(app, language)
    walk_the_day(walk)

    unreached = get_endpoints(app) - walk.endpoints - set(EXCLUDED)
    assert unreached == set(), "walk these pages in walk_the_day, or exclude them with a reason"
    assert walk.endpoints & set(EXCLUDED) == set(), "the walk reads a page that is excluded"
    unrendered = page_templates() - walk.templates - set(READ_ELSEWHERE)
    assert unrendered == set(), "reach these templates in walk_the_day"
    assert walk.findings == {}, "put these through the catalog, or allow-list them with a reason"
