from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField
from wtforms.validators import StopValidation

from webapp.forms import Form, text_field
from webapp.receipts.access import canonical_code, canonical_number


class UploadForm(Form):
    pdf = FileField(
        _l("Receipt PDF"),
        validators=[FileRequired(_l("Choose the PDF file of the receipt."))],
        render_kw={"accept": "application/pdf,.pdf"},
    )
    check_file = SubmitField(_l("Check the file"))


class CodeForm(Form):
    number = text_field(_l("Receipt number"), 20, render_kw={"autocapitalize": "characters"})
    code = text_field(_l("Verification code"), 20, render_kw={"autocapitalize": "characters"})
    check_code = SubmitField(_l("Check the code"))


def _canonical(reader, message):
    """Refuse a value that does not read as a receipt's number or code, however typed."""

    def validator(form, field) -> None:
        if isinstance(field.data, str) and reader(field.data) is None:
            raise StopValidation(message)

    return validator


# Lengths leave room for spaces and dashes around the 10 characters that count.
NUMBER_LIMIT = CODE_LIMIT = 20


class AccessForm(Form):
    """The number and code that open a receipt on any device (/r)."""

    number = text_field(
        _l("Receipt number"), NUMBER_LIMIT,
        also=[_canonical(canonical_number, _l(
            "This does not read as a receipt number. Check it against the SMS or the receipt."
        ))],
        description=_l("As in the SMS or on the receipt, for example HO-7K4M-9QX2."),
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    code = text_field(
        _l("Verification code"), CODE_LIMIT,
        also=[_canonical(canonical_code, _l(
            "The code has 10 letters and digits. Check it against the SMS or the receipt."
        ))],
        description=_l("10 letters and digits, for example 7K4M9-QX2HT."),
        render_kw={"autocapitalize": "characters", "autocomplete": "off", "spellcheck": "false"},
    )
    open_receipt = SubmitField(_l("Open the receipt"))
