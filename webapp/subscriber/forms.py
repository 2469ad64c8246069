"""The subscriber's checklist: Yes or No per item, what they say instead, consent, signature.

The items are the checklist table's (webapp/domain/checklist.py) that apply to the
handover; each gets a Yes/No, a comment, and the fields its `asks` names.
"""

from __future__ import annotations

import re
from functools import cache

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SubmitField
from wtforms.validators import DataRequired, InputRequired, Regexp, ValidationError

from webapp.domain.checklist import Answer, Ask, ChecklistItem, TariffTerms
from webapp.domain.declared import FACTS_BY_NAME, items_for
from webapp.domain.facts import EQUIPMENT_FIELDS
from webapp.fact_forms import DiscountRow
from webapp.forms import (
    CHOOSE_OFFERED,
    AmountField,
    RowList,
    SignedForm,
    WholeNumberField,
    amount_between,
    text_field,
)

MAX_STATED_DISCOUNTS = 5
SERIAL = next(field for field in EQUIPMENT_FIELDS if field.name == "serial")


def yes_no() -> RadioField:
    return RadioField(
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validators=[InputRequired(_l("Answer Yes or No."))],
        invalid_choice_message=CHOOSE_OFFERED,
    )


def comment() -> object:
    return text_field(_l("What is different?"), 500, required=False)


def split_serials(text: str | None) -> tuple[str, ...]:
    """Split "SN-1, SN-2 SN-3" into serial numbers."""
    return tuple(part for part in re.split(r"[\s,;]+", text or "") if part)


def _asked_fields(ask: Ask) -> dict:
    """Return the fields a No to an item with this `asks` adds, by name."""
    if ask is Ask.TARIFF:
        fee = FACTS_BY_NAME["monthly_fee"]
        return {
            "tariff_name_stated": text_field(
                _l("Tariff I was offered"), FACTS_BY_NAME["tariff_name"].max_length,
                required=False,
            ),
            "tariff_fee_stated": AmountField(
                _l("Monthly fee I was offered"),
                validators=[amount_between(fee.minimum, fee.maximum)],
            ),
        }
    if ask is Ask.DISCOUNTS:
        return {"discounts_stated": RowList(
            DiscountRow, MAX_STATED_DISCOUNTS, label=_l("Discounts I was promised")
        )}
    return {"equipment_serials_stated": text_field(
        _l("Serial numbers of what I actually received"), 500, required=False
    )}


class SubscriberForm(SignedForm):
    """The fields every checklist has; subscriber_form() adds the items'."""

    items: tuple[ChecklistItem, ...] = ()

    facts_version = WholeNumberField(validators=[InputRequired()])
    submission_id = HiddenField(validators=[Regexp(r"^[A-Za-z0-9_-]{16,64}$")])
    consent = BooleanField(
        _l(
            "I agree to the processing of the personal data in this receipt, and that my "
            "signature below is my simple electronic signature for this receipt only."
        ),
        validators=[DataRequired(_l("Tick the consent to sign."))],
    )
    submit = SubmitField(_l("Sign and send"))

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        # What a subscriber says instead only counts on a No; on a Yes it is ignored,
        # so a half-filled "instead" box must not block signing.
        for item in self.items:
            if self[item.key].data == "yes":
                for name in stated_fields(item):
                    _clear_errors(self[name])
        return not self.errors

    def validate_tariff_fee_stated(self, field) -> None:
        if field.data is not None and not self.tariff_name_stated.data:
            raise ValidationError(_l("Also type the name of the tariff you were offered."))

    def validate_equipment_serials_stated(self, field) -> None:
        if not all(
            len(s) <= SERIAL.max_length and re.match(SERIAL.pattern, s)
            for s in split_serials(field.data)
        ):
            raise ValidationError(
                _l("Type serial numbers in Latin letters, digits and “-”, separated by commas.")
            )

    def answers(self) -> dict[str, Answer]:
        """Return the validated answers, by item key, as the domain compares them."""
        answers = {}
        for item in self.items:
            confirmed = self[item.key].data == "yes"
            answers[item.key] = Answer(
                confirmed=confirmed,
                comment="" if confirmed else self[f"{item.key}_comment"].data or "",
                **({} if confirmed else self._stated(item.asks)),
            )
        return answers

    def _stated(self, ask: Ask | None) -> dict:
        if ask is Ask.TARIFF and self.tariff_name_stated.data:
            stated = TariffTerms(self.tariff_name_stated.data, self.tariff_fee_stated.data)
            return {"stated_tariff": stated}
        if ask is Ask.DISCOUNTS:
            rows = self.discounts_stated.filled()
            return {"stated_discounts": tuple(DiscountRow.terms_of(row) for row in rows)}
        if ask is Ask.SERIALS:
            return {"stated_serials": split_serials(self.equipment_serials_stated.data)}
        return {}


def stated_fields(item: ChecklistItem) -> tuple[str, ...]:
    """Return the names of the fields that say what is different, for one item."""
    return (f"{item.key}_comment", *(_asked_fields(item.asks) if item.asks else ()))


@cache
def subscriber_form(items: tuple[ChecklistItem, ...]) -> type[SubscriberForm]:
    """Return the checklist form for these items (one class per set of items)."""
    fields = {}
    for item in items:
        fields |= {item.key: yes_no(), f"{item.key}_comment": comment()}
        fields |= _asked_fields(item.asks) if item.asks else {}
    return type("SubscriberForm", (SubscriberForm,), {"items": items, **fields})


def checklist_form(services, **kwargs) -> SubscriberForm:
    """Return the checklist form for a handover recording these services."""
    return subscriber_form(items_for(services))(**kwargs)


def _clear_errors(field) -> None:
    field.errors = []
    for entry in getattr(field, "entries", ()):
        for subfield in entry.form:
            subfield.errors = []
