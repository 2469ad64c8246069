"""What a delivery channel is: something that sends one outbox message or says why not.

A channel raises `Retry` when trying again later may work (the server is down, answers
5xx, times out, refuses the credentials) and `Undeliverable` when it never will (the
gateway refuses the number, the API client is gone). Anything else it raises is taken
as a retry too: a worker never stops on one bad message.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from webapp.domain.terms import DeliveryAnswer
from webapp.models import OutboxMessage

DETAIL_LIMIT = 500


class DeliveryProblem(Exception):
    """The message was not delivered: what kind of answer that was (support reads it in
    their language) and the provider's own words, quoted as they came."""

    def __init__(self, kind: DeliveryAnswer, answer: str = ""):
        super().__init__(f"{kind}: {answer}"[:DETAIL_LIMIT])
        self.kind = kind
        self.reason = str(self)
        self.answer = answer[:DETAIL_LIMIT]


class Retry(DeliveryProblem):
    """Not delivered this time; worth trying again after a pause."""


class Undeliverable(DeliveryProblem):
    """Not deliverable at all; trying again would give the same answer."""


@dataclass(frozen=True)
class Delivered:
    """What the provider answered when it took the message."""

    kind: DeliveryAnswer
    answer: str = ""
    provider_id: str | None = None


class Channel(Protocol):
    name: str

    def send(self, message: OutboxMessage) -> Delivered:
        """Deliver the message, or raise Retry or Undeliverable."""
        ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is an answer of its own, never re-sent as a bodiless GET


_OPENER = urllib.request.build_opener(_NoRedirects)
ANSWER_LIMIT = 64 * 1024


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, bytes]:
    """POST the body and return the answer's status and (the start of its) body, whatever
    the status; redirects are not followed. Raise Retry when no answer comes."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return response.status, response.read(ANSWER_LIMIT)
    except urllib.error.HTTPError as error:
        with error:  # it holds the answer's connection
            return error.code, error.read(ANSWER_LIMIT)
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise Retry(DeliveryAnswer.UNREACHABLE, str(getattr(error, "reason", error))) from None


class ShownOnPage:
    """Development: nothing leaves the machine; staff read the message on /outbox/."""

    def __init__(self, name: str):
        self.name = name

    def send(self, message: OutboxMessage) -> Delivered:
        return Delivered(DeliveryAnswer.SHOWN_ON_PAGE)


class NotConfigured:
    """A server without the channel's settings: messages wait, and say what to set."""

    def __init__(self, name: str, settings: str):
        self.name = name
        self.settings = settings

    def send(self, message: OutboxMessage) -> Delivered:
        raise Retry(DeliveryAnswer.NOT_CONFIGURED, f"set {self.settings}")
