"""Template filters and globals: the one place that formats money, dates and phones."""

import re
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import segno
from babel import Locale, dates
from flask import Flask, has_request_context, request
from flask_babel import (
    format_currency,
    format_decimal,
    format_percent,
    get_locale,
    ngettext,
    to_user_timezone,
)
from flask_babel import gettext as _
from markupsafe import Markup

from webapp.domain.checklist import ChecklistItem, DiscountTerms, Facts
from webapp.domain.declared import FACTS, FACTS_BY_NAME
from webapp.domain.facts import SECTION_TITLES, Kind
from webapp.domain.phone import format_phone, mask_phone
from webapp.domain.signature import drawing_from_dict, svg_path
from webapp.domain.terms import DiscountKind
from webapp.forms import ConfirmForm, LanguageForm
from webapp.labels import explanation, item_label, label, part_label

# CLDR keeps a currency code off the digits with a no-break space ("RUB 1,234.50"), but
# Babel does not apply that rule (currencySpacing), so money() does.
CODE_AGAINST_DIGIT = re.compile(r"(?<=[^\W\d])(?=\d)|(?<=\d)(?=[^\W\d])")
# English pages are read well beyond the US: they get World English dates, "26 Nov 2026",
# which no reader can take in the American month-first order.
WORLD_ENGLISH = Locale("en", "001")
# CLDR date style per language: Russians write the day in digits, "26.11.2026"; others
# read the month as a word.
DATE_STYLES = {"ru": "short"}
# Where a language's readers dial numbers without the country code: Russian pages show
# numbers of Russia as subscribers know them, "8 (912) 345-67-89".
HOME_REGIONS = {"ru": "RU"}


def money(value: Decimal | None) -> str:
    """Format an amount in roubles in the person's language: "1 234,50 ₽", "RUB 1,234.50"."""
    if value is None:
        return ""
    return CODE_AGAINST_DIGIT.sub("\u00a0", format_currency(value, "RUB"))


def number(value: Decimal | None) -> str:
    """Format a plain decimal (a percentage) in the person's language."""
    return "" if value is None else format_decimal(value)


def discount(terms: Mapping[str, Any] | DiscountTerms) -> str:
    """Describe a discount in words: "New subscriber: 20 %, for 6 months"."""
    if isinstance(terms, DiscountTerms):
        terms = terms.as_dict()
    value = Decimal(str(terms["value"]))
    amount = f"{number(value)} %" if terms["kind"] == DiscountKind.PERCENT else money(value)
    months = terms.get("months")
    duration = (
        ngettext("for %(num)d month", "for %(num)d months", months) if months else _("permanent")
    )
    description = terms.get("description") or ""
    return f"{description}: {amount}, {duration}" if description else f"{amount}, {duration}"


def signature_values(signature) -> dict[str, Any] | None:
    """Return a stored signature as plain values: an SVG path and its box, or the typed name."""
    if signature is None:
        return None
    values = {"signed_at": signature.signed_at, "typed_name": signature.typed_name}
    if signature.drawing:
        drawing = drawing_from_dict(signature.drawing)
        values |= {"path": svg_path(drawing), "width": drawing.width, "height": drawing.height}
    return values


def qr_svg(url: str) -> Markup:
    """Return an inline SVG QR code for the URL (drawn here, no outside service)."""
    # segno writes only path data and sizes; the URL is encoded, never echoed as text.
    return Markup(segno.make(url, error="m").svg_inline(scale=4, border=2))  # noqa: S704


def _dates_locale() -> Locale:
    locale = get_locale()
    return WORLD_ENGLISH if str(locale) == "en" else locale


def day(value: date | None) -> str:
    """Format a calendar day: "26.11.2026" in Russian, "26 Nov 2026" in English."""
    if value is None:
        return ""
    locale = _dates_locale()
    return dates.format_date(value, DATE_STYLES.get(locale.language, "medium"), locale=locale)


def when(value: datetime | None) -> str:
    """Format a moment in the configured time zone and name the zone, as receipts are
    evidence: "26.11.2026, 10:05 (Москва)", "26 Nov 2026, 10:05 (Moscow Time)"."""
    if value is None:
        return ""
    moment, locale = to_user_timezone(value), _dates_locale()
    # A 24-hour clock in both languages, so no time on a receipt hangs on "am" or "pm".
    clock = dates.format_skeleton("Hm", moment, locale=locale)
    glue = dates.get_datetime_format(DATE_STYLES.get(locale.language, "medium"), locale)
    # The zone's CLDR name ("Москва", "Moscow Time"), or its GMT offset where it has none.
    zone = dates.get_timezone_name(moment, zone_variant="generic", locale=locale)
    return f"{glue.replace('{1}', day(moment)).replace('{0}', clock)} ({zone})"


def phone(e164: str) -> str:
    """Format a stored E.164 number as readers of the page's language dial it."""
    return format_phone(e164, HOME_REGIONS.get(get_locale().language))


def masked_phone(e164: str, keep: int = 4) -> str:
    """Format a number as phone() does with all but its last `keep` digits masked."""
    return mask_phone(e164, keep, HOME_REGIONS.get(get_locale().language))


def fact_sections() -> list[tuple[str, str, list]]:
    """Return the declared facts by section, in order: (section, title msgid, facts)."""
    sections: dict[str, list] = {}
    for fact in FACTS:
        sections.setdefault(fact.section, []).append(fact)
    return [(section, SECTION_TITLES[section], facts) for section, facts in sections.items()]


PLACEHOLDER = re.compile(r"%\((\w+)\)[a-z]")


def fact_text(name: str, value: Any) -> str:
    """Return a recorded fact as words in a sentence: money, phones and choices as people
    read them, "—" where nothing is recorded (a fact declared after the handover)."""
    fact = FACTS_BY_NAME[name]
    if value is None or value == "" or value == []:
        return _(fact.empty) if fact.empty else "—"
    if fact.kind is Kind.MONEY:
        return money(Decimal(str(value)))  # stored with a discrepancy as exact text
    if fact.kind is Kind.PHONE:
        return phone(value)
    if fact.kind is Kind.CHOICE:
        return label(value)
    if fact.kind is Kind.CHOICES:
        return ", ".join(label(term) for term in value)
    return str(value)


def statement(item: ChecklistItem, facts: Facts) -> tuple[str, list[str]]:
    """Return an item's statement in the page's language with the recorded values in it,
    and the names of the values it shows that the statement does not already say."""
    used = PLACEHOLDER.findall(item.statement)
    values = {name: fact_text(name, facts.value(name)) for name in used}
    # Every value goes in as text, so "%(pages)d" reads "—" too when nothing is recorded.
    text = PLACEHOLDER.sub(r"%(\1)s", _(item.statement)) % values
    return text, [name for name in item.shows if name not in used]


def page_forms() -> dict:
    """Give every page the small forms its header needs (language, sign-out)."""
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
        money=money, number=number, when=when, phone=phone, label=label, item_label=item_label,
        explanation=explanation,
        discount=discount, qr_svg=qr_svg, amount=lambda text: money(Decimal(str(text))),
        signature_values=signature_values, masked_phone=masked_phone, day=day,
        percent=lambda share: format_percent(share, "#,##0%"),
    )
    app.jinja_env.globals.update(
        current_locale=lambda: str(get_locale()), fact_sections=fact_sections, declared_facts=FACTS,
        declared_fact=FACTS_BY_NAME.__getitem__, part_label=part_label, statement=statement,
        fact_text=fact_text,
    )
    app.context_processor(page_forms)
