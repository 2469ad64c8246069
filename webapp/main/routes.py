"""The home page, the language switch and the health check."""

from flask import abort, current_app, jsonify, redirect, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp import i18n
from webapp.domain.terms import Role
from webapp.extensions import db
from webapp.main import bp
from webapp.main.forms import LanguageForm
from webapp.routing import safe_next


@bp.route("/")
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if current_user.has_role(Role.SUPPORT, Role.ADMIN):
        return redirect(url_for("support.search"))
    return redirect(url_for("handovers.index"))


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if not form.validate_on_submit():
        abort(400)
    chosen = next(
        (code for code in current_app.config["LANGUAGES"] if form[code].data), None
    )
    if chosen is None:
        abort(400)
    session[i18n.SESSION_KEY] = chosen
    return redirect(safe_next(form.next.data))


@bp.route("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok")
