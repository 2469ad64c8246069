"""Staff accounts: the rules for creating one, shared by the CLI and demo data."""

from __future__ import annotations

from webapp.domain.terms import Role
from webapp.domain.text import has_control_characters
from webapp.extensions import db
from webapp.models import User

MIN_PASSWORD_LENGTH = 10
LIMITS = {
    name: User.__table__.c[name].type.length
    for name in ("login", "full_name", "employee_id", "contractor")
}


class StaffError(ValueError):
    """The account cannot be created as asked."""


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
    values = {
        "login": login.strip(), "full_name": full_name.strip(),
        "employee_id": (employee_id or "").strip() or None,
        "contractor": (contractor or "").strip() or None,
    }
    for name, value in values.items():
        if value is None:
            continue
        if not value or len(value) > LIMITS[name] or has_control_characters(value):
            raise StaffError(f"{name} must be 1 to {LIMITS[name]} printable characters.")
    if " " in values["login"]:
        raise StaffError("login must not contain spaces.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"password must have at least {MIN_PASSWORD_LENGTH} characters.")
    if db.session.scalar(db.select(User.id).where(User.login == values["login"])):
        raise StaffError(f"login {values['login']!r} is already taken.")
    user = User(role=role, active=True, **values)
    user.set_password(password)
    db.session.add(user)
    return user
