"""The subscriber's checklist: Yes or No per item, what they say instead, consent, signature."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, RadioField, SelectChoice, SubmitField
from wtforms.validators import DataRequired, InputRequired, Regexp, ValidationError

from webapp.domain.checklist import ANSWERED_ITEMS, Answer, DiscountTerms, Item, TariffTerms
from webapp.domain.money import MAX_AMOUNT
from webapp.forms import (
    CHOOSE_OFFERED,
    AmountField,
    RowList,
    SignedForm,
    WholeNumberField,
    amount_between,
    text_field,
)
from webapp.handovers.forms import ZERO, DiscountRow

MAX_STATED_DISCOUNTS = 5
SERIAL = re.compile(r"^[A-Za-z0-9-]{1,64}$")


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


class SubscriberForm(SignedForm):
    facts_version = WholeNumberField(validators=[InputRequired()])
    submission_id = HiddenField(validators=[Regexp(r"^[A-Za-z0-9_-]{16,64}$")])

    portal_access = yes_no()
    portal_access_comment = comment()
    full_contract = yes_no()
    full_contract_comment = comment()
    tariff = yes_no()
    tariff_comment = comment()
    tariff_name_stated = text_field(_l("Tariff I was offered"), 100, required=False)
    tariff_fee_stated = AmountField(
        _l("Monthly fee I was offered"), validators=[amount_between(ZERO, MAX_AMOUNT)]
    )
    discounts = yes_no()
    discounts_comment = comment()
    discounts_stated = RowList(
        DiscountRow, MAX_STATED_DISCOUNTS, label=_l("Discounts I was promised")
    )
    billing_method = yes_no()
    billing_method_comment = comment()
    equipment = yes_no()
    equipment_comment = comment()
    equipment_serials_stated = text_field(
        _l("Serial numbers of what I actually received"), 500, required=False
    )
    technician = yes_no()
    technician_comment = comment()
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
        for item, names in STATED_FIELDS.items():
            if self[item].data == "yes":
                for name in names:
                    _clear_errors(self[name])
        return not self.errors

    def validate_tariff_fee_stated(self, field) -> None:
        if field.data is not None and not self.tariff_name_stated.data:
            raise ValidationError(_l("Also type the name of the tariff you were offered."))

    def validate_equipment_serials_stated(self, field) -> None:
        if not all(SERIAL.match(s) for s in split_serials(field.data)):
            raise ValidationError(
                _l("Type serial numbers in Latin letters, digits and “-”, separated by commas.")
            )

    def answers(self) -> dict[Item, Answer]:
        """Return the validated answers as the domain compares them."""
        answers = {}
        for item in ANSWERED_ITEMS:
            confirmed = self[item].data == "yes"
            answers[item] = Answer(
                confirmed=confirmed,
                comment="" if confirmed else self[f"{item}_comment"].data or "",
                **({} if confirmed else self._stated(item)),
            )
        return answers

    def _stated(self, item: Item) -> dict:
        if item is Item.TARIFF and self.tariff_name_stated.data:
            stated = TariffTerms(self.tariff_name_stated.data, self.tariff_fee_stated.data)
            return {"stated_tariff": stated}
        if item is Item.DISCOUNTS:
            return {
                "stated_discounts": tuple(
                    DiscountTerms(
                        row["kind"], row["value"], None if row["permanent"] else row["months"],
                        row["description"],
                    )
                    for row in self.discounts_stated.filled()
                )
            }
        if item is Item.EQUIPMENT:
            return {"stated_serials": split_serials(self.equipment_serials_stated.data)}
        return {}


STATED_FIELDS = {
    item: (f"{item}_comment", *extra)
    for item, extra in {
        Item.PORTAL_ACCESS: (),
        Item.FULL_CONTRACT: (),
        Item.TARIFF: ("tariff_name_stated", "tariff_fee_stated"),
        Item.DISCOUNTS: ("discounts_stated",),
        Item.BILLING_METHOD: (),
        Item.EQUIPMENT: ("equipment_serials_stated",),
        Item.TECHNICIAN: (),
    }.items()
}


def _clear_errors(field) -> None:
    field.errors = []
    for entry in getattr(field, "entries", ()):
        for subfield in entry.form:
            subfield.errors = []
