"""The technician's handover form: the facts as the application states them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SubmitField
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
    Form,
    RowForm,
    RowList,
    SignedForm,
    WholeNumberField,
    amount_between,
    choice_field,
    text_field,
)
from webapp.handovers.service import FACT_FIELDS

# Lengths of the facts as typed: the form and the JSON API take the same.
LIMITS = {
    "order_number": 32, "account_number": 20, "contract_number": 32, "subscriber_name": 200,
    "phone": 32, "address": 500, "tariff_name": 100, "portal_login": 64,
    "discount_description": 200, "equipment_model": 100, "serial": 64,
}
MAX_DISCOUNTS = 10
MAX_EQUIPMENT = 20
MAX_MONTHS = 120
MAX_CONTRACT_PAGES = 200
ZERO = Decimal(0)
HUNDRED = Decimal(100)


class DiscountRow(RowForm):
    description = text_field(_l("Description"), LIMITS["discount_description"], required=False)
    kind = choice_field(_l("Kind"), DiscountKind, default=DiscountKind.PERCENT)
    value = AmountField(_l("Value"))
    months = WholeNumberField(
        _l("For how many months"),
        validators=[
            NumberRange(1, MAX_MONTHS, _l("Enter from 1 to %(max)d months.", max=MAX_MONTHS))
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_MONTHS},
    )
    permanent = BooleanField(_l("Permanent"))

    typed_fields = ("description", "value", "months")
    required_fields = ("description", "value")

    def validate(self, extra_validators=None) -> bool:
        # A discount lasts some months or is permanent: exactly one of the two.
        if self.permanent.data:
            typed_months = self.months.raw_data and self.months.raw_data[0].strip()
            self.months.validators = [_months_not_with_permanent] if typed_months else []
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
    kind = choice_field(_l("Type"), EquipmentType, default=EquipmentType.ROUTER)
    model = text_field(_l("Model"), LIMITS["equipment_model"], required=False)
    serial = text_field(
        _l("Serial number"),
        LIMITS["serial"],
        required=False,
        pattern=r"^[A-Za-z0-9-]+$",
        pattern_message=_l("Use Latin letters, digits and “-” only."),
        render_kw={"autocapitalize": "characters", "spellcheck": "false"},
    )
    terms = choice_field(_l("Terms"), EquipmentTerms, default=EquipmentTerms.RENTED)
    monthly_fee = AmountField(_l("Monthly fee"), validators=[amount_between(ZERO, MAX_AMOUNT)])

    typed_fields = required_fields = ("model", "serial", "monthly_fee")


class HandoverForm(Form):
    order_number = text_field(
        _l("Order number"), LIMITS["order_number"], pattern=DOCUMENT_NUMBER.pattern,
        pattern_message=_l("Use letters, digits, “-” and “/” only."),
    )
    account_number = text_field(
        _l("Account number"), LIMITS["account_number"], pattern=r"^[0-9]{5,20}$",
        pattern_message=_l("Use 5 to 20 digits."),
        render_kw={"inputmode": "numeric"},
    )
    contract_number = text_field(
        _l("Contract number"), LIMITS["contract_number"], pattern=DOCUMENT_NUMBER.pattern,
        pattern_message=_l("Use letters, digits, “-” and “/” only."),
    )
    contract_pages = WholeNumberField(
        _l("Pages in the contract"),
        validators=[
            InputRequired(FILL_IN),
            NumberRange(
                1, MAX_CONTRACT_PAGES,
                _l("Enter from 1 to %(max)d pages.", max=MAX_CONTRACT_PAGES),
            ),
        ],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_CONTRACT_PAGES},
    )
    subscriber_name = text_field(_l("Subscriber's full name"), LIMITS["subscriber_name"])
    phone = text_field(
        _l("Subscriber's phone"), LIMITS["phone"],
        render_kw={"inputmode": "tel", "autocomplete": "off"},
    )
    address = text_field(_l("Service address"), LIMITS["address"])
    services = CheckboxesField(
        _l("Services"), vocabulary=Service,
        validators=[DataRequired(_l("Choose at least one service."))],
    )
    tariff_name = text_field(_l("Tariff"), LIMITS["tariff_name"])
    monthly_fee = AmountField(
        _l("Monthly fee"),
        validators=[InputRequired(FILL_IN), amount_between(ZERO, MAX_AMOUNT)],
    )
    billing_method = choice_field(
        _l("Billing method"), BillingMethod, default=BillingMethod.CREDIT
    )
    portal_login = text_field(
        _l("Personal account login handed over"),
        LIMITS["portal_login"],
        required=False,
        description=_l("Only the login. Never type the password anywhere in Handover."),
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    documents = CheckboxesField(_l("Documents handed over"), vocabulary=Document)
    discounts = RowList(
        DiscountRow, MAX_DISCOUNTS, label=_l("Discounts written in the application")
    )
    equipment = RowList(EquipmentRow, MAX_EQUIPMENT, label=_l("Equipment"))
    submit = SubmitField(_l("Save"))

    def validate_phone(self, field) -> None:
        if field.data and self.normalised_phone() is None:
            message = _l("Enter a valid phone number, for example +7 912 345-67-89.")
            raise ValidationError(message)

    def validate_portal_login(self, field) -> None:
        if field.data and not field.data.isprintable():
            raise ValidationError(_l("Use printable characters only."))

    def normalised_phone(self) -> str | None:
        """Return the phone in E.164; the field keeps what the person typed."""
        try:
            return normalise_phone(self.phone.data, current_app.config["PHONE_REGION"])
        except PhoneError:
            return None

    def facts(self) -> dict[str, Any]:
        """Return the validated facts as plain values, the phone in E.164."""
        return {name: self[name].data for name in FACT_FIELDS} | {"phone": self.normalised_phone()}

    def pad_rows(self) -> None:
        """Offer empty rows so the form works without JavaScript."""
        self.discounts.pad()
        self.equipment.pad()


class CountersignForm(SignedForm):
    submit = SubmitField(_l("Countersign and close the job"))


class ConfirmActionForm(Form):
    """One button that changes the handover's state (freeze, reopen)."""
