"""Template filters and globals: the one place that formats money, dates and phones."""

from datetime import datetime
from decimal import Decimal

from flask import Flask, has_request_context, request
from flask_babel import format_currency, format_datetime, format_decimal, get_locale

from webapp.domain.phone import format_phone
from webapp.labels import label


def money(value: Decimal | None) -> str:
    """Format an amount in roubles in the person's language."""
    return "" if value is None else format_currency(value, "RUB")


def number(value: Decimal | None) -> str:
    """Format a plain decimal (a percentage) in the person's language."""
    return "" if value is None else format_decimal(value)


def when(value: datetime | None) -> str:
    """Format a moment in the configured time zone, with the zone shown."""
    return "" if value is None else format_datetime(value, "dd.MM.yyyy HH:mm ZZZZ")


def page_forms() -> dict:
    """Give every page the small forms its header needs (language, sign-out)."""
    from webapp.auth.forms import ConfirmForm
    from webapp.main.forms import LanguageForm

    if not has_request_context():
        return {}
    here = request.full_path.rstrip("?")
    return {
        "language_form": LanguageForm(formdata=None, next=here),
        "logout_form": ConfirmForm(formdata=None),
    }


def register(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.filters.update(
        money=money, number=number, when=when, phone=format_phone, label=label
    )
    app.jinja_env.globals.update(current_locale=lambda: str(get_locale()))
    app.context_processor(page_forms)
