"""The technician's device handed to a subscriber who has no smartphone ("kiosk mode")."""

import pytest

from tests.conftest import (
    PASSWORD,
    add_user,
    all_yes_answers,
    csrf_token,
    freeze,
    make_handover,
    press,
    submit_checklist,
)
from webapp.domain.terms import HandoverStatus, Role
from webapp.extensions import db
from webapp.models import AuditEvent, Handover

EN = {"Accept-Language": "en"}
KIOSK_PAGE = "This device is with the subscriber"
TECHNICIAN_NAME = "Name of tech"  # conftest's add_user names the technician so


@pytest.fixture
def handover(app, technician):
    return make_handover(app, technician, phone="+79123456789")


@pytest.fixture
def token(app, handover):
    return freeze(app, handover)


@pytest.fixture
def tech(app, technician):
    return app.test_client(user=technician)


@pytest.fixture
def handed_over(tech, handover, token):
    """The technician's browser, handed to the subscriber on the job's page."""
    response = press(tech, handover, "kiosk")
    assert response.status_code == 302, response.text
    return tech


def hand_back(client, password: str = PASSWORD, **kwargs):
    """Type the technician's password on the kiosk page, as the technician would."""
    page = client.get("/kiosk/return", headers=EN)
    return client.post(
        "/kiosk/return",
        data={"csrf_token": csrf_token(page.text), "password": password},
        headers=EN,
        **kwargs,
    )


def events(app, name: str) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.event == name)
        ).all()


def status_of(app, handover) -> str:
    with app.app_context():
        return db.session.get(Handover, handover.id).status


def shows_nothing_of_the_staff(html: str) -> None:
    assert 'href="/handovers' not in html
    assert 'href="/support' not in html
    assert 'href="/admin' not in html
    assert "Sign out" not in html
    assert 'class="who"' not in html


# --- Handing the device over -----------------------------------------------------------------


def test_the_job_page_offers_to_hand_the_device_over_while_awaiting_the_subscriber(
    tech, handover, token
):
    page = tech.get(f"/handovers/{handover.public_id}", headers=EN)
    assert "Hand this device to the subscriber" in page.text
    assert f'action="/handovers/{handover.public_id}/kiosk"' in page.text


def test_a_draft_offers_no_handing_over_and_refuses_it(app, tech, handover):
    page = tech.get(f"/handovers/{handover.public_id}", headers=EN)
    assert "Hand this device to the subscriber" not in page.text

    response = tech.post(f"/handovers/{handover.public_id}/kiosk",
                         data={"csrf_token": csrf_token(page.text)}, headers=EN)

    assert response.headers["Location"] == f"/handovers/{handover.public_id}"
    page = tech.get(response.headers["Location"], headers=EN)
    assert "Only a job that awaits the subscriber" in page.text
    assert tech.get("/handovers/", headers=EN).status_code == 200  # not handed over
    assert events(app, "handover.device_handed_over") == []


def test_handing_the_device_over_opens_the_subscribers_page(tech, handover, token):
    response = press(tech, handover, "kiosk", headers=EN)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/s/{token}"
    page = tech.get(response.headers["Location"], headers=EN)
    assert page.status_code == 200
    assert "Check your installation" in page.text
    shows_nothing_of_the_staff(page.text)
    assert 'href="/kiosk/return"' in page.text  # the way back, behind the password


def test_handing_over_needs_the_pages_csrf_token(app, tech, handover, token):
    response = tech.post(f"/handovers/{handover.public_id}/kiosk", headers=EN)

    assert response.status_code == 400
    assert tech.get("/handovers/", headers=EN).status_code == 200
    assert events(app, "handover.device_handed_over") == []


def test_another_technicians_job_cannot_be_handed_over(app, handover, token):
    other = app.test_client(user=add_user(app, "tech2"))
    page = other.get("/handovers/", headers=EN)

    response = other.post(f"/handovers/{handover.public_id}/kiosk",
                          data={"csrf_token": csrf_token(page.text)}, headers=EN)

    assert response.status_code == 404
    assert other.get("/handovers/", headers=EN).status_code == 200
    agent = app.test_client(user=add_user(app, "agent", Role.SUPPORT))
    page = agent.get("/support/", headers=EN)
    response = agent.post(f"/handovers/{handover.public_id}/kiosk",
                          data={"csrf_token": csrf_token(page.text)}, headers=EN)
    assert response.status_code == 403
    assert events(app, "handover.device_handed_over") == []


# --- While the device is with the subscriber ----------------------------------------------


def test_staff_pages_show_only_the_kiosk_page(app, technician, handover, token, handed_over):
    other_job = make_handover(app, technician, subscriber_name="Maria Other",
                              order_number="ORD-2")
    for url in ("/handovers/", f"/handovers/{handover.public_id}",
                f"/handovers/{other_job.public_id}", "/handovers/new",
                f"/handovers/{handover.public_id}/edit", f"/handovers/{handover.public_id}/status",
                "/support/", "/support/discrepancies", "/admin/", "/admin/users", "/",
                "/logout", "/login", "/verify", "/no-such-page"):
        page = handed_over.get(url, headers=EN)
        assert page.status_code == 403, url
        assert KIOSK_PAGE in page.text, url
        assert TECHNICIAN_NAME not in page.text, url
        assert "Pavel Orlov" not in page.text and "Maria Other" not in page.text, url
        assert "ORD-2" not in page.text, url
        shows_nothing_of_the_staff(page.text)
        assert f'href="/s/{token}"' in page.text, url  # back to the subscriber's page


