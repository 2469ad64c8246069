from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, SubmitField
from wtforms.validators import DataRequired

from webapp.forms import FILL_IN, Form, MaxLength, text_field


class LoginForm(Form):
    login = text_field(
        _l("Login"), 64, render_kw={"autocomplete": "username", "autocapitalize": "none"}
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(FILL_IN), MaxLength(256)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))
