"""Logs as one JSON object per line on standard output, for production.

Nothing personal goes in: records name routes by their rule (`/s/<token>`, never
the link itself), and the app's own messages carry no names, phones, addresses,
tokens or query values (tests/test_canary.py).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from datetime import UTC, datetime

from flask import Flask, g, request

# Attributes every LogRecord has; anything else was passed as `extra` and is kept.
STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry |= {k: v for k, v in vars(record).items() if k not in STANDARD}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_requests(app: Flask) -> None:
    """One line per request: method, route rule, status and time, not the path."""
    log = logging.getLogger("handover.request")

    @app.before_request
    def start_clock():
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        started = g.pop("request_started", None)
        log.info("request", extra={
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else "(no route)",
            "status": response.status_code,
            "ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        })
        return response


def configure(app: Flask) -> None:
    """For the serving process (wsgi.py), in production: JSON lines on stdout, the
    app's own loggers at INFO, everything else at WARNING. Logging belongs to the
    process, so create_app leaves it alone (tests make many apps in one process)."""
    if app.config.get("LOG_FORMAT") != "json":
        return
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    for name in ("webapp", "handover"):
        logging.getLogger(name).setLevel(logging.INFO)
    log_requests(app)
