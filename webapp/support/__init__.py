from flask import Blueprint

bp = Blueprint("support", __name__)

from webapp.support import routes  # noqa: E402, F401 - registers the routes on bp
