"""The subscriber's link: opening, answering, signing once, and what the technician sees."""

import re
import threading

import pytest

from tests.conftest import (
    all_yes_answers,
    csrf_token,
    drawn_signature,
    freeze,
    hidden_fields,
    make_handover,
    post_form,
    press,
    submit_checklist,
    valid_form,
)
from tests.tools import needs
from webapp.db_types import now_utc
from webapp.extensions import db
from webapp.models import AuditEvent, ChecklistAnswer, Discount, Discrepancy, Handover, Signature

EN = {"Accept-Language": "en"}
UNAVAILABLE = "This link cannot be used"


@pytest.fixture
def handover(app, technician):
    return make_handover(app, technician)


@pytest.fixture
def token(app, handover):
    return freeze(app, handover)


def stored(app, handover) -> Handover:
    with app.app_context():
        fresh = db.session.get(Handover, handover.id)
        for relation in (fresh.answers, fresh.signatures, fresh.discrepancies, fresh.discounts):
            len(relation)
        db.session.expunge_all()
        return fresh


def events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(db.select(AuditEvent).where(AuditEvent.event == name)).all()


def count(app, model) -> int:
    with app.app_context():
        return db.session.query(model).count()


# --- The technician hands the facts over -------------------------------------------------


def test_ready_for_the_subscriber_shows_a_qr_code_and_link(app, technician, handover):
    tech = app.test_client(user=technician)
    response = press(tech, handover, "freeze")
    assert response.status_code == 302

    page = tech.get(f"/handovers/{handover.public_id}", headers=EN).text
    assert "Show this code to the subscriber" in page
    assert '<svg width="' in page and 'class="segno"' in page
    link = re.search(r'class="link-box"><a href="http://localhost(/s/[^"]+)"', page).group(1)
    opened = app.test_client().get(link, headers=EN)
    assert opened.status_code == 200 and "Check your installation" in opened.text
    assert stored(app, handover).status == "awaiting_subscriber"
    assert events(app, "handover.frozen")[0].actor_id == technician.id


def test_frozen_facts_cannot_be_edited(app, technician, handover, token):
    tech = app.test_client(user=technician)
    page = tech.get(f"/handovers/{handover.public_id}")
    tech.post(
        f"/handovers/{handover.public_id}/edit",
        data={"csrf_token": csrf_token(page.text), **valid_form(tariff_name="Changed")},
    )
    assert stored(app, handover).tariff_name == "Home 300"


def test_taking_the_facts_back_keeps_the_link_and_bumps_the_version(
    app, technician, handover, token
):
    tech = app.test_client(user=technician)
    reopened = press(tech, handover, "reopen")
    assert reopened.headers["Location"] == f"/handovers/{handover.public_id}/edit"

    subscriber = app.test_client()
    waiting = subscriber.get(f"/s/{token}", headers=EN)
    assert waiting.status_code == 200
    assert "The details are being updated" in waiting.text

    post_form(tech, f"/handovers/{handover.public_id}/edit", valid_form(tariff_name="Home 500"))
    assert freeze(app, handover) == token
    assert stored(app, handover).facts_version == 2
    assert "Home 500" in subscriber.get(f"/s/{token}").text


def test_only_the_own_technician_freezes(app, other_technician, handover):
    intruder = app.test_client(user=other_technician)
    response = press(intruder, handover, "freeze")  # the token comes from the 404 page
    assert response.status_code == 404
    assert stored(app, handover).status == "draft"


def test_status_is_reported_as_json_for_the_live_page(app, technician, handover, token):
    response = app.test_client(user=technician).get(f"/handovers/{handover.public_id}/status")
    assert response.json == {"status": "awaiting_subscriber", "facts_version": 1}


# --- Opening the link --------------------------------------------------------------------


def test_subscriber_page_shows_the_facts_privately_and_is_audited(app, handover, token):
    response = app.test_client().get(f"/s/{token}", headers={**EN, "User-Agent": "Phone/1"})
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    for fact in ("lk-pavel", "Home 300", "1234567890", "Perm, Mira st. 10", "Name of tech"):
        assert fact in response.text
    assert "charged every day" in response.text  # the credit method is explained
    (opened,) = events(app, "subscriber.link_opened")
    assert opened.user_agent == "Phone/1" and opened.actor_id is None


def test_subscriber_page_is_russian_by_default(app, token):
    response = app.test_client().get(f"/s/{token}")
    assert response.status_code == 200
    assert '<html lang="ru">' in response.text
    assert "Проверьте ваше подключение" in response.text
    assert "Check your installation" not in response.text


