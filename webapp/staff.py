"""Staff accounts: the rules for creating and changing one, shared by the CLI, the
administration pages and demo data.

These functions change the session and never commit: the caller does (the rule
in webapp/extensions.py)."""

from __future__ import annotations

import secrets
from enum import StrEnum

import sqlalchemy as sa

from webapp.domain.terms import Role
from webapp.domain.text import has_control_characters
from webapp.extensions import db
from webapp.models import User

MIN_PASSWORD_LENGTH = 10
LIMITS = {
    name: User.__table__.c[name].type.length
    for name in ("login", "full_name", "employee_id", "contractor")
}
REQUIRED = frozenset({"login", "full_name"})
# Lower-case letters and digits that cannot be mistaken for one another when read
# aloud or copied by hand (no 0/o, 1/l/i); 16 of them are about 80 bits.
UNAMBIGUOUS_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"
PASSWORD_GROUPS = 4


class Problem(StrEnum):
    """What is wrong with a value, so each caller can word it in its own language."""

    LENGTH = "length"  # empty when required, too long, or with control characters
    SPACES = "spaces"
    TAKEN = "taken"
    TOO_SHORT = "too_short"
    OWN_ADMIN_ROLE = "own_admin_role"
    OWN_ACCOUNT = "own_account"


class StaffError(ValueError):
    """The account cannot be created or changed as asked.

    `field` names the value at fault and `problem` what is wrong with it; the
    message (str) is the English sentence the CLI prints.
    """

    def __init__(self, field: str, problem: Problem, message: str):
        super().__init__(message)
        self.field = field
        self.problem = problem


def clean_value(name: str, value: str | None) -> str | None:
    """Return an account field as it is stored (stripped; None for an empty optional
    one), or raise StaffError; a login must also be free."""
    value = (value or "").strip()
    if not value and name not in REQUIRED:
        return None
    if not value or len(value) > LIMITS[name] or has_control_characters(value):
        raise StaffError(
            name, Problem.LENGTH, f"{name} must be 1 to {LIMITS[name]} printable characters."
        )
    if name == "login":
        if any(character.isspace() for character in value):
            raise StaffError(name, Problem.SPACES, "login must not contain spaces.")
        if db.session.scalar(sa.select(User.id).where(User.login == value)):
            raise StaffError(name, Problem.TAKEN, f"login {value!r} is already taken.")
    return value


def check_password(password: str) -> None:
    """Raise StaffError when the password is too short to be allowed."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(
            "password", Problem.TOO_SHORT,
            f"password must have at least {MIN_PASSWORD_LENGTH} characters.",
        )


def generate_password() -> str:
    """Return a new random password, grouped for reading: "k7pm-x3qd-9hwe-t2nc"."""
    groups = (
        "".join(secrets.choice(UNAMBIGUOUS_CHARACTERS) for _ in range(4))
        for _ in range(PASSWORD_GROUPS)
    )
    return "-".join(groups)


def create_staff_user(
    *,
    login: str,
    full_name: str,
    role: Role,
    password: str,
    employee_id: str | None = None,
    contractor: str | None = None,
) -> User:
    """Add a new active staff account to the session, after checking every value."""
    typed = {
        "login": login, "full_name": full_name,
        "employee_id": employee_id, "contractor": contractor,
    }
    values = {name: clean_value(name, value) for name, value in typed.items()}
    check_password(password)
    user = User(role=role, active=True, **values)
    user.set_password(password)
    db.session.add(user)
    return user


def change_role(user: User, role: Role, *, by: User) -> str:
    """Give the user another role and return the old one.

    An administrator cannot take away their own admin role, so the system is never
    left without an administrator by accident.
    """
    if user.id == by.id and user.role == Role.ADMIN and role != Role.ADMIN:
        raise StaffError("role", Problem.OWN_ADMIN_ROLE, "You cannot remove your own admin role.")
    old_role, user.role = user.role, role
    return old_role


def set_active(user: User, active: bool, *, by: User) -> bool:
    """Enable or disable the account and tell whether that changed anything.

    Nobody can disable their own account (the same reason as for the admin role).
    """
    if user.id == by.id and not active:
        raise StaffError("active", Problem.OWN_ACCOUNT, "You cannot deactivate your own account.")
    changed, user.active = user.active != active, active
    return changed


def reset_password(user: User) -> str:
    """Give the user a new random password and return it, for showing exactly once."""
    password = generate_password()
    user.set_password(password)
    return password
