from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField


class LanguageForm(FlaskForm):
    # The buttons carry the language; `next` brings the person back where they were.
    next = HiddenField()
    ru = SubmitField("Русский")
    en = SubmitField("English")
