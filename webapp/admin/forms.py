"""The administrator's forms: a new staff account and a change of role."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SubmitField
from wtforms.validators import StopValidation

from webapp.domain.terms import Role
from webapp.forms import Form, choice_field, text_field
from webapp.staff import LIMITS, MIN_PASSWORD_LENGTH, Problem, StaffError, clean_value

ACCOUNT_FIELDS = ("login", "full_name", "employee_id", "contractor")
NOT_TYPED = {"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}


def problem_message(error: StaffError) -> str:
    """Word a refusal of the staff rules in the person's language."""
    if error.problem is Problem.LENGTH:
        return _("Use 1 to %(max)d printable characters.", max=LIMITS[error.field])
    if error.problem is Problem.TOO_SHORT:
        return _("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH)
    return {
        Problem.SPACES: _("A login cannot contain spaces."),
        Problem.TAKEN: _("This login is already taken. Choose another."),
        Problem.OWN_ADMIN_ROLE: _(
            "You cannot take away your own administrator role. Ask another administrator."
        ),
        Problem.OWN_ACCOUNT: _(
            "You cannot deactivate your own account. Ask another administrator."
        ),
    }[error.problem]


def follow_staff_rules(field) -> None:
    """Check the field with the rules the CLI uses too, after the form's own checks."""
    try:
        clean_value(field.name, field.data)
    except StaffError as error:
        raise StopValidation(problem_message(error)) from None


class StaffForm(Form):
    """A new staff account; its password is generated, never typed."""

    login = text_field(_l("Login"), LIMITS["login"], render_kw=NOT_TYPED)
    full_name = text_field(
        _l("Full name"), LIMITS["full_name"],
        description=_l("As subscribers see it on their receipts."),
    )
    role = choice_field(_l("Role"), Role, default=Role.TECHNICIAN)
    employee_id = text_field(
        _l("Employee ID"), LIMITS["employee_id"], required=False, render_kw=NOT_TYPED
    )
    contractor = text_field(
        _l("Contractor"), LIMITS["contractor"], required=False,
        description=_l("The contractor company, for technicians."),
    )
    submit = SubmitField(_l("Create the account"))

    def validate_login(self, field) -> None:
        follow_staff_rules(field)

    def validate_full_name(self, field) -> None:
        follow_staff_rules(field)

    def validate_employee_id(self, field) -> None:
        follow_staff_rules(field)

    def validate_contractor(self, field) -> None:
        follow_staff_rules(field)

    def account(self) -> dict[str, Any]:
        """Return the validated values as `create_staff_user` takes them."""
        return {name: self[name].data for name in ACCOUNT_FIELDS} | {"role": Role(self.role.data)}


class RoleForm(Form):
    role = choice_field(_l("Role"), Role)
    submit = SubmitField(_l("Change the role"))
