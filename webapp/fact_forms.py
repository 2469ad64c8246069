"""Form fields built from the declared facts (webapp/domain/facts.py).

The technician's handover form and the subscriber's "what I was promised" rows
are made here, so a fact's limits, pattern and label are written only in its
declaration.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField
from wtforms.validators import DataRequired, InputRequired, NumberRange, ValidationError

from webapp.domain.checklist import DiscountTerms
from webapp.domain.email_address import EmailError, normalise_email
from webapp.domain.facts import (
    DISCOUNT_FIELDS,
    EQUIPMENT_FIELDS,
    SECTION_TITLES,
    WHOLE_RANGE,
    Fact,
    Kind,
    discount_value_range,
)
from webapp.domain.phone import NOT_MOBILE, PhoneError, normalise_phone, takes_sms
from webapp.domain.text import PRINTABLE_ONLY
from webapp.forms import (
    FILL_IN,
    AmountField,
    CheckboxesField,
    Form,
    RowForm,
    WholeNumberField,
    amount_between,
    choice_field,
    text_field,
)


def _printable(form, field) -> None:
    if field.data and not field.data.isprintable():
        raise ValidationError(_l(PRINTABLE_ONLY))


def _phone_number(mobile: bool):
    def check(form, field) -> None:
        if not field.data:
            return
        number = e164(field.data)
        if number is None:
            raise ValidationError(_l("Enter a valid phone number, for example +7 912 345-67-89."))
        if mobile and not takes_sms(number):
            raise ValidationError(_l(NOT_MOBILE))

    return check


def _email_address(form, field) -> None:
    if not field.data:
        return
    try:
        normalise_email(field.data)
    except EmailError as error:
        raise ValidationError(_l(error.message)) from None


def e164(typed: str) -> str | None:
    """Return a typed phone number in E.164, or None if it is not a valid number."""
    try:
        return normalise_phone(typed, current_app.config["PHONE_REGION"])
    except PhoneError:
        return None


def _range(fact: Fact) -> list:
    if fact.minimum is None and fact.maximum is None:
        return []
    if fact.kind is Kind.MONEY:
        return [amount_between(fact.minimum, fact.maximum)]
    message = _l(fact.range_message or WHOLE_RANGE, min=fact.minimum, max=fact.maximum)
    return [NumberRange(fact.minimum, fact.maximum, message)]


def field_for(fact: Fact, *, required: bool | None = None):
    """Return the form field of a declared fact (unbound, as in a class body)."""
    required = fact.required if required is None else required
    label = _l(fact.label)
    render_kw = dict(fact.inputs)
    description = _l(fact.hint) if fact.hint else ""
    if fact.kind in (Kind.TEXT, Kind.PHONE, Kind.EMAIL):
        extra = [_printable] if fact.printable else []
        extra += [_phone_number(fact.mobile)] if fact.kind is Kind.PHONE else []
        extra += [_email_address] if fact.kind is Kind.EMAIL else []
        return text_field(
            label, fact.max_length, required=required, pattern=fact.pattern,
            pattern_message=_l(fact.pattern_message) if fact.pattern_message else None,
            also=extra, description=description, render_kw=render_kw,
        )
    if fact.kind is Kind.WHOLE:
        if fact.minimum is not None:
            render_kw |= {"min": fact.minimum, "max": fact.maximum}
        first = [InputRequired(FILL_IN)] if required else []
        return WholeNumberField(
            label, validators=first + _range(fact), render_kw=render_kw, description=description
        )
    if fact.kind is Kind.MONEY:
        first = [InputRequired(FILL_IN)] if required else []
        return AmountField(
            label, validators=first + _range(fact), description=description, render_kw=render_kw
        )
    if fact.kind is Kind.CHOICE:
        return choice_field(
            label, fact.vocabulary, default=fact.default, description=description,
            render_kw=render_kw,
        )
    message = _l(fact.required_message) if fact.required_message else FILL_IN
    return CheckboxesField(
        label, vocabulary=fact.vocabulary, description=description, render_kw=render_kw,
        validators=[DataRequired(message)] if required else [],
    )


def fields_for(facts: Iterable[Fact], **kwargs) -> dict[str, Any]:
    """Return the fields of the facts by name, in the declaration's order."""
    return {fact.name: field_for(fact, **kwargs) for fact in facts}


def value_of(fact: Fact, field) -> Any:
    """Return a validated field's value as recorded: a phone in E.164, an e-mail normalised."""
    if fact.kind is Kind.PHONE and field.data:
        return e164(field.data)
    if fact.kind is Kind.EMAIL and field.data:
        return normalise_email(field.data)
    return field.data


