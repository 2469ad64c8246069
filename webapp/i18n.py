"""Which language a person sees: their explicit choice, then the browser, then Russian.

The JSON API is read by programs: it speaks what Accept-Language names, else English.
"""

from flask import current_app, request, session
from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import LanguageAccept

SESSION_KEY = "language"
LOGIN_REQUIRED_MESSAGE = _l("Please sign in to open this page.")
API_PREFIX = "/api/"
API_DEFAULT_LANGUAGE = "en"


def select_locale() -> str:
    """Return the language for this request."""
    languages = current_app.config["LANGUAGES"]
    if request.path.startswith(API_PREFIX):
        return api_language(languages)
    chosen = session.get(SESSION_KEY)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config[
        "BABEL_DEFAULT_LOCALE"
    ]


def api_language(languages) -> str:
    """Return the best of the languages that Accept-Language names, else English: never
    the session's choice (the API has no session), nor the pages' Russian default, nor
    a wildcard's first pick."""
    named = LanguageAccept([(value, q) for value, q in request.accept_languages if value != "*"])
    return named.best_match(languages) or API_DEFAULT_LANGUAGE
