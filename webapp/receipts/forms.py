from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import SubmitField

from webapp.forms import Form, text_field


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
