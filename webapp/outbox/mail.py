"""E-mail through any SMTP server (the MAIL_* settings), built by Flask-Mailman.

The message is written when it is queued (subject, plain text and HTML in the
subscriber's language); the receipt is attached here, from the stored bytes, so
what arrives is exactly what was signed. The delivery key is the Message-ID: a
repeat after a lost answer is the same message to every mail system on the way.
"""

from __future__ import annotations

import smtplib

from flask_mailman import EmailMultiAlternatives

from webapp.domain.terms import DeliveryAnswer
from webapp.extensions import db, mail
from webapp.models import OutboxMessage, Receipt
from webapp.outbox.channels import Delivered, Retry, Undeliverable

MESSAGE_ID_DOMAIN = "handover.invalid"


def message_id(message: OutboxMessage) -> str:
    """Return the Message-ID header of a message: the same for every repeat of it."""
    return f"<{message.delivery_key}@{MESSAGE_ID_DOMAIN}>"


def attachment_name(receipt: Receipt) -> str:
    """Return the attached receipt's file name, as the download gives it."""
    return f"receipt-{receipt.number}.pdf"


class SmtpChannel:
    name = "email"

    def send(self, message: OutboxMessage) -> Delivered:
        email = EmailMultiAlternatives(
            subject=message.subject or "", body=message.body, to=[message.recipient],
            headers={"Message-ID": message_id(message)},
            connection=mail.get_connection(),
        )
        if message.html:
            email.attach_alternative(message.html, "text/html")
        if message.receipt_id is not None:
            receipt = db.session.get(Receipt, message.receipt_id)
            email.attach(attachment_name(receipt), receipt.pdf, "application/pdf")
        try:
            email.send()
        except smtplib.SMTPRecipientsRefused as error:
            answers = "; ".join(f"{code} {text.decode(errors='replace')}"
                                for code, text in error.recipients.values())
            raise Undeliverable(DeliveryAnswer.RECIPIENT_REFUSED, answers) from None
        except smtplib.SMTPAuthenticationError as error:
            raise Retry(DeliveryAnswer.CREDENTIALS, str(error.smtp_code)) from None
        except smtplib.SMTPResponseException as error:
            text = error.smtp_error.decode(errors="replace")
            # 5xx is final (the message or address is refused); 4xx and the sign-in
            # codes (530, 535: credentials an operator can fix) are worth retrying.
            final = error.smtp_code >= 500 and error.smtp_code not in (530, 535)
            answer = f"{error.smtp_code} {text}"
            if final:
                raise Undeliverable(DeliveryAnswer.MESSAGE_REFUSED, answer) from None
            raise Retry(DeliveryAnswer.PROVIDER_ERROR, answer) from None
        except (smtplib.SMTPException, OSError) as error:
            raise Retry(DeliveryAnswer.UNREACHABLE, str(error)) from None
        return Delivered(DeliveryAnswer.ACCEPTED, "", message_id(message))
