from wtforms import HiddenField, SubmitField

from webapp.forms import Form


class LanguageForm(Form):
    # The buttons carry the language; `next` brings the person back where they were.
    next = HiddenField()
    ru = SubmitField("Русский")
    en = SubmitField("English")
