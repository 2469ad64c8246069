from flask import Blueprint

bp = Blueprint("receipts", __name__)

from webapp.receipts import routes  # noqa: E402, F401 - registers the routes on bp