def alter(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def expire(app, handover) -> None:
    with app.app_context():
        db.session.get(Handover, handover.id).link_expires_at = now_utc()
        db.session.commit()


# A used link is not among them: another browser is told where the signed receipt is
# kept (test_a_used_link_shows_the_summary_only_to_the_browser_that_signed).
@pytest.mark.parametrize(
    "kind", ["altered", "short", "expired", "markup", "taken_back_then_expired"]
)
def test_bad_links_all_get_the_same_page(app, technician, handover, token, kind):
    if kind == "expired":
        expire(app, handover)
    elif kind == "taken_back_then_expired":
        with app.app_context():
            from webapp.handovers import workflow

            workflow.reopen(db.session.get(Handover, handover.id))
            db.session.commit()
        expire(app, handover)
    path = {
        "altered": f"/s/{alter(token)}", "short": f"/s/{token[:10]}",
        "markup": "/s/%3Cscript%3E",
    }.get(kind, f"/s/{token}")

    def page(path):
        response = app.test_client().get(path, headers=EN)
        assert response.status_code == 404
        assert response.headers["Referrer-Policy"] == "no-referrer"
        # Only the page's own path (in the language switch) and its form token differ.
        return re.sub(r'name="(csrf_token|next)" type="hidden" value="[^"]*"', "", response.text)

    unknown = page("/s/" + "x" * 24)
    assert UNAVAILABLE in unknown and "Pavel Orlov" not in unknown
    assert page(path) == unknown


def test_a_draft_never_frozen_has_no_working_link(app, handover):
    with app.app_context():
        hashes = db.session.scalars(db.select(Handover.link_token_hash)).all()
    assert hashes == [None]


# --- Signing -----------------------------------------------------------------------------


def test_subscriber_signs_with_a_finger_and_sees_no_discrepancies(app, technician, handover, token):
    subscriber = app.test_client()
    response = submit_checklist(subscriber, token, all_yes_answers(), headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/s/{token}"

    done = subscriber.get(f"/s/{token}", headers=EN)
    assert "Thank you, you have signed" in done.text
    assert "No discrepancies" in done.text

    signed = stored(app, handover)
    assert signed.status == "subscriber_signed"
    assert {(a.item, a.confirmed) for a in signed.answers} == {
        (item, True) for item in ("portal_access", "full_contract", "tariff", "discounts",
                                  "billing_method", "equipment", "technician")
    }
    (signature,) = signed.signatures
    assert signature.signer == "subscriber"
    assert signature.drawing["strokes"] == [[[10, 80], [60, 40], [120, 90], [200, 30]]]
    assert signed.discrepancies == []

    page = app.test_client(user=technician).get(f"/handovers/{handover.public_id}", headers=EN)
    assert 'd="M10 80L60 40L120 90L200 30"' in page.text
    assert "Signed by subscriber" in page.text
    assert len(events(app, "subscriber.signed")) == 1


def test_a_no_on_discounts_with_a_different_promise_becomes_a_discrepancy(
    app, technician, handover, token
):
    answers = all_yes_answers(**{
        "discounts": "no",
        "discounts_comment": "The seller promised half price",
        "discounts_stated-0-description": "Half price",
        "discounts_stated-0-kind": "percent",
        "discounts_stated-0-value": "50",
        "discounts_stated-0-months": "12",
    })
    subscriber = app.test_client()
    assert submit_checklist(subscriber, token, answers).status_code == 302

    signed = stored(app, handover)
    (discrepancy,) = signed.discrepancies
    assert (discrepancy.item, discrepancy.source, discrepancy.status) == (
        "discounts", "subscriber", "open"
    )
    assert discrepancy.recorded == {"discounts": []}
    assert discrepancy.stated["not_in_application"] == [
        {"description": "Half price", "kind": "percent", "value": "50.00", "months": 12}
    ]
    assert [(d.source, d.value) for d in signed.discounts] == [("subscriber", 50)]

    for page in (
        subscriber.get(f"/s/{token}", headers=EN).text,
        app.test_client(user=technician).get(f"/handovers/{handover.public_id}", headers=EN).text,
    ):
        assert "1 discrepancy" in page
        assert "Half price: 50 %, for 12 months" in page
        assert "The seller promised half price" in page


def test_sales_promises_are_compared_even_when_the_subscriber_says_yes(app, handover, token):
    from decimal import Decimal

    with app.app_context():
        db.session.add(Discount(handover_id=handover.id, source="sales", description="Promo",
                                kind="amount", value=Decimal("100"), months=3))
        db.session.commit()
    submit_checklist(app.test_client(), token, all_yes_answers())
    (discrepancy,) = stored(app, handover).discrepancies
    assert discrepancy.source == "sales"
    assert discrepancy.stated["not_in_application"][0]["value"] == "100.00"


def test_typed_name_signs_when_there_is_no_drawing(app, handover, token):
    answers = all_yes_answers(signature="", typed_name="Pavel Orlov")
    assert submit_checklist(app.test_client(), token, answers).status_code == 302
    (signature,) = stored(app, handover).signatures
    assert (signature.drawing, signature.typed_name) == (None, "Pavel Orlov")


def error_beside(html, field_id):
    import re

    match = re.search(rf'id="{field_id}-error">([^<]*)<', html)
    return match.group(1) if match else ""


def test_unanswered_items_come_back_marked_with_the_answers_kept(app, handover, token):
    answers = all_yes_answers(tariff=None, equipment=None, technician_comment="ignored")
    response = submit_checklist(app.test_client(), token, answers, headers=EN)

    assert response.status_code == 400
    assert error_beside(response.text, "tariff") == "Answer Yes or No."
    assert error_beside(response.text, "equipment") == "Answer Yes or No."
    assert 'checked id="portal_access-0"' in response.text or (
        'id="portal_access-0" name="portal_access" type="radio" value="yes" checked'
        in response.text
    )
    assert "M10 80" not in response.text  # kept as data for the pad, not drawn server-side
    assert drawn_signature().replace('"', "&#34;") in response.text
    assert stored(app, handover).status == "awaiting_subscriber"
    assert count(app, Signature) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"consent": None}, "consent", "Tick the consent to sign."),
        ({"signature": ""}, "signature", "Sign in the box, or type your full name instead."),
        ({"signature": "not json"}, "signature",
         "The signature could not be read. Clear it and sign again."),
        ({"signature": drawn_signature([[[1, 1]]] * 51)}, "signature",
         "The signature has too many strokes (at most 50). Clear it and sign again."),
        ({"signature": drawn_signature([[[1, 1]] * 5001])}, "signature",
         "The signature is too long. Clear it and sign again."),
        ({"signature": drawn_signature([[[999, 1]]])}, "signature",
         "The signature goes outside the box. Clear it and sign again."),
        ({"typed_name": "A" * 201, "signature": ""}, "typed_name", "Use at most 200 characters."),
        ({"tariff": "maybe"}, "tariff", "Choose one of the options offered."),
        ({"tariff": "no", "tariff_fee_stated": "abc"}, "tariff_fee_stated",
         "Enter a number with at most two decimals, for example 499.90."),
        ({"tariff": "no", "tariff_fee_stated": "500"}, "tariff_fee_stated",
         "Also type the name of the tariff you were offered."),
        ({"equipment": "no", "equipment_serials_stated": "SN 1; <b>"}, "equipment_serials_stated",
         "Type serial numbers in Latin letters, digits and “-”, separated by commas."),
        ({"discounts": "no", "discounts_stated-0-description": "Half",
          "discounts_stated-0-value": "150", "discounts_stated-0-months": "1"},
         "discounts_stated-0-value", "Enter more than 0 and at most 100."),
        ({"portal_access": "no", "portal_access_comment": "x" * 501}, "portal_access_comment",
         "Use at most 500 characters."),
    ],
)
def test_bad_answers_get_a_clear_message_and_nothing_is_stored(
    app, handover, token, overrides, field, message
):
    response = submit_checklist(app.test_client(), token, all_yes_answers(**overrides), headers=EN)
    assert response.status_code == 400
    assert error_beside(response.text, field) == message
    assert stored(app, handover).status == "awaiting_subscriber"
    assert count(app, Signature) == 0 and count(app, ChecklistAnswer) == 0


