"""The support workspace: finding receipts, reading them (accountably), working discrepancies."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.conftest import add_user, all_yes_answers, close_job, csrf_token, freeze, make_handover
from tests.tools import needs
from webapp.db_types import now_utc
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.models import AuditEvent, Discrepancy, Handover, Receipt

EN = {"Accept-Language": "en"}


@pytest.fixture
def agent(app):
    return add_user(app, "agent", Role.SUPPORT, full_name="Olga Support")


@pytest.fixture
def support(app, agent):
    return app.test_client(user=agent)


def found(client, query: str = "", **filters) -> list[str]:
    """Return the subscriber names the search lists, in order."""
    response = client.get("/support/", query_string={"q": query, **filters}, headers=EN)
    assert response.status_code == 200, response.text
    return re.findall(r'<span class="job-title">([^<]*)</span>', response.text)


def closed_with_receipt(app, technician, answers=None, **facts) -> tuple[Handover, Receipt]:
    handover = make_handover(app, technician, **facts)
    close_job(app, technician, handover, freeze(app, handover), answers)
    with app.app_context():
        receipt = db.session.scalar(db.select(Receipt).where(Receipt.handover_id == handover.id))
        db.session.expunge(receipt)
    return handover, receipt


def events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == name)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


# Who may use it


def support_urls(app) -> list[tuple[str, str]]:
    """Every support page (its URL, with made-up ids where the rule takes one, and the
    method it answers: GET, or POST for actions only)."""
    values = {"number": "HO-2345-6789", "discrepancy_id": 1}
    with app.test_request_context():
        from flask import url_for

        return sorted(
            (url_for(rule.endpoint, **{name: values[name] for name in rule.arguments}),
             "GET" if "GET" in rule.methods else "POST")
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("support.")
        )


def test_every_support_page_is_closed_to_technicians_and_strangers(app, technician):
    urls = support_urls(app)
    assert len(urls) >= 6
    tech = app.test_client(user=technician)
    anonymous = app.test_client()
    for url, method in urls:
        assert tech.open(url, method=method).status_code == 403, url
        assert tech.post(url).status_code in (403, 405), url
        response = anonymous.open(url, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_support_and_admin_land_on_the_search(app, agent):
    admin = add_user(app, "boss", Role.ADMIN)
    for user in (agent, admin):
        response = app.test_client(user=user).get("/")
        assert response.headers["Location"] == "/support/"
        assert app.test_client(user=user).get("/support/").status_code == 200


# Exact lookups


@pytest.mark.parametrize(
    "query",
    ["1234567890", "12 3456 7890", "D-1", "ORD-1", "8 912 345-67-89", "+7 (912) 3456789",
     "89123456789", "+79123456789"],
)
def test_a_caller_is_found_by_any_number_they_have(app, technician, support, query):
    make_handover(app, technician, subscriber_name="Анна Соколова")
    make_handover(
        app, technician, subscriber_name="Someone Else", account_number="5555555555",
        contract_number="D-2", order_number="ORD-2", phone="+79990001122",
    )
    assert found(support, query) == ["Анна Соколова"]


@needs("pdftotext")
def test_a_receipt_number_finds_its_handover_in_any_case(app, technician, support):
    _handover, receipt = closed_with_receipt(app, technician, subscriber_name="Анна Соколова")
    make_handover(app, technician, subscriber_name="Someone Else", account_number="5555555555")
    assert found(support, receipt.number.lower()) == ["Анна Соколова"]


def test_exact_matches_come_newest_first(app, technician, support):
    for name, days in (("Old", 30), ("Newest", 1), ("Middle", 10)):
        handover = make_handover(app, technician, subscriber_name=name)
        with app.app_context():
            stored = db.session.get(Handover, handover.id)
            stored.created_at = now_utc() - timedelta(days=days)
            db.session.commit()
    assert found(support, "1234567890") == ["Newest", "Middle", "Old"]


def test_results_mask_the_phone_and_show_the_technician(app, technician, support):
    make_handover(app, technician, subscriber_name="Анна Соколова")
    page = support.get("/support/?q=1234567890", headers=EN).text
    assert "+79123456789" not in page and "+7 912" not in page
    assert "+7 ••• •••-67-89" in page
    assert "Name of tech" in page


# Loose matching of names and addresses


ADDRESSES = {
    "Анна Соколова": "г. Пермь, Ленина ул, д. 5, кв. 12",
    "Пётр Иванов": "г. Пермь, ул. Мира, д. 5",
    "Мария Ленская": "г. Пермь, ул. Ленская, д. 50",
    "Олег Орлов": "г. Пермь, ул. Набережная, д. 3",
}


@pytest.fixture
def subscribers(app, technician):
    for number, (name, address) in enumerate(ADDRESSES.items()):
        make_handover(
            app, technician, subscriber_name=name, address=address,
            account_number=f"77000{number}", phone=f"+7912000000{number}",
        )


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("ул. Ленина 5", "Анна Соколова"),  # other word order, abbreviations
        ("ЛЕНИНА 5", "Анна Соколова"),  # case
        ("Ленина", "Анна Соколова"),  # words left out
        ("Пермь Ленона д 5 кв 12", "Анна Соколова"),  # a typo
        ("Соколова Анна", "Анна Соколова"),  # name, other order
        ("Саколова", "Анна Соколова"),  # misspelt surname
        ("Петр Иванов", "Пётр Иванов"),  # without the diaeresis
        ("Мира 5", "Пётр Иванов"),
        ("Ленская 50", "Мария Ленская"),
        ("Набережная 3", "Олег Орлов"),  # a street named like a kind of street
        ("Орлав", "Олег Орлов"),  # a typo in a short word
    ],
)
def test_names_and_addresses_match_loosely_best_first(support, subscribers, query, first):
    assert found(support, query)[0] == first


def test_an_unrelated_name_finds_nothing(support, subscribers):
    assert found(support, "Зинаида Кузнецова") == []


def test_results_follow_every_change_of_name_and_address(app, technician, support):
    handover = make_handover(app, technician, subscriber_name="Анна Соколова")
    with app.app_context():
        stored = db.session.get(Handover, handover.id)
        stored.subscriber_name = "Анна Кузнецова"
        db.session.commit()
    assert found(support, "Кузнецова") == ["Анна Кузнецова"]
    assert found(support, "Соколова") == []
    with app.app_context():
        db.session.delete(db.session.get(Handover, handover.id))
        db.session.commit()
    assert found(support, "Кузнецова") == []


def test_results_are_paginated(app, technician, support):
    app.config["HANDOVERS_PER_PAGE"] = 3
    for number in range(7):
        make_handover(app, technician, subscriber_name=f"Ирина Петрова {number}",
                      address=f"Пермь, ул. Мира, д. {number + 1}")
    first = support.get("/support/?q=Петрова+Ирина", headers=EN).text
    assert len(re.findall('class="job-title"', first)) == 3
    assert "page=2" in first and "Previous" not in first
    third = support.get("/support/?q=Петрова+Ирина&page=3", headers=EN).text
    assert len(re.findall('class="job-title"', third)) == 1
    assert "Next" not in third
    names = [name for page in (1, 2, 3) for name in found(support, "Петрова Ирина", page=page)]
    assert sorted(names) == [f"Ирина Петрова {n}" for n in range(7)]


# Filters


def test_filters_narrow_the_results(app, technician, other_technician, support):
    make_handover(app, technician, subscriber_name="Анна Соколова", status="closed")
    make_handover(app, other_technician, subscriber_name="Анна Соколова-Вторая")
    assert found(support, "Соколова", status="closed") == ["Анна Соколова"]
    assert found(support, "Соколова", technician=str(other_technician.id)) == [
        "Анна Соколова-Вторая"
    ]
    tomorrow = (now_utc() + timedelta(days=2)).date().isoformat()
    assert found(support, "Соколова", since=tomorrow) == []
    assert len(found(support, "", technician=str(technician.id))) == 1


def test_the_date_filter_follows_the_local_day(app, technician, support):
    # 00:10 in Moscow on 26 November is 21:10 UTC on the 25th.
    handover = make_handover(app, technician, subscriber_name="Анна Соколова")
    with app.app_context():
        stored = db.session.get(Handover, handover.id)
        stored.created_at = datetime(2026, 11, 25, 21, 10, tzinfo=UTC)
        db.session.commit()
    on_the_26th = {"since": "2026-11-26", "until": "2026-11-26"}
    assert found(support, "Соколова", **on_the_26th) == ["Анна Соколова"]
    assert found(support, "Соколова", since="2026-11-25", until="2026-11-25") == []


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"since": "26.11.2026"}, "Enter a date as YYYY-MM-DD"),
        ({"since": "2026-02-30"}, "Enter a date as YYYY-MM-DD"),
        ({"since": "0001-01-01"}, "Enter a date from 2000 to 2099."),
        ({"until": "9999-12-31"}, "Enter a date from 2000 to 2099."),
        ({"since": "2026-11-20", "until": "2026-11-01"}, "The end date is before the start date."),
        ({"status": "deleted"}, "Choose one of the options offered."),
        ({"technician": "99999"}, "Choose one of the options offered."),
        ({"unconfirmed": "<b>x</b>"}, "Choose one of the options offered."),
    ],
)
def test_bad_filters_get_a_message_and_keep_what_was_typed(support, subscribers, filters, message):
    response = support.get("/support/", query_string={"q": "Ленина", **filters}, headers=EN)
    assert response.status_code == 400
    assert message in response.text
    assert 'value="Ленина"' in response.text
    assert 'class="job-title"' not in response.text


# Bad queries


def test_an_empty_search_lists_nothing_and_says_why(support, subscribers):
    page = support.get("/support/?q=", headers=EN)
    assert page.status_code == 200
    assert "Type something to search for" in page.text
    assert 'class="job-title"' not in page.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("Ленина " * 1500, "Use at most 200 characters."),
        ("Ленина\x00 5", "Remove control characters"),
        ("Ленина\u202e5", "Remove control characters"),
    ],
)
def test_oversize_and_control_character_queries_get_a_message(support, subscribers, query, message):
    response = support.get("/support/", query_string={"q": query}, headers=EN)
    assert response.status_code == 400
    assert message in response.text
    assert 'class="job-title"' not in response.text


@pytest.mark.parametrize("query", ["%", "_", "'", "\\", "%%", "' OR '1'='1", '"', "*", "a%b_c"])
def test_metacharacters_never_dump_the_table(support, subscribers, query):
    assert found(support, query) == []


def test_markup_in_a_name_is_shown_as_text(app, technician, support):
    make_handover(app, technician, subscriber_name="<script>alert(1)</script> Анна")
    page = support.get("/support/?q=1234567890").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Анна" in page


# The receipt page


@pytest.fixture
def disputed(app, technician):
    """A closed job where the subscriber said No to the portal login and the discounts."""
    answers = all_yes_answers(
        portal_access="no", portal_access_comment="Логин не выдали",
    )
    return closed_with_receipt(app, technician, answers, subscriber_name="Анна Соколова")


@needs("pdftotext")
def test_results_mark_the_receipts_with_discrepancies(app, technician, support, disputed):
    make_handover(app, technician, subscriber_name="Анна Соколова-Вторая", status="closed")
    page = support.get("/support/?q=Соколова", headers=EN).text
    rows = page.split('<li class="job">')[1:]
    assert len(rows) == 2
    marked = [row for row in rows if "1 discrepancy" in row]
    assert len(marked) == 1 and disputed[1].number in marked[0]


@needs("pdftotext")
def test_the_receipt_page_shows_discrepancies_first(support, disputed):
    _handover, receipt = disputed
    page = support.get(f"/support/receipts/{receipt.number}", headers=EN).text
    assert "1 discrepancy" in page
    assert "Логин не выдали" in page
    order = [page.index(text) for text in (
        "1 discrepancy", "Subscriber's answers", "Application", "Audit trail",
    )]
    assert order == sorted(order)
    assert "Genuine and unmodified" in page
    assert "Receipt issued" in page and "Subscriber signed" in page


@needs("pdftotext")
def test_opening_and_downloading_a_receipt_is_recorded_and_shown_to_others(
    app, support, agent, disputed
):
    _handover, receipt = disputed
    page = support.get(f"/support/receipts/{receipt.number}", headers=EN).text
    assert "Nobody else has opened it." in page
    pdf = support.get(f"/support/receipts/{receipt.number}.pdf")
    assert pdf.mimetype == "application/pdf"
    with app.app_context():
        stored = db.session.get(Receipt, receipt.id)
        assert pdf.data == stored.pdf

    [viewed] = events(app, "receipt.viewed")
    assert viewed.actor_id == agent.id and viewed.ip == "127.0.0.1"
    assert viewed.details == {"receipt": receipt.number}
    downloads = [e for e in events(app, "receipt.downloaded") if e.actor_id == agent.id]
    assert len(downloads) == 1

    colleague = add_user(app, "colleague", Role.SUPPORT, full_name="Ivan Colleague")
    page = app.test_client(user=colleague).get(
        f"/support/receipts/{receipt.number}", headers=EN
    ).text
    assert "Olga Support" in page and "2 times" in page
    assert "Ivan Colleague" not in page.split("Who else opened")[1].split("</section>")[0]


@pytest.mark.parametrize("number", ["HO-2345-6789", "ho-2345-6789", "x" * 5000, "%", "..%2F", "ыы"])
@needs("pdftotext")
def test_an_unknown_receipt_number_is_not_found(support, disputed, number):
    assert support.get(f"/support/receipts/{number}").status_code == 404
    assert support.get(f"/support/receipts/{number}.pdf").status_code == 404


# Working discrepancies


def post_note(client, page_url: str, discrepancy, note: str, button: str, **kwargs):
    """Type a note into the discrepancy's form on the page and press the button."""
    prefix = f"d{discrepancy.id}-"
    token = csrf_token(client.get(page_url).text)
    return client.post(
        f"/support/discrepancies/{discrepancy.id}",
        data={f"{prefix}csrf_token": token, f"{prefix}note": note, f"{prefix}{button}": "y"},
        **kwargs,
    )


