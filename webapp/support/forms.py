"""Support's forms: the search box with its filters, and a note on a discrepancy."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, SubmitField
from wtforms.validators import ValidationError
from wtforms.widgets import DateInput

from webapp.domain.terms import DiscrepancyStatus, HandoverStatus
from webapp.forms import CHOOSE_OFFERED, Form, TypedField, text_field
from webapp.labels import choices, item_choices
from webapp.support.search import Filters

QUERY_LIMIT = 200
NOTE_LIMIT = 1000
ANY = SelectChoice("", _l("Any"))
# Handover began in this century; anything outside is a slip of the keyboard.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


def start_of(day: date) -> datetime:
    """Return the moment the day begins in the configured time zone."""
    # zoneinfo, not Babel's pytz zone: pytz attached directly gives the zone's
    # first historical offset (Moscow's +02:30 local mean time), not today's.
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(str(get_timezone())))


def today() -> date:
    """Return today's date in the configured time zone."""
    return datetime.now(ZoneInfo(str(get_timezone()))).date()


class DayField(TypedField):
    """A calendar day as the browser's date picker sends it (YYYY-MM-DD)."""

    widget = DateInput()

    def format(self, value: date) -> str:
        return value.isoformat()

    def process_formdata(self, valuelist) -> None:
        text = valuelist[0].strip() if valuelist else ""
        self.data = None
        if not text:
            return
        try:
            if len(text) != 10:
                raise ValueError(text)
            day = date.fromisoformat(text)
        except ValueError:
            raise ValueError(_("Enter a date as YYYY-MM-DD, for example 2026-11-26.")) from None
        if not FIRST_DAY <= day <= LAST_DAY:
            raise ValueError(_("Enter a date from 2000 to 2099."))
        self.data = day


def optional_choice(label, options: list[SelectChoice]) -> SelectField:
    """Build a filter whose empty choice means "any"."""
    return SelectField(
        label, choices=[ANY, *options], default="", invalid_choice_message=CHOOSE_OFFERED
    )


class PeriodForm(Form):
    """A range of days, read from the query string so that links can be shared."""

    class Meta:
        csrf = False  # reading changes nothing

    since = DayField(_l("Created from"))
    until = DayField(_l("Created to"))

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date is before the start date."))

    def moments(self) -> tuple[datetime | None, datetime | None]:
        """Return the period as moments: from the first day's start to the last day's end."""
        since = start_of(self.since.data) if self.since.data else None
        until = start_of(self.until.data + timedelta(days=1)) if self.until.data else None
        return since, until


class SearchForm(PeriodForm):
    """The search box and its filters."""

    q = text_field(
        _l("Account, contract, order or receipt number, phone, name or address"),
        QUERY_LIMIT,
        required=False,
        render_kw={"type": "search", "autocomplete": "off", "autofocus": True},
    )
    status = optional_choice(_l("Status"), choices(HandoverStatus))
    technician = optional_choice(_l("Technician"), [])
    discrepancies = optional_choice(
        _l("Discrepancies"),
        [SelectChoice("yes", _l("With discrepancies")), SelectChoice("no", _l("Without"))],
    )
    unconfirmed = optional_choice(_l("Subscriber answered No to"), item_choices())

    def filters(self) -> Filters:
        """Return the filters chosen, as the search takes them."""
        since, until = self.moments()
        return Filters(
            since=since,
            until=until,
            status=self.status.data or None,
            technician_id=int(self.technician.data) if self.technician.data else None,
            with_discrepancies={"yes": True, "no": False}.get(self.discrepancies.data),
            unconfirmed=self.unconfirmed.data or None,
        )


class NoteForm(Form):
    """Support marks a discrepancy contacted or resolved, always saying what was done."""

    note = text_field(
        _l("What was done"), NOTE_LIMIT,
        description=_l("For example: called the subscriber; the discount is now on the account."),
    )
    contacted = SubmitField(_l("Mark contacted"))
    resolved = SubmitField(_l("Mark resolved"))

    def chosen_status(self) -> DiscrepancyStatus:
        """Return the status the agent pressed; "contacted" unless they pressed resolve."""
        return DiscrepancyStatus.RESOLVED if self.resolved.data else DiscrepancyStatus.CONTACTED
