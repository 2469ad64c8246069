"""Staff administration: accounts, roles, access and passwords, for administrators only."""

import sqlalchemy as sa
from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from webapp import audit, staff
from webapp.access import roles_required
from webapp.admin.forms import RoleForm, StaffForm, problem_message
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.labels import label
from webapp.models import User
from webapp.routing import numbered_page

bp = Blueprint("admin", __name__)


def get_user_or_404(user_id: int) -> User:
    """Return the staff account, or 404 when there is none with this id."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def target(user: User) -> dict:
    """Return who an audit event is about: never more than the id and login."""
    return {"user_id": user.id, "login": user.login}


def show_password_once(user: User, password: str, *, created: bool):
    """Render a new password in this response only.

    It is never put in the session, a flash message, a URL or a log, and
    `no-store` keeps it out of the browser's cache and history snapshots.
    """
    page = render_template("admin/password.html", user=user, password=password, created=created)
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/users")
@roles_required(Role.ADMIN)
def index():
    query = sa.select(User).order_by(User.login, User.id)
    users = numbered_page(query, current_app.config["STAFF_PER_PAGE"])
    return render_template("admin/index.html", users=users)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def create():
    form = StaffForm()
    if form.validate_on_submit():
        password = staff.generate_password()
        try:
            user = staff.create_staff_user(**form.account(), password=password)
        except staff.StaffError as error:  # the form checked the same rules: only a race is left
            form[error.field].errors.append(problem_message(error))
        else:
            db.session.flush()
            audit.record("staff.created", details=target(user) | {"role": user.role})
            db.session.commit()
            return show_password_once(user, password, created=True)
    return render_template("admin/form.html", form=form)


@bp.route("/users/<row_id:user_id>")
@roles_required(Role.ADMIN)
def detail(user_id: int):
    return render_detail(get_user_or_404(user_id))


def render_detail(user: User, role_form: RoleForm | None = None, code=200):
    """Render a staff account's page with its role, access and password actions."""
    page = render_template(
        "admin/detail.html",
        user=user,
        role_form=role_form or RoleForm(formdata=None, data={"role": user.role}),
        confirm_form=ConfirmForm(formdata=None),
    )
    return page, code


@bp.route("/users/<row_id:user_id>/role", methods=["POST"])
@roles_required(Role.ADMIN)
def change_role(user_id: int):
    user = get_user_or_404(user_id)
    form = RoleForm()
    if not form.validate_on_submit():
        return render_detail(user, form, 400)
    try:
        old_role = staff.change_role(user, Role(form.role.data), by=current_user)
    except staff.StaffError as error:
        form.role.errors.append(problem_message(error))
        return render_detail(user, form, 400)
    if old_role != user.role:
        details = target(user) | {"old_role": old_role, "new_role": user.role}
        audit.record("staff.role_changed", details=details)
        db.session.commit()
        flash(_("The role is now “%(role)s”.", role=label(user.role)), "success")
    return redirect(url_for("admin.detail", user_id=user.id))


@bp.route("/users/<row_id:user_id>/deactivate", methods=["POST"])
@roles_required(Role.ADMIN)
def deactivate(user_id: int):
    return change_access(user_id, active=False)


@bp.route("/users/<row_id:user_id>/reactivate", methods=["POST"])
@roles_required(Role.ADMIN)
def reactivate(user_id: int):
    return change_access(user_id, active=True)


def change_access(user_id: int, *, active: bool):
    user = get_user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        changed = staff.set_active(user, active, by=current_user)
    except staff.StaffError as error:
        flash(problem_message(error), "error")
        return redirect(url_for("admin.detail", user_id=user.id))
    if changed:
        audit.record("staff.reactivated" if active else "staff.deactivated", details=target(user))
        db.session.commit()
    if active:
        flash(_("%(name)s can sign in again.", name=user.full_name), "success")
    else:
        flash(_("%(name)s can no longer sign in.", name=user.full_name), "success")
    return redirect(url_for("admin.detail", user_id=user.id))


@bp.route("/users/<row_id:user_id>/password", methods=["POST"])
@roles_required(Role.ADMIN)
def reset_password(user_id: int):
    user = get_user_or_404(user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    password = staff.reset_password(user)
    audit.record("staff.password_reset", details=target(user))
    db.session.commit()
    return show_password_once(user, password, created=False)
