"""The technician's handover form: the facts as the application states them."""

from __future__ import annotations

from decimal import Decimal

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, SelectField, SubmitField
from wtforms.validators import DataRequired, InputRequired, NumberRange, ValidationError

from webapp.domain.money import MAX_AMOUNT
from webapp.domain.phone import PhoneError, normalise_phone
from webapp.domain.terms import (
    BillingMethod,
    DiscountKind,
    Document,
    EquipmentTerms,
    EquipmentType,
    Service,
)
from webapp.forms import (
    DOCUMENT_NUMBER,
    FILL_IN,
    AmountField,
    CheckboxesField,
    RowForm,
    WholeNumberField,
    amount_between,
    text_field,
)
from webapp.labels import choices

MAX_DISCOUNTS = 10
MAX_EQUIPMENT = 20
MAX_MONTHS = 120
ZERO = Decimal(0)
HUNDRED = Decimal(100)


class DiscountRow(RowForm):
    description = text_field(_l("Description"), 200, required=False)
    kind = SelectField(_l("Kind"), choices=choices(DiscountKind), default=DiscountKind.PERCENT)
    value = AmountField(_l("Value"))
    months = WholeNumberField(
        _l("For how many months"),
        validators=[NumberRange(1, MAX_MONTHS, _l("Enter from 1 to 120 months."))],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_MONTHS},
    )
    permanent = BooleanField(_l("Permanent"))

    typed_fields = ("description", "value", "months")
    required_fields = ("description", "value")

    def validate(self, extra_validators=None) -> bool:
        if self.permanent.data:
            # "Permanent" replaces a duration: an empty months box is fine.
            self.months.validators = []
            if self.months.raw_data and self.months.raw_data[0].strip():
                self.months.validators = [_months_not_with_permanent]
        else:
            self.months.validators = [
                InputRequired(_l("Enter the months, or tick “Permanent”.")),
                *self.months.validators,
            ]
        return super().validate(extra_validators)

    def validate_value(self, field) -> None:
        if field.data is None:
            return
        if self.kind.data == DiscountKind.PERCENT:
            amount_between(ZERO, HUNDRED, exclusive_minimum=True)(self, field)
        else:
            amount_between(ZERO, MAX_AMOUNT)(self, field)


def _months_not_with_permanent(form, field) -> None:
    raise ValidationError(_l("Leave months empty for a permanent discount."))


class EquipmentRow(RowForm):
    kind = SelectField(_l("Type"), choices=choices(EquipmentType), default=EquipmentType.ROUTER)
    model = text_field(_l("Model"), 100, required=False)
    serial = text_field(
        _l("Serial number"),
        64,
        required=False,
        pattern=r"^[A-Za-z0-9-]+$",
        pattern_message=_l("Use Latin letters, digits and “-” only."),
        render_kw={"autocapitalize": "characters", "spellcheck": "false"},
    )
    terms = SelectField(_l("Terms"), choices=choices(EquipmentTerms), default=EquipmentTerms.RENTED)
    monthly_fee = AmountField(_l("Monthly fee"), validators=[amount_between(ZERO, MAX_AMOUNT)])

    typed_fields = required_fields = ("model", "serial", "monthly_fee")


def _at_most_rows(limit: int):
    def validator(form, field) -> None:
        filled = [entry for entry in field.entries if not entry.form.is_blank()]
        if len(filled) > limit:
            raise ValidationError(_l("At most %(limit)d rows.", limit=limit))

    return validator


class HandoverForm(FlaskForm):
    order_number = text_field(
        _l("Order number"), 32, pattern=DOCUMENT_NUMBER.pattern,
        pattern_message=_l("Use letters, digits, “-” and “/” only."),
    )
    account_number = text_field(
        _l("Account number"), 20, pattern=r"^[0-9]{5,20}$",
        pattern_message=_l("Use 5 to 20 digits."),
        render_kw={"inputmode": "numeric"},
    )
    contract_number = text_field(
        _l("Contract number"), 32, pattern=DOCUMENT_NUMBER.pattern,
        pattern_message=_l("Use letters, digits, “-” and “/” only."),
    )
    contract_pages = WholeNumberField(
        _l("Pages in the contract"),
        validators=[
            InputRequired(FILL_IN),
            NumberRange(1, 200, _l("Enter from 1 to 200 pages.")),
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": 200},
    )
    subscriber_name = text_field(_l("Subscriber's full name"), 200)
    phone = text_field(
        _l("Subscriber's phone"), 32, render_kw={"inputmode": "tel", "autocomplete": "off"}
    )
    address = text_field(_l("Service address"), 500)
    services = CheckboxesField(
        _l("Services"), choices=choices(Service),
        validators=[DataRequired(_l("Choose at least one service."))],
    )
    tariff_name = text_field(_l("Tariff"), 100)
    monthly_fee = AmountField(
        _l("Monthly fee"),
        validators=[InputRequired(FILL_IN), amount_between(ZERO, MAX_AMOUNT)],
    )
    billing_method = SelectField(
        _l("Billing method"), choices=choices(BillingMethod), default=BillingMethod.CREDIT
    )
    portal_login = text_field(
        _l("Personal account login handed over"),
        64,
        required=False,
        description=_l("Only the login. Never type the password anywhere in Handover."),
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    documents = CheckboxesField(_l("Documents handed over"), choices=choices(Document))
    discounts = FieldList(
        FormField(DiscountRow), label=_l("Discounts written in the application"),
        validators=[_at_most_rows(MAX_DISCOUNTS)],
    )
    equipment = FieldList(
        FormField(EquipmentRow), label=_l("Equipment"),
        validators=[_at_most_rows(MAX_EQUIPMENT)],
    )
    submit = SubmitField(_l("Save"))

    def validate_phone(self, field) -> None:
        if not field.data:
            return
        try:
            field.data = normalise_phone(field.data, current_app.config["PHONE_REGION"])
        except PhoneError:
            message = _l("Enter a valid phone number, for example +7 912 345-67-89.")
            raise ValidationError(message) from None

    def validate_portal_login(self, field) -> None:
        if field.data and not field.data.isprintable():
            raise ValidationError(_l("Use printable characters only."))

    def filled_discounts(self) -> list[dict]:
        """Return the discount rows the person filled in, as plain values."""
        return [e.form.data for e in self.discounts.entries if not e.form.is_blank()]

    def filled_equipment(self) -> list[dict]:
        """Return the equipment rows the person filled in, as plain values."""
        return [e.form.data for e in self.equipment.entries if not e.form.is_blank()]

    def pad_rows(self, spare: int = 2) -> None:
        """Offer empty rows so the form works without JavaScript."""
        for rows, limit in ((self.discounts, MAX_DISCOUNTS), (self.equipment, MAX_EQUIPMENT)):
            while len(rows) < limit and sum(e.form.is_blank() for e in rows) < spare:
                rows.append_entry()