def test_staff_buttons_change_nothing_while_handed_over(app, handover, handed_over):
    token = csrf_token(handed_over.get("/kiosk/return").text)
    response = handed_over.post(f"/handovers/{handover.public_id}/reopen",
                                data={"csrf_token": token}, headers=EN)

    assert response.status_code == 403
    assert KIOSK_PAGE in response.text
    assert status_of(app, handover) == HandoverStatus.AWAITING_SUBSCRIBER


def test_static_files_and_the_health_check_stay_reachable(handed_over):
    assert handed_over.get("/healthz").status_code == 200
    with handed_over.get("/static/css/app.css") as stylesheet:
        assert stylesheet.status_code == 200


def test_error_pages_show_nothing_of_the_technician(handed_over, token):
    page = handed_over.get(f"/s/{token}/receipt.pdf", headers=EN)  # no receipt yet

    assert page.status_code == 404
    assert TECHNICIAN_NAME not in page.text
    shows_nothing_of_the_staff(page.text)


def test_staff_pages_are_kept_out_of_the_browsers_history(tech, handover, token):
    # So that Back, once the device is handed over, asks the server again.
    page = tech.get(f"/handovers/{handover.public_id}")
    assert page.headers["Cache-Control"] == "no-store"


# --- The subscriber signs ----------------------------------------------------------------


def test_the_subscriber_signs_and_is_told_the_receipt_comes_by_sms(
    app, handover, token, handed_over
):
    response = submit_checklist(handed_over, token, all_yes_answers(), headers=EN)
    assert response.status_code == 302
    assert status_of(app, handover) == HandoverStatus.SUBSCRIBER_SIGNED

    page = handed_over.get(f"/s/{token}", headers=EN)

    assert "Thank you, you have signed" in page.text
    assert "receipt.pdf" not in page.text
    assert "Download" not in page.text
    assert "by SMS to your phone" in page.text
    assert "number and verification code" in page.text
    assert "+7 ••• •••-67-89" in page.text  # their number, masked on a device not theirs
    assert 'href="/kiosk/return"' in page.text
    assert "Return the device to the technician" in page.text
    assert "data-wait-for-receipt" not in page.text  # nothing to wait for on this device
    shows_nothing_of_the_staff(page.text)


def test_after_signing_the_technician_takes_the_device_back_and_countersigns(
    handover, token, handed_over
):
    submit_checklist(handed_over, token, all_yes_answers(), headers=EN)

    response = hand_back(handed_over)

    assert response.headers["Location"] == f"/handovers/{handover.public_id}"
    page = handed_over.get(response.headers["Location"], headers=EN)
    assert "Countersign and close the job" in page.text


# --- Taking the device back --------------------------------------------------------------


def test_a_wrong_password_keeps_the_device_with_the_subscriber(handed_over):
    response = hand_back(handed_over, "not-the-password")

    assert response.status_code == 400
    assert "Wrong password." in response.text
    assert TECHNICIAN_NAME not in response.text
    assert handed_over.get("/handovers/", headers=EN).status_code == 403


def test_the_technicians_password_gives_the_device_back_on_the_job_page(
    handover, handed_over
):
    response = hand_back(handed_over)

    assert response.status_code == 302
    assert response.headers["Location"] == f"/handovers/{handover.public_id}"
    page = handed_over.get(response.headers["Location"], headers=EN)
    assert page.status_code == 200
    assert "Pavel Orlov" in page.text
    assert TECHNICIAN_NAME in page.text  # the header is the technician's again
    assert handed_over.get("/handovers/", headers=EN).status_code == 200


def test_taking_the_device_back_needs_the_pages_csrf_token(handed_over):
    response = handed_over.post("/kiosk/return", data={"password": PASSWORD}, headers=EN)

    assert response.status_code == 400
    assert handed_over.get("/handovers/", headers=EN).status_code == 403


def test_guessing_the_technicians_password_is_limited_like_signing_in(app, handed_over):
    tries = int(app.config["RATE_LIMITS"]["sign_in_per_login_and_address"].split()[0])
    for _attempt in range(tries):
        assert hand_back(handed_over, "guess").status_code == 400

    response = hand_back(handed_over)  # even the right password, now

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert handed_over.get("/handovers/", headers=EN).status_code == 403


def test_signing_out_ends_kiosk_mode(handed_over, token):
    page = handed_over.get(f"/s/{token}", headers=EN)

    response = handed_over.post("/logout", data={"csrf_token": csrf_token(page.text)})

    assert response.headers["Location"] == "/login"
    page = handed_over.get("/login", headers=EN)
    assert page.status_code == 200
    assert KIOSK_PAGE not in page.text
    assert handed_over.get("/handovers/").status_code == 302  # to sign in, as anyone


def test_the_kiosk_page_outside_kiosk_mode_leads_back_to_work(tech):
    assert tech.get("/kiosk/return").headers["Location"] == "/"


def test_handing_over_and_taking_back_are_audited(app, technician, handover, handed_over):
    hand_back(handed_over)

    (given,) = events(app, "handover.device_handed_over")
    (returned,) = events(app, "handover.device_returned")
    assert (given.handover_id, given.actor_id) == (handover.id, technician.id)
    assert (returned.handover_id, returned.actor_id) == (handover.id, technician.id)
    assert given.created_at <= returned.created_at
