"""Support sends a receipt again, and reads how every message about it went."""

from __future__ import annotations

import hashlib
import re
import time

import pytest

from bench.receivers import gateway_settings
from tests.conftest import add_user, app_on, csrf_token, post_form
from tests.test_outbox import closed_job, deliver, messages
from tests.test_support import events
from tests.tools import needs
from webapp.domain.terms import Role
from webapp.receipts.service import Verdict, verify_code

EN = {"Accept-Language": "en"}
RU = {"Accept-Language": "ru"}
CODE = re.compile(r"\b[2-9A-Z]{5}-[2-9A-Z]{5}\b")

pytestmark = needs("pdftotext")


@pytest.fixture
def desk(database_url, gateway, smtp):
    """An app that sends through the test's gateway and SMTP server, a closed job, and
    a support agent's browser."""
    with app_on(database_url, **gateway_settings(gateway), **smtp.settings()) as app:
        technician = add_user(app, "tech")
        agent = add_user(app, "agent", Role.SUPPORT, full_name="Olga Support")
        receipt = closed_job(app, technician)
        yield app, receipt, app.test_client(user=agent)


def resend(client, receipt, headers=EN, **data):
    page = client.get(f"/support/receipts/{receipt.number}", headers=headers)
    return post_form(client, f"/support/receipts/{receipt.number}/resend",
                     {"csrf_token": csrf_token(page.text), **data}, headers=headers)


def test_support_resends_the_sms_to_the_phone_on_file_with_the_printed_code(desk, gateway):
    app, receipt, support = desk
    sent = resend(support, receipt, to="sms", reason="")
    assert sent.status_code == 302 and sent.headers["Location"].endswith("#messages")
    deliver(app)
    first, again = [r["fields"] for r in gateway.requests]
    assert first["phones"] == again["phones"]
    code = CODE.search(again["mes"]).group()
    assert CODE.search(first["mes"]).group() == code
    with app.app_context():
        assert verify_code(receipt.number, code).verdict is Verdict.GENUINE
    [event] = events(app, "receipt.resent")
    assert event.details["to"] == "on file" and event.actor_id is not None


def test_a_dictated_number_needs_a_reason_and_keeps_what_was_typed(desk):
    app, receipt, support = desk
    refused = resend(support, receipt, to="other_sms", phone="8 (912) 555-44-33", reason="")
    assert refused.status_code == 400
    assert 'value="8 (912) 555-44-33"' in refused.text
    assert "Say why it goes to a number or address not on file." in refused.text
    assert [m.purpose for m in messages(app)] == ["receipt", "receipt"]  # no resend queued


@pytest.mark.parametrize("typed, message", [
    ("12345", "Enter a valid phone number"),
    ("<b>+7 912</b>", "Enter a valid phone number"),
    ("+7 495 123-45-67", "mobile"),
])
def test_a_dictated_number_that_cannot_get_an_sms_is_refused(desk, typed, message):
    _app, receipt, support = desk
    refused = resend(support, receipt, to="other_sms", phone=typed, reason="called")
    assert refused.status_code == 400 and message in refused.text
    assert "<b>+7 912</b>" not in refused.text


def test_a_dictated_number_gets_the_sms_and_the_trail_names_agent_and_reason(desk, gateway):
    app, receipt, support = desk
    sent = resend(support, receipt, to="other_sms", phone="8 (912) 555-44-33",
                  reason="Subscriber called, new phone")
    assert sent.status_code == 302
    deliver(app)
    assert gateway.requests[-1]["fields"]["phones"] == "+79125554433"
    [event] = events(app, "receipt.resent")
    assert event.details == {"receipt": receipt.number, "channel": "sms", "to": "dictated",
                             "reason": "Subscriber called, new phone"}
    page = support.get(f"/support/receipts/{receipt.number}", headers=EN)
    assert "sent again by Olga Support: Subscriber called, new phone" in page.text


def test_a_dictated_address_gets_the_email_with_the_receipt_attached(desk, smtp):
    app, receipt, support = desk
    refused = resend(support, receipt, to="other_email", email="not an address", reason="asked")
    assert refused.status_code == 400 and 'value="not an address"' in refused.text
    sent = resend(support, receipt, to="other_email", email="Anna@Example.RU", reason="asked")
    assert sent.status_code == 302
    deliver(app)
    [email] = [e for e in smtp.received if e["To"].lower() == "anna@example.ru"]
    [attachment] = list(email.iter_attachments())
    assert hashlib.sha256(attachment.get_content()).hexdigest() == receipt.sha256


def test_the_receipt_page_shows_each_message_failing_then_sent(desk, gateway):
    app, receipt, support = desk
    gateway.failures = 10**6
    deliver(app)
    page = support.get(f"/support/receipts/{receipt.number}", headers=EN)
    assert "Failed, retrying" in page.text
    assert "The service answered with an error: <samp>HTTP 503</samp>" in page.text
    ru = support.get(f"/support/receipts/{receipt.number}", headers=RU)
    assert "Не отправлено, повторим" in ru.text and "Сервис ответил ошибкой" in ru.text
    gateway.failures = 0
    time.sleep(0.3)  # past the (test's) retry delay
    deliver(app)
    page = support.get(f"/support/receipts/{receipt.number}", headers=EN)
    assert "Failed, retrying" not in page.text and ">Sent<" in page.text
    assert "Accepted: <samp>cnt=2</samp>" in page.text  # the gateway counted two parts
    [sms] = [m for m in messages(app) if m.channel == "sms"]
    assert sms.status == "sent" and sms.attempts >= 2
