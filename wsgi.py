"""The app as `flask --app wsgi …` and gunicorn (`wsgi:app`) load it."""

import os

from flask.cli import load_dotenv

from webapp import create_app, logs
from webapp.config import ConfigurationError

if os.environ.get("FLASK_RUN_FROM_CLI") == "true":
    # Under the `flask` command, which sets that. It reads .flaskenv before it loads the
    # app, except for `flask --app wsgi --help`, which lists the app's commands first:
    # read it here too (variables already set still win). gunicorn never reads it.
    load_dotenv()

try:
    app = create_app()
except ConfigurationError as error:
    # One line naming what to set, and a non-zero exit: never a traceback. SystemExit
    # passes through click (`flask …`) and through gunicorn's master, and Python prints
    # its message on standard error.
    raise SystemExit(f"Error: {error}") from None
logs.configure(app)  # production: JSON lines on stdout; elsewhere nothing changes
