"""Fields and validators that every form shares, so each rule is written once."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from babel import support
from flask import current_app, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from flask_wtf.form import SUBMIT_METHODS
from werkzeug.datastructures import CombinedMultiDict
from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.fields import Field
from wtforms.i18n import messages_path
from wtforms.utils import unset_value
from wtforms.validators import DataRequired, Optional, Regexp, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput, TextInput

from webapp.domain.money import AmountError, parse_amount
from webapp.domain.signature import MAX_STROKES, Drawing, SignatureError, parse_drawing
from webapp.domain.text import AT_MOST, NO_CONTROL_CHARACTERS, has_control_characters
from webapp.domain.text import FILL_IN as FILL_IN_MESSAGE
from webapp.labels import choices

FILL_IN = _l(FILL_IN_MESSAGE)
CHOOSE_OFFERED = _l("Choose one of the options offered.")


@cache
def wtforms_catalog(locale: str) -> support.Translations:
    """WTForms' own messages in the language, read once per process (Flask-WTF reads the
    catalog file again on every request)."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


# A form built without formdata gets this instead, and reads the request itself.
_FROM_REQUEST = object()


class Form(FlaskForm):
    """Every form of Handover. It reads the posted fields, and uploaded files only
    when it has a file field, never a JSON body: a text field always gets text, so a
    file part or a JSON number sent in its place is refused like any bad value."""

    def __init__(self, formdata=_FROM_REQUEST, **kwargs):
        super().__init__(formdata=formdata, **kwargs)

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_catalog(str(get_locale()))

        def wrap_formdata(self, form, formdata):
            if formdata is not _FROM_REQUEST:
                return super().wrap_formdata(form, formdata)
            if request.method not in SUBMIT_METHODS:
                return None
            if any(isinstance(field, FileField) for field in form):
                return CombinedMultiDict((request.files, request.form))
            return request.form


def _has_content(field) -> bool:
    value = field.raw_data[0] if field.raw_data else field.data
    return value is not None and str(value).strip() != ""


class RowForm(Form):
    """A repeated row inside a bigger form (the outer form carries the CSRF token).

    A row left empty is ignored. Once anything is typed into one of its
    `typed_fields`, every field in `required_fields` must be filled too.
    """

    class Meta:
        csrf = False

    typed_fields: tuple[str, ...] = ()
    required_fields: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        """Tell whether the row is empty (selects and checkboxes aside), as typed or as stored."""
        return not any(_has_content(self[name]) for name in self.typed_fields)

    def validate(self, extra_validators=None) -> bool:
        if self.is_blank():
            return True
        ok = super().validate(extra_validators)
        for name in self.required_fields:
            field = self[name]
            if field.data in (None, "") and not field.errors:
                field.errors = [FILL_IN]
                ok = False
        return ok


def strip(value):
    return value.strip() if isinstance(value, str) else value


class MaxLength:
    """Refuse text longer than the limit, and stop there: one clear message per field."""

    def __init__(self, limit: int):
        self.limit = limit
        self.field_flags = {"maxlength": limit}  # rendered as the input's maxlength

    def __call__(self, form, field) -> None:
        if isinstance(field.data, str) and len(field.data) > self.limit:
            raise StopValidation(_l(AT_MOST, max=self.limit))


def no_control_characters(form, field) -> None:
    """Refuse control characters, which no typed value needs."""
    if isinstance(field.data, str) and has_control_characters(field.data):
        raise StopValidation(_l(NO_CONTROL_CHARACTERS))


def text_field(
    label,
    max_length: int,
    *,
    required: bool = True,
    pattern: str | None = None,
    pattern_message=None,
    also=(),
    **kwargs,
) -> StringField:
    """Build a stripped, length-limited text field that refuses control characters;
    `also` adds validators that run after those."""
    validators = [DataRequired(FILL_IN) if required else Optional()]
    validators += [MaxLength(max_length), no_control_characters]
    if pattern:
        validators.append(Regexp(pattern, message=pattern_message))
    validators += also
    return StringField(label, validators=validators, filters=[strip], **kwargs)


class TypedField(Field):
    """A field whose text must first convert to a value; when it does not, the
    conversion's message is the only one shown, not range checks on nothing.

    Conversion messages use the application's catalog (`_`): a field's own
    `self.gettext` looks only in WTForms' catalog, which does not have them, so
    they would reach Russian pages in English."""

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else self.format(self.data)

    def format(self, value) -> str:
        return str(value)

    def pre_validate(self, form) -> None:
        if self.process_errors:
            raise StopValidation()


class AmountField(TypedField):
    """An exact amount with up to two decimals; accepts "1 234,50" as well as "1234.50"."""

    widget = TextInput()

    def __init__(self, label=None, validators=None, **kwargs):
        render_kw = {"inputmode": "decimal", "autocomplete": "off", "maxlength": 16}
        render_kw.update(kwargs.pop("render_kw", {}))
        super().__init__(label, validators, render_kw=render_kw, **kwargs)

    def format(self, value: Decimal) -> str:
        return f"{value:.2f}"

    def process_formdata(self, valuelist) -> None:
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = parse_amount(valuelist[0])
        except AmountError:
            self.data = None
            message = _("Enter a number with at most two decimals, for example 499.90.")
            raise ValueError(message) from None


