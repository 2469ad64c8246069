from flask import Blueprint

bp = Blueprint("handovers", __name__)

from webapp.handovers import routes  # noqa: E402, F401 - registers the routes on bp
