"""The kiosk's form: the technician's password, to take the device back."""

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SubmitField
from wtforms.validators import DataRequired

from webapp.forms import FILL_IN, Form, MaxLength


class ReturnForm(Form):
    """The technician's password, to take the device back from the subscriber."""

    password = PasswordField(
        _l("Technician's password"),
        validators=[DataRequired(FILL_IN), MaxLength(256)],
        # Not "current-password": the browser must not offer to fill in the
        # technician's saved password for whoever holds the device.
        render_kw={"autocomplete": "off"},
    )
    submit = SubmitField(_l("Return to the technician"))
