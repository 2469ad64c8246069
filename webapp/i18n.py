"""Which language a person sees: their explicit choice, then the browser, then Russian."""

from flask import current_app, request, session
from flask_babel import lazy_gettext as _l

SESSION_KEY = "language"
LOGIN_REQUIRED_MESSAGE = _l("Please sign in to open this page.")


def select_locale() -> str:
    """Return the language for this request."""
    languages = current_app.config["LANGUAGES"]
    chosen = session.get(SESSION_KEY)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]
