from flask import Blueprint

bp = Blueprint("subscriber", __name__)

from webapp.subscriber import routes  # noqa: E402, F401 - registers the routes on bp