def only_discrepancy(app) -> Discrepancy:
    with app.app_context():
        [discrepancy] = db.session.scalars(db.select(Discrepancy)).all()
        db.session.expunge(discrepancy)
        return discrepancy


@needs("pdftotext")
def test_the_queue_lists_open_discrepancies_with_their_receipt(support, disputed):
    _handover, receipt = disputed
    page = support.get("/support/discrepancies", headers=EN).text
    assert receipt.number in page
    assert "Personal account access" in page


@needs("pdftotext")
def test_resolving_needs_a_note_and_keeps_what_was_typed(app, support, disputed):
    discrepancy = only_discrepancy(app)
    response = post_note(support, "/support/discrepancies", discrepancy, "  ", "resolved",
                         headers=EN)
    assert response.status_code == 400
    assert "Fill in this field." in response.text
    response = post_note(support, "/support/discrepancies", discrepancy, "<i>x</i>" * 200,
                         "resolved", headers=EN)
    assert response.status_code == 400
    assert "Use at most 1000 characters." in response.text
    assert "&lt;i&gt;x&lt;/i&gt;" in response.text
    assert only_discrepancy(app).status == "open"
    assert events(app, "discrepancy.resolved") == []


@needs("pdftotext")
def test_a_discrepancy_is_worked_to_resolution_and_the_receipt_never_changes(
    app, support, agent, disputed
):
    _handover, receipt = disputed
    discrepancy = only_discrepancy(app)
    receipt_page = f"/support/receipts/{receipt.number}"

    response = post_note(
        support, "/support/discrepancies", discrepancy, "Позвонили, абонент ждёт логин",
        "contacted", query_string={"next": "/support/discrepancies"},
    )
    assert response.headers["Location"] == "/support/discrepancies"
    assert only_discrepancy(app).status == "contacted"
    assert receipt.number in support.get("/support/discrepancies").text  # still waiting

    post_note(support, receipt_page, discrepancy, "Логин выдан по SMS", "resolved")
    assert only_discrepancy(app).status == "resolved"
    assert receipt.number not in support.get("/support/discrepancies").text

    page = support.get(receipt_page, headers=EN).text
    assert "Позвонили, абонент ждёт логин" in page and "Логин выдан по SMS" in page
    assert "Resolved" in page and "Olga Support" in page
    [resolved] = events(app, "discrepancy.resolved")
    assert resolved.actor_id == agent.id
    assert resolved.details == {"discrepancy": discrepancy.id, "item": "portal_access",
                                "from": "contacted"}
    with app.app_context():
        stored = db.session.get(Receipt, receipt.id)
        assert hashlib.sha256(stored.pdf).hexdigest() == receipt.sha256 == stored.sha256

    # Resolved is final: a second agent's late click changes nothing.
    response = post_note(support, "/support/discrepancies", discrepancy, "again", "contacted",
                         headers=EN)
    assert response.status_code == 302
    assert "already resolved" in support.get(response.headers["Location"], headers=EN).text
    assert only_discrepancy(app).status == "resolved"


