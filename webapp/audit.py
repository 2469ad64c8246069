"""The one place that writes audit events.

Events are added to the session, never committed here: the caller's one commit
stores them with the change they account for (the rule in webapp/extensions.py).
"""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user

from webapp.db_types import now_utc
from webapp.extensions import db
from webapp.models import AuditEvent, Handover, User

USER_AGENT_LIMIT = 300


def request_origin() -> tuple[str | None, str | None]:
    """Return the current request's IP address and (shortened) user agent."""
    if not has_request_context():
        return None, None
    user_agent = (request.user_agent.string or "")[:USER_AGENT_LIMIT] or None
    return request.remote_addr, user_agent


def event(
    name: str,
    *,
    handover: Handover | None = None,
    actor: User | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Build an audit event without storing it (see `record`).

    The actor defaults to the signed-in user; IP and user agent come from the request.
    """
    ip, user_agent = request_origin()
    if actor is None and has_request_context() and current_user.is_authenticated:
        actor = current_user._get_current_object()
    return AuditEvent(
        event=name, handover=handover, actor=actor, ip=ip, user_agent=user_agent,
        details=details or {}, created_at=now_utc(),
    )


def record(name: str, **kwargs) -> AuditEvent:
    """Add an audit event to the session; the caller's commit stores it with the change."""
    entry = event(name, **kwargs)
    db.session.add(entry)
    return entry


def record_reads(handovers, details: dict[str, Any] | None = None) -> None:
    """Account for reading these handovers' personal data (who, when, from where).

    A read has no change of its own, so the view (or API handler) commits right
    after this, before it renders anything.
    """
    for handover in handovers:
        record("handover.viewed", handover=handover, details=details)
