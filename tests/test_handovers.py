"""The technician's jobs: creating, listing, viewing and editing handovers."""

import re
from decimal import Decimal

import pytest

from tests.conftest import add_user, csrf_token, make_handover, post_form, valid_form
from webapp.domain.terms import DiscountSource, HandoverStatus, Role
from webapp.extensions import db
from webapp.models import AuditEvent, Discount, Handover

EN = {"Accept-Language": "en"}


@pytest.fixture
def tech_client(app, technician):
    return app.test_client(user=technician)


def only_handover(app) -> Handover:
    with app.app_context():
        handover = db.session.scalars(db.select(Handover)).one()
        handover.discounts, handover.equipment, handover.technician  # noqa: B018 - load now
        db.session.expunge_all()
        return handover


def test_technician_creates_a_handover_with_discounts_and_equipment(app, tech_client, technician):
    form = valid_form(**{
        "discounts-1-description": "Роутер за 1 ₽",
        "discounts-1-kind": "amount",
        "discounts-1-value": "98,00",
        "discounts-1-permanent": "y",
    })
    response = post_form(tech_client, "/handovers/new", form, headers=EN)

    handover = only_handover(app)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/handovers/{handover.public_id}"
    assert handover.technician_id == technician.id
    assert handover.status == HandoverStatus.DRAFT
    assert handover.phone == "+79123456789"
    assert handover.monthly_fee == Decimal("650.00")
    assert handover.services == ["internet", "tv"]
    assert handover.documents == ["full_contract", "settings_sheet"]
    assert [(d.description, d.kind, d.value, d.months, d.source) for d in handover.discounts] == [
        ("Скидка новому абоненту", "percent", Decimal("20.00"), 6, "application"),
        ("Роутер за 1 ₽", "amount", Decimal("98.00"), None, "application"),
    ]
    assert [(e.serial, e.terms, e.monthly_fee) for e in handover.equipment] == [
        ("TPL-22C6-00017", "rented", Decimal("99.00"))
    ]

    page = tech_client.get(response.headers["Location"], headers=EN)
    assert "Анна Соколова" in page.text
    assert "+7 912 345-67-89" in page.text
    assert "TPL-22C6-00017" in page.text
    assert "6 months" in page.text
    assert "permanent" in page.text


def test_new_form_offers_empty_rows_that_work_without_javascript(tech_client):
    page = tech_client.get("/handovers/new")
    assert 'name="discounts-1-description"' in page.text
    assert 'name="equipment-1-serial"' in page.text
    assert 'src="/static/js/rows.js"' in page.text


def test_empty_rows_are_ignored(app, tech_client):
    form = valid_form(**{
        "discounts-0-description": "", "discounts-0-value": "", "discounts-0-months": "",
        "discounts-1-kind": "amount",
        "equipment-0-model": "", "equipment-0-serial": "", "equipment-0-monthly_fee": "",
    })
    response = post_form(tech_client, "/handovers/new", form)
    assert response.status_code == 302
    handover = only_handover(app)
    assert handover.discounts == []
    assert handover.equipment == []


def test_no_portal_login_is_recorded_as_none(app, tech_client):
    post_form(tech_client, "/handovers/new", valid_form(portal_login=""))
    assert only_handover(app).portal_login is None


def test_list_shows_only_own_jobs_newest_first(app, technician, other_technician, tech_client):
    make_handover(app, technician, subscriber_name="First Subscriber")
    make_handover(app, other_technician, subscriber_name="Someone Else")
    make_handover(app, technician, subscriber_name="Second Subscriber")

    page = tech_client.get("/handovers/", headers=EN).text
    assert "Someone Else" not in page
    assert page.index("Second Subscriber") < page.index("First Subscriber")
    assert "Draft" in page


def test_list_is_paginated(app, technician, tech_client):
    app.config["HANDOVERS_PER_PAGE"] = 2
    for number in range(3):
        make_handover(app, technician, subscriber_name=f"Subscriber {number}")
    first = tech_client.get("/handovers/", headers=EN).text
    second = tech_client.get("/handovers/?page=2", headers=EN).text
    assert "Subscriber 2" in first and "Subscriber 0" not in first
    assert 'href="/handovers/?page=2">Older' in first and "Newer" not in first
    assert "Subscriber 0" in second and "Page 2 of 2" in second
    assert 'href="/handovers/?page=1">Newer' in second and "Older" not in second


@pytest.mark.parametrize("path", ["", "/edit"])
def test_another_technicians_handover_is_not_found(app, other_technician, tech_client, path):
    handover = make_handover(app, other_technician)
    response = tech_client.get(f"/handovers/{handover.public_id}{path}")
    assert response.status_code == 404


def test_another_technicians_handover_cannot_be_changed_by_post(app, other_technician, tech_client):
    handover = make_handover(app, other_technician, tariff_name="Original")
    own = tech_client.get("/handovers/new")
    response = tech_client.post(
        f"/handovers/{handover.public_id}/edit",
        data={"csrf_token": csrf_token(own.text), **valid_form(tariff_name="Hijacked")},
    )
    assert response.status_code == 404
    with app.app_context():
        assert db.session.get(Handover, handover.id).tariff_name == "Original"


def test_unknown_handover_is_not_found(tech_client):
    assert tech_client.get("/handovers/does-not-exist").status_code == 404


