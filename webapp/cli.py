"""Commands under `flask --app wsgi`: staff accounts and demo data."""

from __future__ import annotations

import os
import sys
from datetime import UTC
from pathlib import Path

import click
import sqlalchemy as sa
from flask import current_app, url_for
from flask.cli import AppGroup, with_appcontext

from webapp import audit
from webapp.demo import DEMO_HANDOVERS, DEMO_STAFF, create_demo_data
from webapp.domain.states import TransitionRefused
from webapp.domain.terms import HandoverStatus, Role
from webapp.extensions import db
from webapp.handovers import workflow
from webapp.models import Handover, User
from webapp.receipts.service import Verdict, receipt_problems, stored_receipts, verify_pdf
from webapp.receipts.signing import create_development_certificates
from webapp.staff import StaffError, create_staff_user

VERIFY_READ_LIMIT = 50 * 1024 * 1024
VERDICTS = {
    Verdict.GENUINE: "genuine and unmodified",
    Verdict.MODIFIED: "signed by us, but modified after signing",
    Verdict.NOT_OURS: "signed, but not by us",
    Verdict.UNKNOWN: "not a receipt of ours",
    Verdict.UNREADABLE: "not a readable PDF",
}

users_cli = AppGroup("users", help="Manage staff accounts.")
api_clients_cli = AppGroup("api-clients", help="Systems allowed to call the JSON API.")


@api_clients_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, default=("orders:write", "receipts:read"),
              show_default=True, help="orders:write and/or receipts:read; repeat for both.")