class WholeNumberField(TypedField):
    """A whole number typed in ASCII digits; an empty box means no value, not an error."""

    widget = NumberInput()

    def process_formdata(self, valuelist) -> None:
        text = valuelist[0].strip() if valuelist else ""
        if not text:
            self.data = None
        elif text.isascii() and text.isdigit() and len(text) <= 9:
            self.data = int(text)
        else:
            self.data = None
            raise ValueError(_("Enter a whole number, for example 12."))


def amount_between(minimum: Decimal, maximum: Decimal, *, exclusive_minimum: bool = False):
    """Validate that an amount lies in a range, with the range in the message."""

    def validator(form, field) -> None:
        value = field.data
        if value is None:
            return
        too_small = value <= minimum if exclusive_minimum else value < minimum
        if too_small or value > maximum:
            message = (
                _l("Enter more than %(min)s and at most %(max)s.", min=minimum, max=maximum)
                if exclusive_minimum
                else _l("Enter a value from %(min)s to %(max)s.", min=minimum, max=maximum)
            )
            raise ValidationError(message)

    return validator


def choice_field(label, vocabulary, **kwargs) -> SelectField:
    """Build a select offering the vocabulary's values with their labels."""
    return SelectField(
        label, choices=choices(vocabulary), invalid_choice_message=CHOOSE_OFFERED, **kwargs
    )


class CheckboxesField(SelectMultipleField):
    """Several choices of a vocabulary shown as checkboxes; a choice sent twice counts once."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, vocabulary=(), **kwargs):
        super().__init__(
            label, validators, choices=choices(vocabulary),
            invalid_choice_message=CHOOSE_OFFERED, **kwargs,
        )

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(list(dict.fromkeys(valuelist)))


class RowList(FieldList):
    """Rows of a row form, at most `limit` of them filled in.

    Whatever a client sends, no more than twice the limit is ever built: an
    honest form never sends more (the page offers at most the limit plus two
    empty rows), and a flood of rows must not cost seconds of CPU.
    """

    def __init__(self, row_form: type[RowForm], limit: int, label=None, **kwargs):
        super().__init__(FormField(row_form), label, max_entries=2 * limit, **kwargs)
        self.limit = limit
        self.too_many_sent = False

    def process(self, formdata, data=unset_value, extra_filters=None) -> None:
        if formdata:
            sent = set(self._extract_indices(self.name, formdata))
            self.too_many_sent = len(sent) > self.max_entries
        super().process(formdata, data, extra_filters)

    def validate(self, form, extra_validators=()) -> bool:
        ok = super().validate(form, extra_validators)
        filled = sum(not entry.form.is_blank() for entry in self.entries)
        if self.too_many_sent or filled > self.limit:
            self.errors.append(_l("At most %(limit)d rows.", limit=self.limit))
            return False
        return ok

    def filled(self) -> list[dict]:
        """Return the rows the person filled in, as plain values."""
        return [entry.form.data for entry in self.entries if not entry.form.is_blank()]

    def pad(self, spare: int = 2) -> None:
        """Offer empty rows (within the limit) so the form works without JavaScript."""
        while len(self) < self.limit and sum(e.form.is_blank() for e in self) < spare:
            self.append_entry()




SIGNATURE_PROBLEMS = {
    "format": _l("The signature could not be read. Clear it and sign again."),
    "empty": _l("Sign in the box, or type your full name instead."),
    "too_many_strokes": _l(
        "The signature has too many strokes (at most %(max)d). Clear it and sign again.",
        max=MAX_STROKES,
    ),
    "too_many_points": _l("The signature is too long. Clear it and sign again."),
    "outside": _l("The signature goes outside the box. Clear it and sign again."),
}


class SignedForm(Form):
    """A form that ends with a signature: drawn with a finger, or the typed full name."""

    signature = HiddenField(filters=[strip])
    typed_name = text_field(
        _l("Or type your full name as your signature"), 200, required=False,
        render_kw={"autocomplete": "name"},
    )

    def validate_signature(self, field) -> None:
        if not field.data and not self.typed_name.data:
            raise ValidationError(SIGNATURE_PROBLEMS["empty"])
        if field.data:
            try:
                self._drawing = parse_drawing(field.data)
            except SignatureError as error:
                raise ValidationError(SIGNATURE_PROBLEMS[error.reason]) from None

    def drawing(self) -> Drawing | None:
        """Return the validated drawing; None when the person typed their name instead."""
        return getattr(self, "_drawing", None)


class ConfirmForm(Form):
    """A bare form with a CSRF token, for actions that are a single button (signing out,
    and the administrators' confirmations)."""


class LanguageForm(Form):
    """The language switch in every page's header."""

    # The buttons carry the language; `next` brings the person back where they were.
    next = HiddenField()
    ru = SubmitField("Русский")
    en = SubmitField("English")
