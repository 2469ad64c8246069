"""Support's forms: the search box with its filters, and a note on a discrepancy."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, SubmitField
from wtforms.validators import ValidationError
from wtforms.widgets import DateInput

from webapp.domain.checklist import ANSWERED_ITEMS
from webapp.domain.terms import DiscrepancyStatus, HandoverStatus
from webapp.forms import CHOOSE_OFFERED, TypedField, text_field
from webapp.labels import choices

QUERY_LIMIT = 200
NOTE_LIMIT = 1000
ANY = SelectChoice("", _l("Any"))


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
            self.data = date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                self.gettext("Enter a date as YYYY-MM-DD, for example 2026-11-26.")
            ) from None


def optional_choice(label, options: list[SelectChoice]) -> SelectField:
    """Build a filter whose empty choice means "any"."""
    return SelectField(
        label, choices=[ANY, *options], default="", invalid_choice_message=CHOOSE_OFFERED
    )


class PeriodForm(FlaskForm):
    """A range of days, read from the query string so that links can be shared."""

    class Meta:
        csrf = False  # reading changes nothing

    since = DayField(_l("Created from"))
    until = DayField(_l("Created to"))

    def validate_until(self, field) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date is before the start date."))


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
    unconfirmed = optional_choice(_l("Subscriber answered No to"), choices(ANSWERED_ITEMS))


class NoteForm(FlaskForm):
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