def create_api_client(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API client and print its bearer token, once: only its hash is kept."""
    from webapp.api.auth import ApiClientError, create_client

    try:
        client, token = create_client(name, list(scopes))
    except ApiClientError as error:
        raise click.ClickException(str(error)) from None
    audit.record("api_client.created", details={"client": client.name, "scopes": client.scopes})
    db.session.commit()
    click.echo(f"API client {client.name!r} created with scopes {', '.join(client.scopes)}.")
    click.echo("Its token (shown only now; send it as 'Authorization: Bearer <token>'):")
    click.echo(token)


@api_clients_cli.command("revoke")
@click.argument("name")
def revoke_api_client(name: str) -> None:
    """Revoke an API client's token."""
    from webapp.api.auth import ApiClientError, revoke_client

    try:
        client = revoke_client(name)
    except ApiClientError as error:
        raise click.ClickException(str(error)) from None
    audit.record("api_client.revoked", details={"client": client.name})
    db.session.commit()
    click.echo(f"API client {client.name!r} is revoked.")


@api_clients_cli.command("webhook")
@click.argument("name")
@click.argument("url")
def set_webhook(name: str, url: str) -> None:
    """Send the client's events to URL (https://…), signed with a new secret printed once;
    "none" as URL stops them."""
    from webapp.api.auth import ApiClientError, set_client_webhook

    try:
        client, secret = set_client_webhook(name, None if url == "none" else url)
    except ApiClientError as error:
        raise click.ClickException(str(error)) from None
    audit.record("api_client.webhook_set", details={"client": client.name,
                                                    "stopped": secret is None})
    db.session.commit()
    if secret is None:
        click.echo(f"API client {client.name!r} gets no events now.")
        return
    click.echo(f"API client {client.name!r} gets its events at the address given.")
    click.echo("Their signing secret (shown only now; see the Handover-Signature header):")
    click.echo(secret)


def read_password() -> str:
    """Ask for a new password, or read it from standard input when that is not a terminal.

    Never from an argument: arguments end up in shell history and process lists.
    """
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@users_cli.command("create")
@click.option("--login", required=True)
@click.option("--name", "full_name", required=True, help="Full name as shown to subscribers.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--employee-id", default=None)
@click.option("--contractor", default=None, help="Contractor company, for technicians.")
def create_user(login, full_name, role, employee_id, contractor) -> None:
    """Create a staff account; the password is asked for or read from stdin."""
    try:
        user = create_staff_user(
            login=login, full_name=full_name, role=Role(role), password=read_password(),
            employee_id=employee_id, contractor=contractor,
        )
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    audit.record("staff.created", details={"login": user.login, "role": user.role})
    db.session.commit()
    click.echo(f"Created {user.role} {user.login}.")


@users_cli.command("deactivate")
@click.argument("login")
def deactivate_user(login: str) -> None:
    """Disable a staff account; its sessions stop working at the next request."""
    user = db.session.scalar(sa.select(User).where(User.login == login))
    if user is None:
        raise click.ClickException(f"No staff account with login {login!r}.")
    user.active = False
    audit.record("staff.deactivated", details={"login": user.login})
    db.session.commit()
    click.echo(f"Deactivated {login}.")


@click.command("demo")
@click.option("--port", type=int, default=5000, show_default=True, envvar="FLASK_RUN_PORT",
              help="The port `flask run` serves on, for the subscriber's link "
                   "(PUBLIC_URL, when set, is used instead).")
@with_appcontext
def demo_command(port: int) -> None:
    """Create demo staff accounts and handovers in different states (idempotent); print
    the logins and the subscriber's link of the demo job awaiting the subscriber."""
    if current_app.config["NAME"] == "production" or os.environ.get("SECRET_KEY"):
        # SECRET_KEY in the environment means a server, whatever .flaskenv says.
        raise click.ClickException("Demo accounts have known passwords; not on a server.")
    # The demo's closed job queues its SMS here: its link points where `flask run` serves.
    public_url = current_app.config["PUBLIC_URL"]
    current_app.config["PUBLIC_URL"] = public_url or f"http://127.0.0.1:{port}"
    try:
        create_demo_data()
    finally:
        current_app.config["PUBLIC_URL"] = public_url
    click.echo("Demo accounts (login / password / role):")
    for staff in DEMO_STAFF:
        click.echo(f"  {staff.login:<10} {staff.password:<18} {staff.role}")
    handover = awaiting_demo_handover()
    if handover is None:
        click.echo("No demo job is awaiting the subscriber now (it was signed or taken back): "
                   "sign in as tech and press Ready for the subscriber on a job for a link.")
        return
    if not workflow.link_is_live(handover):
        renew_link(handover)
    expires = handover.link_expires_at.astimezone(UTC)
    click.echo(f"Subscriber's link of demo job {handover.order_number}, what the subscriber "
               f"opens on their phone (works until {expires:%Y-%m-%d %H:%M} UTC):")
    click.echo(f"  {subscriber_url(handover, port)}")


def awaiting_demo_handover() -> Handover | None:
    """The demo handover that is made to wait for the subscriber, if it still does."""
    orders = [facts["order_number"] for _login, status, facts, *_rest in DEMO_HANDOVERS
              if status == HandoverStatus.AWAITING_SUBSCRIBER]
    return db.session.scalar(
        sa.select(Handover)
        .where(Handover.order_number.in_(orders),
               Handover.status == HandoverStatus.AWAITING_SUBSCRIBER)
        .order_by(Handover.id).limit(1)
    )


def renew_link(handover: Handover) -> None:
    """Its link expired (the demo data is days old): take the job back and hand it over
    again, as the technician's buttons do, which opens a new link."""
    config = current_app.config
    try:
        workflow.reopen(handover)
        workflow.freeze(handover, config["SECRET_KEY"], config["SUBSCRIBER_LINK_TTL"])
    except TransitionRefused as refused:
        db.session.rollback()
        raise click.ClickException(f"The demo job's link expired and could not be renewed "
                                   f"({refused}); sign in as tech to hand it over again.") from None
    db.session.commit()


def subscriber_url(handover: Handover, port: int) -> str:
    """The subscriber's link at PUBLIC_URL, or where `flask run --port PORT` serves."""
    base = current_app.config.get("PUBLIC_URL") or f"http://127.0.0.1:{port}"
    token = workflow.link_token(handover, current_app.config["SECRET_KEY"])
    with current_app.test_request_context(base_url=base):
        return url_for("subscriber.checklist", token=token, _external=True)


receipts_cli = AppGroup("receipts", help="Receipts: signing certificate and verification.")


@receipts_cli.command("verify")
@click.argument("pdf", type=click.File("rb"))
def verify_receipt(pdf) -> None:
    """Check a receipt PDF; exit status 0 only when it is genuine and unmodified."""
    result = verify_pdf(pdf.read(VERIFY_READ_LIMIT))
    number = f" ({result.receipt.number})" if result.receipt else ""
    click.echo(f"{result.verdict}{number}: {VERDICTS[result.verdict]}")
    if result.verdict is not Verdict.GENUINE:
        raise SystemExit(1)


@receipts_cli.command("audit")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Only receipts issued on or after this day (UTC), e.g. 2026-11-01.")
def audit_receipts(since) -> None:
    """Re-check stored receipts (hash, signature, readable text and fonts); print each bad
    one and a total; exit status 1 if any is bad."""
    checked = bad = 0
    for receipt in stored_receipts(since.replace(tzinfo=UTC) if since else None):
        checked += 1
        problems = receipt_problems(receipt)
        if problems:
            bad += 1
            click.echo(f"{receipt.number}: {'; '.join(problems)}")
    click.echo(f"Receipts: {checked} checked, {bad} bad")
    if bad:
        raise SystemExit(1)


@receipts_cli.command("dev-certificate")
def development_certificate() -> None:
    """Create the development CA and signing certificate (kept if they exist)."""
    config = current_app.config
    if config["NAME"] == "production":
        raise click.ClickException("Production uses the operator's own certificate.")
    p12, root = create_development_certificates(
        Path(config["RECEIPT_SIGNING_P12"]).parent, config["RECEIPT_SIGNING_PASSPHRASE"]
    )
    click.echo(f"Receipt signing certificate: {p12}\nTrust root: {root}")


outbox_cli = AppGroup("outbox", help="Messages to subscribers and events to API clients.")


@outbox_cli.command("work")
@click.option("--once", is_flag=True, help="Stop when no message is due, instead of waiting.")
def outbox_work(once: bool) -> None:
    """Deliver the outbox's messages (SMS, e-mail, webhooks), retrying failures; run one
    or more beside the web server. SIGTERM stops it after the message in hand."""
    from webapp.outbox.worker import work

    tally = work(once=once)
    if once:
        click.echo(f"Outbox: {tally.sent} sent, {tally.retry} to retry, {tally.failed} failed")