@pytest.mark.parametrize("number", ["999999", "99999999999999999999", "-1", "x"])
def test_an_unknown_discrepancy_is_not_found(support, number):
    assert support.get(f"/support/discrepancies/{number}").status_code == 404
    assert support.post(f"/support/discrepancies/{number}").status_code == 404


@needs("pdftotext")
def test_a_receipt_number_in_the_address_may_be_in_lower_case(support, disputed):
    _handover, receipt = disputed
    assert support.get(f"/support/receipts/{receipt.number.lower()}").status_code == 200


@needs("pdftotext")
def test_support_opening_a_handover_page_is_recorded_too(app, support, agent, disputed):
    handover, receipt = disputed
    assert support.get(f"/handovers/{handover.public_id}").status_code == 200
    [viewed] = events(app, "handover.viewed")
    assert viewed.actor_id == agent.id and viewed.handover_id == handover.id
    colleague = add_user(app, "colleague", Role.SUPPORT)
    page = app.test_client(user=colleague).get(
        f"/support/receipts/{receipt.number}", headers=EN
    ).text
    assert "Olga Support" in page.split("Who else opened")[1]


# Technicians' quality


@needs("pdftotext")
def test_quality_shows_who_leaves_logins_unconfirmed_and_links_to_the_receipts(
    app, technician, other_technician, support
):
    careless = all_yes_answers(portal_access="no", portal_access_comment="Не выдали")
    closed_with_receipt(app, technician, careless, subscriber_name="Анна Соколова")
    closed_with_receipt(app, technician, subscriber_name="Пётр Иванов", account_number="777")
    closed_with_receipt(app, other_technician, subscriber_name="Мария Ленская",
                        account_number="778")

    page = support.get("/support/technicians?sort=portal_access", headers=EN).text
    rows = re.findall(r'<tr>\s*<th scope="row">(.*?)</tr>', page, re.S)
    assert [re.match(r"([^<]*)", row).group(1).strip() for row in rows] == [
        "Name of tech", "Name of tech2"
    ]
    tech_row = rows[0]
    assert "50%" in tech_row  # one of two receipts without a confirmed login
    assert "Personal account access" in tech_row  # the most frequent discrepancy

    link = re.search(r'href="([^"]*unconfirmed=portal_access[^"]*)"', tech_row).group(1)
    behind = support.get(link.replace("&amp;", "&"), headers=EN).text
    assert re.findall(r'<span class="job-title">([^<]*)</span>', behind) == ["Анна Соколова"]