def test_technician_edits_a_draft_and_the_change_is_audited(app, technician, tech_client):
    handover = make_handover(app, technician, tariff_name="Home 300")
    url = f"/handovers/{handover.public_id}/edit"

    page = tech_client.get(url)
    assert 'value="Home 300"' in page.text
    assert 'value="+79123456789"' in page.text

    response = post_form(tech_client, url, valid_form(tariff_name="Home 500"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Handover, handover.id).tariff_name == "Home 500"
        event = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.event == "handover.updated")
        ).one()
        assert event.actor_id == technician.id
        assert "tariff_name" in event.details["changed"]


def test_editing_keeps_discounts_promised_by_sales(app, technician, tech_client):
    handover = make_handover(app, technician)
    with app.app_context():
        db.session.add(Discount(
            handover_id=handover.id, source=DiscountSource.SALES, description="Sales promise",
            kind="percent", value=Decimal("10"), months=3,
        ))
        db.session.commit()

    post_form(tech_client, f"/handovers/{handover.public_id}/edit", valid_form())

    with app.app_context():
        sources = sorted(d.source for d in db.session.get(Handover, handover.id).discounts)
        assert sources == ["application", "sales"]


def test_existing_rows_are_shown_for_editing_with_permanent_ticked(app, tech_client):
    form = valid_form(**{"discounts-0-months": "", "discounts-0-permanent": "y"})
    post_form(tech_client, "/handovers/new", form)
    handover = only_handover(app)
    page = tech_client.get(f"/handovers/{handover.public_id}/edit").text
    assert 'value="Скидка новому абоненту"' in page
    assert '<input checked id="discounts-0-permanent"' in page
    assert re.search(r'<input[^>]*name="discounts-0-months"[^>]*value=""', page)


def test_edit_page_offers_empty_rows_after_the_existing_ones(app, tech_client):
    form = valid_form(**{
        "discounts-1-description": "Second", "discounts-1-kind": "percent",
        "discounts-1-value": "5", "discounts-1-months": "2",
    })
    post_form(tech_client, "/handovers/new", form)
    page = tech_client.get(f"/handovers/{only_handover(app).public_id}/edit").text

    assert 'value="Second"' in page
    # Two stored discounts plus two empty ones to type into without JavaScript.
    assert re.search(r'name="discounts-3-description"[^>]*value=""', page)
    assert 'name="discounts-4-description"' not in page
    assert re.search(r'name="equipment-2-serial"[^>]*value=""', page)


def test_adding_a_row_on_edit_marks_the_handover_updated(app, tech_client):
    post_form(tech_client, "/handovers/new", valid_form())
    before = only_handover(app)
    form = valid_form(**{
        "equipment-1-kind": "tv_box", "equipment-1-model": "Box", "equipment-1-serial": "BOX-1",
        "equipment-1-terms": "sold", "equipment-1-monthly_fee": "0",
    })
    post_form(tech_client, f"/handovers/{before.public_id}/edit", form)

    after = only_handover(app)
    assert [e.serial for e in after.equipment] == ["TPL-22C6-00017", "BOX-1"]
    assert after.updated_at > before.updated_at


@pytest.mark.parametrize(
    "status",
    [HandoverStatus.AWAITING_SUBSCRIBER, HandoverStatus.SUBSCRIBER_SIGNED, HandoverStatus.CLOSED],
)
def test_handover_cannot_be_edited_once_shown_to_the_subscriber(
    app, technician, tech_client, status
):
    handover = make_handover(app, technician, status=status, tariff_name="Frozen")
    url = f"/handovers/{handover.public_id}/edit"

    response = tech_client.get(url, follow_redirects=True, headers=EN)
    assert "These facts are with the subscriber" in response.text

    tech_client.post(url, data={"csrf_token": csrf_token(response.text), **valid_form()})
    with app.app_context():
        assert db.session.get(Handover, handover.id).tariff_name == "Frozen"


def test_creating_a_handover_is_audited_with_request_details(app, tech_client, technician):
    tablet = {"User-Agent": "TabletBrowser/1"}
    post_form(tech_client, "/handovers/new", valid_form(), headers=tablet)
    with app.app_context():
        event = db.session.scalars(db.select(AuditEvent)).one()
        assert event.event == "handover.created"
        assert event.actor_id == technician.id
        assert event.user_agent == "TabletBrowser/1"
        assert event.created_at.tzinfo is not None


def test_timestamps_are_timezone_aware_utc(app, technician):
    handover = make_handover(app, technician)
    assert handover.created_at.utcoffset().total_seconds() == 0


def test_handover_ids_in_urls_are_not_sequential(app, technician):
    first = make_handover(app, technician)
    second = make_handover(app, technician)
    assert len(first.public_id) >= 16
    assert first.public_id != second.public_id
    assert not first.public_id.isdigit()


def test_admin_sees_every_technicians_jobs(app, technician, other_technician):
    make_handover(app, technician, subscriber_name="Job Of Tech")
    make_handover(app, other_technician, subscriber_name="Job Of Tech2")
    admin = app.test_client(user=add_user(app, "boss", Role.ADMIN))
    page = admin.get("/handovers/").text
    assert "Job Of Tech" in page and "Job Of Tech2" in page
