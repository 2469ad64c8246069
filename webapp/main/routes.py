"""The home page, the language switch, and the liveness and readiness checks."""

from flask import Blueprint, abort, current_app, jsonify, redirect, session, url_for
from flask_login import current_user

from webapp import health, i18n
from webapp.domain.terms import Role
from webapp.forms import LanguageForm
from webapp.routing import safe_next

bp = Blueprint("main", __name__)


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
    """Liveness: the process answers. It checks nothing else, so a database outage
    never makes the orchestrator restart healthy workers."""
    return jsonify(status="ok")


@bp.route("/readyz")
def readyz():
    """Readiness: the database answers, its migrations are current, the signer loads."""
    checks = health.readiness(current_app._get_current_object())
    ready = all(state == "ok" for state in checks.values())
    if not ready:
        current_app.logger.warning("not ready: %s", checks)
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503