def test_what_is_said_instead_is_ignored_on_a_yes(app, handover, token):
    answers = all_yes_answers(tariff_fee_stated="abc", portal_access_comment="stray text")
    assert submit_checklist(app.test_client(), token, answers).status_code == 302
    assert all(a.comment is None for a in stored(app, handover).answers)


def test_a_post_without_csrf_token_is_rejected(app, handover, token):
    subscriber = app.test_client()
    page = subscriber.get(f"/s/{token}", headers=EN)
    fields = hidden_fields(page.text)
    del fields["csrf_token"]
    response = subscriber.post(f"/s/{token}", data={**fields, **all_yes_answers()}, headers=EN)
    assert response.status_code == 400
    assert "The form had expired" in response.text
    assert stored(app, handover).status == "awaiting_subscriber"


def test_answers_to_changed_facts_are_invalidated(app, technician, handover, token):
    subscriber = app.test_client()
    page = subscriber.get(f"/s/{token}", headers=EN)

    tech = app.test_client(user=technician)
    press(tech, handover, "reopen")
    post_form(tech, f"/handovers/{handover.public_id}/edit", valid_form(tariff_name="Home 900"))
    freeze(app, handover)

    response = subscriber.post(
        f"/s/{token}", data={**hidden_fields(page.text), **all_yes_answers()}, headers=EN
    )
    assert "The technician changed the details after you opened this page" in response.text
    assert "Home 900" in response.text
    assert 'value="yes" checked' not in response.text and "checked" not in response.text
    assert stored(app, handover).status == "awaiting_subscriber"


