"""Support's forms: the search box with its filters, and a note on a discrepancy."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import get_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import RadioField, SelectChoice, SelectField, SubmitField
from wtforms.validators import ValidationError
from wtforms.widgets import DateInput

from webapp.domain.declared import FACTS_BY_NAME
from webapp.domain.terms import DiscrepancyStatus, HandoverStatus, MessageChannel
from webapp.fact_forms import field_for, value_of
from webapp.forms import CHOOSE_OFFERED, FILL_IN, Form, TypedField, text_field
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


REASON_LIMIT = 500
ON_FILE = ("sms", "email")  # the recipients the receipt page already shows
DICTATED = ("other_sms", "other_email")  # a number or address the caller gives


class ResendForm(Form):
    """Support sends the receipt again: by SMS or e-mail, to what is on file or to a number
    or address the caller dictates (checked as the job's own phone and e-mail are)."""

    to = RadioField(_l("Send"), choices=[
        SelectChoice("sms", _l("SMS to the phone on file")),
        SelectChoice("email", _l("E-mail to the address on file")),
        SelectChoice("other_sms", _l("SMS to another number")),
        SelectChoice("other_email", _l("E-mail to another address")),
    ], default="sms", invalid_choice_message=CHOOSE_OFFERED)
    phone = field_for(FACTS_BY_NAME["phone"], required=False)
    email = field_for(FACTS_BY_NAME["email"], required=False)
    reason = text_field(
        _l("Why, and who asked"), REASON_LIMIT, required=False,
        description=_l("Needed for another number or address, e.g.: the subscriber called, "
                       "changed phones."),
    )

    def __init__(self, email_on_file: bool, **kwargs):
        super().__init__(**kwargs)
        self.phone.label.text = _("Number the caller gives")
        self.email.label.text = _("Address the caller gives")
        if not email_on_file:
            self.to.choices = [c for c in self.to.choices if c.value != "email"]

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        # What the chosen recipient needs; the other boxes are not looked at.
        needed = {"other_sms": (self.phone, FILL_IN), "other_email": (self.email, FILL_IN)}
        if self.to.data in needed:
            field, message = needed[self.to.data]
            if not field.data and not field.errors:
                field.errors = [message]
            if not self.reason.data and not self.reason.errors:
                self.reason.errors = [_l("Say why it goes to a number or address not on file.")]
        for name, field in (("other_sms", self.phone), ("other_email", self.email)):
            if self.to.data != name:
                field.errors = []
        return not any(field.errors for field in self)

    def channel(self) -> MessageChannel:
        """Return how it is sent: SMS or e-mail."""
        return MessageChannel.SMS if self.to.data.endswith("sms") else MessageChannel.EMAIL

    def dictated(self) -> str | None:
        """Return the number (E.164) or address the caller gave, or None for the one on file."""
        if self.to.data == "other_sms":
            return value_of(FACTS_BY_NAME["phone"], self.phone)
        if self.to.data == "other_email":
            return value_of(FACTS_BY_NAME["email"], self.email)
        return None
