"""SMS through SMSC.ru's HTTP protocol (https://smsc.ru/api/http/), a gateway Russian
operators use. Another gateway is one more class with the same `send`.

The message's delivery key goes as SMSC's own message `id`, and SMSC refuses a repeat
of the same request (error 9), so a send repeated after a lost answer reaches the
phone once.
"""

from __future__ import annotations

import json
import urllib.parse

from webapp.domain.terms import DeliveryAnswer
from webapp.models import OutboxMessage
from webapp.outbox.channels import Delivered, Retry, Undeliverable, http_post

# SMSC's error codes (fmt=3 answers {"error": ..., "error_code": N}).
NOT_DELIVERABLE = {6: "message refused", 7: "malformed phone number", 8: "cannot be delivered"}
DUPLICATE = 9  # the same request again: the first one was taken
WRONG_LOGIN = 2


class SmscGateway:
    name = "sms"

    def __init__(self, url: str, login: str, password: str, sender: str | None, timeout: float):
        self.url, self.login, self.password = url, login, password
        self.sender, self.timeout = sender, timeout

    def send(self, message: OutboxMessage) -> Delivered:
        fields = {
            "login": self.login, "psw": self.password, "phones": message.recipient,
            "mes": message.body, "id": message.delivery_key, "charset": "utf-8", "fmt": "3",
        }
        if self.sender:
            fields["sender"] = self.sender
        answer = self._post(urllib.parse.urlencode(fields).encode())
        code = answer.get("error_code")
        if code is None:
            return Delivered(DeliveryAnswer.ACCEPTED, f"cnt={answer.get('cnt', '?')}",
                             str(answer.get("id", "")))
        if code == DUPLICATE:
            return Delivered(DeliveryAnswer.ACCEPTED_BEFORE, str(answer.get("error", "")))
        reason = f"error_code={code}: {answer.get('error', '')}"
        if code in NOT_DELIVERABLE:
            raise Undeliverable(DeliveryAnswer.RECIPIENT_REFUSED, reason)
        kind = DeliveryAnswer.CREDENTIALS if code == WRONG_LOGIN else DeliveryAnswer.PROVIDER_ERROR
        raise Retry(kind, reason)

    def _post(self, data: bytes) -> dict:
        headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
        status, body = http_post(self.url, data, headers, self.timeout)
        if status != 200:
            raise Retry(DeliveryAnswer.PROVIDER_ERROR, f"HTTP {status}")
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):  # not SMSC's JSON: quote what came instead
            raise Retry(DeliveryAnswer.PROVIDER_ERROR, body[:200].decode(errors="replace"))
        return answer