# --- Exactly once ------------------------------------------------------------------------


def test_a_used_link_shows_the_summary_only_to_the_browser_that_signed(app, handover, token):
    signer = app.test_client()
    submit_checklist(signer, token, all_yes_answers())

    assert "Thank you" in signer.get(f"/s/{token}", headers=EN).text
    stranger = app.test_client().get(f"/s/{token}", headers=EN)
    # Nothing of the job, only where its receipt will be (tests/test_receipt_access.py).
    assert stranger.status_code == 404 and "The receipt has been signed" in stranger.text
    assert "Pavel Orlov" not in stranger.text and 'href="/r"' in stranger.text


def test_a_retry_after_a_lost_response_signs_once_and_shows_the_result(app, handover, token):
    signer = app.test_client()
    page = signer.get(f"/s/{token}")
    data = {**hidden_fields(page.text), **all_yes_answers()}
    first = signer.post(f"/s/{token}", data=data)

    # The response never arrived, so neither did the cookie: the same form is sent again.
    retry_browser = app.test_client()
    retry_browser.set_cookie("session", signer.get_cookie("session").value)
    retried = retry_browser.post(f"/s/{token}", data=data)
    assert first.status_code == retried.status_code == 302
    assert count(app, Signature) == 1
    assert len(events(app, "subscriber.signed")) == 1


def test_a_second_phone_cannot_sign_after_the_first(app, handover, token):
    first, second = app.test_client(), app.test_client()
    page = second.get(f"/s/{token}")
    submit_checklist(first, token, all_yes_answers())

    response = second.post(f"/s/{token}", data={**hidden_fields(page.text), **all_yes_answers()})
    assert response.status_code == 404
    assert count(app, Signature) == 1


@pytest.mark.parametrize("same_submission", [True, False])
def test_simultaneous_submissions_sign_exactly_once(app, handover, token, same_submission):
    clients = [app.test_client() for _ in range(2)]
    pages = [c.get(f"/s/{token}") for c in clients]
    forms = [{**hidden_fields(p.text), **all_yes_answers()} for p in pages]
    if same_submission:  # a double tap sends one form twice
        forms[1]["submission_id"] = forms[0]["submission_id"]
    start = threading.Barrier(2)
    responses = [None, None]

    def submit(index):
        start.wait()
        responses[index] = clients[index].post(f"/s/{token}", data=forms[index])

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    codes = sorted(r.status_code for r in responses)
    assert codes == ([302, 302] if same_submission else [302, 404])
    assert count(app, Signature) == 1
    assert count(app, ChecklistAnswer) == 7
    assert len(events(app, "subscriber.signed")) == 1
    assert stored(app, handover).status == "subscriber_signed"


# --- Closing -----------------------------------------------------------------------------


def test_closing_before_the_subscriber_signs_is_refused(app, technician, handover, token):
    tech = app.test_client(user=technician)
    response = press(tech, handover, "close", {"typed_name": "Tech"},
                     follow_redirects=True, headers=EN)
    assert "The job can be closed only after the subscriber has signed." in response.text
    assert stored(app, handover).status == "awaiting_subscriber"


@needs("pdftotext")
def test_technician_countersigns_and_closes(app, technician, handover, token):
    submit_checklist(app.test_client(), token, all_yes_answers())
    tech = app.test_client(user=technician)
    page = tech.get(f"/handovers/{handover.public_id}", headers=EN)
    assert "Countersign and close the job" in page.text

    response = press(tech, handover, "close", {"signature": drawn_signature()})
    assert response.status_code == 302
    closed = stored(app, handover)
    assert closed.status == "closed" and closed.closed_at is not None
    assert sorted(s.signer for s in closed.signatures) == ["subscriber", "technician"]
    assert len(events(app, "handover.closed")) == 1
    assert len(events(app, "technician.countersigned")) == 1


def test_countersigning_needs_a_signature(app, technician, handover, token):
    submit_checklist(app.test_client(), token, all_yes_answers())
    tech = app.test_client(user=technician)
    response = press(tech, handover, "close", {"signature": ""}, headers=EN)
    assert response.status_code == 400
    assert "Sign in the box, or type your full name instead." in response.text
    assert stored(app, handover).status == "subscriber_signed"


