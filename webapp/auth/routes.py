"""Staff sign-in and sign-out."""

import hmac
import math
import secrets
from functools import cache

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from werkzeug.security import generate_password_hash

from webapp import audit, limits
from webapp.auth.forms import LoginForm
from webapp.extensions import db
from webapp.forms import ConfirmForm
from webapp.models import User
from webapp.routing import safe_next

bp = Blueprint("auth", __name__)


@cache
def _stand_in_user() -> User:
    """Return a user to check passwords against when the login does not exist,
    so a wrong login takes as long as a wrong password and timing reveals nothing."""
    return User(password_hash=generate_password_hash(secrets.token_urlsafe(16)))


def load_user(session_id: str) -> User | None:
    """Return the signed-in user for Flask-Login, unless the password changed since."""
    user_id, _, stamp = session_id.partition(".")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not hmac.compare_digest(stamp, user.session_stamp):
        return None
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        wait = limits.sign_in_attempt(form.login.data)
        if wait:
            return sign_in_refused(form, wait)
        user = db.session.scalar(sa.select(User).where(User.login == form.login.data))
        password_ok = (user or _stand_in_user()).check_password(form.password.data)
        if user is not None and password_ok and user.active:
            limits.signed_in(form.login.data)
            # Ticked, the cookie outlives the browser window; either way it lapses after
            # PERMANENT_SESSION_LIFETIME without a request (webapp/auth/sessions.py).
            session.permanent = bool(form.remember.data)
            login_user(user, remember=False)  # no 14-day cookie that outlives the session
            audit.record("staff.signed_in", actor=user)
            db.session.commit()
            return redirect(safe_next(request.args.get("next")))
        audit.record("staff.sign_in_failed")
        db.session.commit()
        # One message for every failure, so it never tells which logins exist.
        form.password.errors.append(_("Wrong login or password, or the account is disabled."))
    return render_template("auth/login.html", form=form)


def sign_in_refused(form: LoginForm, wait: int):
    """Too many attempts: the form again, the login kept, the same answer whether or
    not the login exists, and no password checked."""
    form.password.errors.append(_(
        "Too many failed sign-ins. Try again in %(minutes)d minutes.",
        minutes=math.ceil(wait / 60),
    ))
    return render_template("auth/login.html", form=form), 429, {"Retry-After": str(wait)}


@bp.route("/logout", methods=["GET", "POST"])
def logout():
    form = ConfirmForm()
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if form.validate_on_submit():
        audit.record("staff.signed_out")
        db.session.commit()
        logout_user()
        flash(_("You have signed out."), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form)