def test_quality_refuses_a_bad_period_with_a_message(support):
    response = support.get("/support/technicians?since=yesterday", headers=EN)
    assert response.status_code == 400
    assert "Enter a date as YYYY-MM-DD" in response.text
    response = support.get("/support/technicians?since=0001-01-01&until=9999-12-31", headers=EN)
    assert response.status_code == 400
    assert "Enter a date from 2000 to 2099." in response.text


# Loose search over many candidates


def test_filters_apply_before_the_candidates_are_cut(app, technician, other_technician,
                                                     support, monkeypatch):
    from webapp.support import search

    monkeypatch.setattr(search, "CANDIDATES", 3)
    make_handover(app, other_technician, subscriber_name="Анна Соколова (старая)")
    for number in range(3):
        make_handover(app, technician, subscriber_name=f"Анна Соколова {number}")
    assert found(support, "Саколова", technician=str(other_technician.id)) == [
        "Анна Соколова (старая)"
    ]


def test_a_typo_in_every_word_in_any_order_still_finds(support, subscribers):
    assert found(support, "Ленона Саколова")[0] == "Анна Соколова"


def test_page_links_carry_only_the_search(app, technician, support):
    app.config["HANDOVERS_PER_PAGE"] = 1
    for number in range(2):
        make_handover(app, technician, subscriber_name=f"Анна Соколова {number}")
    for junk in ("_method=POST", "endpoint=x", "page=1&page=2", "_external=1"):
        response = support.get(f"/support/?q=Соколова&{junk}")
        assert response.status_code == 200, junk
        links = re.findall(r'href="(/support/\?[^"]*page=[^"]*)"', response.text)
        assert links and not any("_method" in link or "endpoint" in link for link in links)


@needs("pdftotext")
def test_reading_discrepancies_is_recorded(app, support, agent, disputed):
    discrepancy = only_discrepancy(app)
    support.get("/support/discrepancies")
    support.get(f"/support/discrepancies/{discrepancy.id}")
    viewed = events(app, "handover.viewed")
    assert len(viewed) == 2 and {e.actor_id for e in viewed} == {agent.id}


@needs("pdftotext")
def test_quality_links_work_for_someone_no_longer_a_technician(app, technician, support):
    closed_with_receipt(app, technician, subscriber_name="Анна Соколова")
    with app.app_context():
        from webapp.models import User

        db.session.get(User, technician.id).role = "support"
        db.session.commit()
    response = support.get(f"/support/?technician={technician.id}&status=closed", headers=EN)
    assert response.status_code == 200
    assert "Анна Соколова" in response.text


def test_quality_with_only_an_end_date_shows_the_month_before_it(support):
    page = support.get("/support/technicians?until=2026-01-31", headers=EN).text
    assert "from 1 Jan 2026 to 31 Jan 2026" in page