def test_markup_in_answers_is_shown_as_text(app, technician, handover, token):
    answers = all_yes_answers(
        technician="no", technician_comment="<script>alert(1)</script>",
        signature="", typed_name="<b>Pavel</b>",
    )
    subscriber = app.test_client()
    submit_checklist(subscriber, token, answers)
    for page in (
        subscriber.get(f"/s/{token}").text,
        app.test_client(user=technician).get(f"/handovers/{handover.public_id}").text,
    ):
        assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    tech_page = app.test_client(user=technician).get(f"/handovers/{handover.public_id}").text
    assert "&lt;b&gt;Pavel&lt;/b&gt;" in tech_page


def test_every_step_is_audited(app, technician, handover, token):
    subscriber = app.test_client()
    submit_checklist(subscriber, token, all_yes_answers(consent=None))
    submit_checklist(subscriber, token, all_yes_answers())
    with app.app_context():
        names = db.session.scalars(db.select(AuditEvent.event).order_by(AuditEvent.id)).all()
        results = [
            e.details["result"] for e in db.session.scalars(
                db.select(AuditEvent).where(AuditEvent.event == "subscriber.submitted")
            )
        ]
    assert names == [
        "handover.frozen", "subscriber.link_opened", "subscriber.submitted",
        "subscriber.link_opened", "subscriber.signed", "subscriber.submitted",
    ]
    assert results == ["invalid", "signed"]
    assert count(app, Discrepancy) == 0


def test_a_stated_tariff_without_a_fee_keeps_the_fee_unstated(app, technician, handover, token):
    answers = all_yes_answers(tariff="no", tariff_name_stated="Home 900")
    submit_checklist(app.test_client(), token, answers)
    (discrepancy,) = stored(app, handover).discrepancies
    assert discrepancy.stated["tariff"] == {"name": "Home 900", "fee": None}
    page = app.test_client(user=technician).get(f"/handovers/{handover.public_id}", headers=EN)
    assert "Home 900</dd>" in page.text


def test_huge_numbers_in_a_signature_are_refused_clearly(app, handover, token):
    signature = '{"width": 1' + "0" * 400 + ', "height": 150, "strokes": [[[1, 1]]]}'
    response = submit_checklist(
        app.test_client(), token, all_yes_answers(signature=signature), headers=EN
    )
    assert response.status_code == 400
    assert "The signature could not be read." in response.text


def test_the_facts_cannot_be_taken_back_once_signed(app, technician, handover, token):
    with app.app_context():
        loaded = db.session.get(Handover, handover.id)  # read before the subscriber signs
        submit_checklist(app.test_client(), token, all_yes_answers())
        from webapp.domain.states import TransitionRefused
        from webapp.handovers import workflow

        with pytest.raises(TransitionRefused):
            workflow.reopen(loaded)
        assert loaded.status == "subscriber_signed"

    tech = app.test_client(user=technician)
    press(tech, handover, "reopen")
    assert stored(app, handover).status == "subscriber_signed"
    page = tech.get(f"/handovers/{handover.public_id}", headers=EN)
    assert "Countersign and close the job" in page.text


def test_an_edit_overtaken_by_handing_over_saves_nothing_and_keeps_the_input(
    app, technician, handover, monkeypatch
):
    from sqlalchemy import update

    from webapp.handovers import routes

    record_facts = routes.record_facts

    def overtaken(*args, **kwargs):
        # Another tab hands the facts over after this request found a draft.
        with db.engine.begin() as other:
            other.execute(
                update(Handover)
                .where(Handover.id == handover.id)
                .values(status="awaiting_subscriber", row_version=Handover.row_version + 1)
            )
        return record_facts(*args, **kwargs)

    monkeypatch.setattr(routes, "record_facts", overtaken)
    tech = app.test_client(user=technician)
    url = f"/handovers/{handover.public_id}/edit"
    response = post_form(tech, url, valid_form(tariff_name="Late"), headers=EN)

    assert response.status_code == 409
    assert "nothing was saved" in response.text
    assert 'value="Late"' in response.text
    assert stored(app, handover).tariff_name == "Home 300"


def test_the_technician_shown_is_the_one_at_hand_over(app, technician, handover, token):
    from webapp.models import User

    with app.app_context():
        db.session.get(User, technician.id).full_name = "Renamed Later"
        db.session.commit()
    page = app.test_client().get(f"/s/{token}", headers=EN).text
    assert "Name of tech" in page and "Renamed Later" not in page