def lines(form, facts: Iterable[Fact]) -> list[list]:
    """Return the facts' fields as lines: one field, or two half-width ones side by side."""
    found: list[list] = []
    for fact in facts:
        last = found[-1] if found else None
        if fact.half and last and len(last) == 1 and last[0][1].half:
            last.append((form[fact.name], fact))
        else:
            found.append([(form[fact.name], fact)])
    return [[field for field, _ in line] for line in found]


def layout(form, facts: Iterable[Fact]) -> list[tuple[str, str, list[list]]]:
    """Return the form's sections: (section, title, lines)."""
    sections: dict[str, list[Fact]] = {}
    for fact in facts:
        sections.setdefault(fact.section, []).append(fact)
    return [
        (section, _l(SECTION_TITLES[section]), lines(form, in_section))
        for section, in_section in sections.items()
    ]


def with_fields(base: type, facts: tuple[Fact, ...], **kwargs) -> type:
    """Return a subclass of the form class with the facts' fields, in their order."""
    return type(base.__name__, (base,), fields_for(facts, **kwargs))


class DeclaredRow(RowForm):
    """A row of declared fields (row_form() makes one), laid out like the facts."""

    facts_declared: tuple[Fact, ...] = ()

    def lines(self) -> list[list]:
        return lines(self, self.facts_declared)

    def undeclared(self) -> list:
        """Return the row's fields that are not declared facts (a "permanent" tick)."""
        names = {fact.name for fact in self.facts_declared}
        return [field for field in self if field.short_name not in names]


def row_form(facts: tuple[Fact, ...]) -> type[DeclaredRow]:
    """Return a row form of the facts. Its required fields are checked by RowForm once
    anything is typed into the row, so an untouched row is no error; what a person
    types (not picks from a list) is what makes a row filled in."""
    row = with_fields(DeclaredRow, facts, required=False)
    row.facts_declared = facts
    typed = [fact for fact in facts if fact.kind not in (Kind.CHOICE, Kind.CHOICES)]
    row.typed_fields = tuple(fact.name for fact in typed)
    row.required_fields = tuple(fact.name for fact in typed if fact.required)
    return row


class DiscountRow(row_form(DISCOUNT_FIELDS)):
    """A discount: written in the application, or stated by the subscriber."""

    permanent = BooleanField(_l("Permanent"))

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
        low, high, exclusive = discount_value_range(self.kind.data)
        amount_between(low, high, exclusive_minimum=exclusive)(self, field)

    @staticmethod
    def terms_of(row: dict[str, Any]) -> DiscountTerms:
        """Return a filled-in row's values as discount terms."""
        months = None if row["permanent"] else row["months"]
        return DiscountTerms(row["kind"], row["value"], months, row["description"])

    @staticmethod
    def row_of(terms: DiscountTerms) -> dict[str, Any]:
        """Return discount terms as the row shows them."""
        return {
            "description": terms.description, "kind": terms.kind, "value": terms.value,
            "months": terms.months, "permanent": terms.months is None,
        }


def _months_not_with_permanent(form, field) -> None:
    raise ValidationError(_l("Leave months empty for a permanent discount."))


class EquipmentRow(row_form(EQUIPMENT_FIELDS)):
    """One piece of equipment handed over."""


class FactsForm(Form):
    """A form with a field for every declared fact (subclass it with the facts)."""

    facts_declared: tuple[Fact, ...] = ()

    def facts(self) -> dict[str, Any]:
        """Return the validated facts as plain values, a phone in E.164, an e-mail normalised."""
        return {fact.name: value_of(fact, self[fact.name]) for fact in self.facts_declared}

    def layout(self):
        return layout(self, self.facts_declared)


def facts_form(facts: tuple[Fact, ...]) -> type[FactsForm]:
    """Return a form class with the facts' fields, first and in their order."""
    form = with_fields(FactsForm, facts)
    form.facts_declared = facts
    return form


def typed(fact: Fact, value: Any) -> Any:
    """Return a fact's value as a person types it into the form."""
    if fact.kind is Kind.CHOICES:
        return list(value)
    if fact.kind is Kind.MONEY:
        return f"{value:.2f}".replace(".", ",")  # as Russian speakers write it
    return str(value)


def example_formdata(facts: Iterable[Fact]) -> dict[str, Any]:
    """Return a valid handover form as a browser sends it: every fact's example, one
    discount and one piece of equipment (the demo, tests and benchmarks start here)."""
    data = {fact.name: typed(fact, fact.example) for fact in facts}
    for prefix, fields in (("discounts-0-", DISCOUNT_FIELDS), ("equipment-0-", EQUIPMENT_FIELDS)):
        data |= {prefix + fact.name: typed(fact, fact.example) for fact in fields}
    return data
