"""Real servers on 127.0.0.1 that stand in for the outside world the outbox talks to
(the tests and `make bench` use them):
an SMTP server (aiosmtpd), an SMS gateway speaking SMSC.ru's HTTP protocol, and a
webhook receiver. Each records what arrived, for the test to read."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from aiosmtpd.controller import Controller

from bench.client import free_port
from webapp.domain.sms import segments


class SmtpServer:
    """An SMTP server on a port of its own, started and stopped at will (down, then up)."""

    def __init__(self):
        self.port = free_port()
        self.received: list[EmailMessage] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server, session, envelope):
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted"

    def start(self) -> SmtpServer:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self) -> dict:
        """The app settings that send mail here."""
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": self.port,
                "MAIL_DEFAULT_SENDER": "Handover <receipts@handover.example>"}


class _Recording(ThreadingHTTPServer):
    daemon_threads = True


@dataclass
class HttpServer:
    """A small HTTP server of the test's own, answering with `answer(request)`."""

    answer: object
    requests: list[dict] = field(default_factory=list)
    failures: int = 0  # answer the next this many requests with 503
    delay: float = 0.0  # seconds to think before answering

    def __post_init__(self):
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                request = {"path": self.path, "headers": dict(self.headers),
                           "body": self.rfile.read(length)}
                status, body = owner.answer(owner, request)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = _Recording(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.lock = threading.Lock()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def smsc_answer(gateway: HttpServer, request: dict) -> tuple[int, bytes]:
    """Answer as SMSC.ru's send.php does (fmt=3): the message's id and its SMS count, or
    error 9 for a repeat of a message it already took."""
    fields = {k: v[0] for k, v in parse_qs(request["body"].decode()).items()}
    time.sleep(gateway.delay)
    with gateway.lock:
        if gateway.failures:
            gateway.failures -= 1
            return 503, b"Service Unavailable"
        seen = any(r["fields"].get("id") == fields.get("id") for r in gateway.requests)
        gateway.requests.append({**request, "fields": fields})
        if seen:
            return 200, json.dumps({"error": "duplicate request, wait a minute",
                                    "error_code": 9}).encode()
        if not fields.get("phones", "").lstrip("+").startswith("79"):
            return 200, json.dumps({"error": "invalid number", "error_code": 7}).encode()
        answer = {"id": len(gateway.requests), "cnt": segments(fields.get("mes", ""))}
        return 200, json.dumps(answer).encode()


def sms_gateway() -> HttpServer:
    """A local SMS gateway speaking SMSC.ru's protocol at /sys/send.php."""
    return HttpServer(smsc_answer)


def gateway_settings(gateway: HttpServer) -> dict:
    """The app settings that send SMS to this gateway."""
    return {"SMSC_URL": f"{gateway.url}/sys/send.php", "SMSC_LOGIN": "handover",
            "SMSC_PASSWORD": "gateway-password", "SMSC_SENDER": "Handover"}


def accept(receiver: HttpServer, request: dict) -> tuple[int, bytes]:
    with receiver.lock:
        receiver.requests.append(request)
    return 204, b""


def webhook_receiver() -> HttpServer:
    """A receiver of webhook events that accepts everything it is sent."""
    return HttpServer(accept)
