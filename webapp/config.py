"""Configuration classes; secrets and addresses come from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """Raised at start-up when a required setting is missing or wrong.

    Its message is one line that says what to set; `wsgi.py` prints it instead of a
    traceback when `flask --app wsgi …` or gunicorn starts the app.
    """

    def __init__(self, message: str, missing: tuple[str, ...] = ()):
        super().__init__(message)
        self.missing = missing


# What the app refuses to start without. Development and testing have their own values;
# production takes every one of them from the environment.
REQUIRED_SETTINGS = (
    "SECRET_KEY", "RATELIMIT_STORAGE_URI",
    "RECEIPT_SIGNING_P12", "RECEIPT_SIGNING_PASSPHRASE", "RECEIPT_TRUST_ROOT",
)
HINTS = {"RATELIMIT_STORAGE_URI": "RATELIMIT_STORAGE_URI=redis://host:6379/0, or memory:// "
                                   "for one process"}


def refuse_missing_settings(settings: Mapping[str, Any]) -> None:
    """Raise one ConfigurationError naming every required setting that is not set."""
    missing = tuple(name for name in REQUIRED_SETTINGS if not settings.get(name))
    if not missing:
        return
    names = missing[0] if len(missing) == 1 else f"{', '.join(missing[:-1])} and {missing[-1]}"
    hints = "".join(f"; {HINTS[name]}" for name in missing if name in HINTS)
    where = settings.get("NAME", "this environment")
    message = (
        f"Handover cannot start in {where} without {names}: set "
        f"{'it' if len(missing) == 1 else 'them'} in the environment "
        f"(see README.md, Configuration{hints})"
    )
    if where == "production":
        message += ", or set HANDOVER_ENV=development for a development checkout"
    raise ConfigurationError(message, missing)


class Config:
    """Settings shared by every environment."""

    NAME = "base"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None
    # Statements are never logged with their values: those are personal data.
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True, "hide_parameters": True}
    # A technician may spend a long time on one form: the CSRF token lives as
    # long as the session instead of expiring after an hour and losing the work.
    WTF_CSRF_TIME_LIMIT = None
    # Whole request, multipart parts, and any one form field held in memory (the
    # largest legitimate field is a drawn signature, at most 200,000 characters).
    MAX_CONTENT_LENGTH = 1024 * 1024
    MAX_FORM_PARTS = 500
    MAX_FORM_MEMORY_SIZE = 512 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    # A staff session ends after this long without a request, whether or not "Keep me
    # signed in" was ticked: the cookie's age is checked on every request and renewed
    # by each one (webapp/auth/sessions.py). There is no remember-me cookie.
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    # How many reverse proxies of ours stand in front of the app (0: none, the
    # client's address is the connection's).
    TRUSTED_PROXIES = 0
    # Rate limits (webapp/limits.py): counters in memory for one process; in
    # production Redis, so several app servers count together. While Redis is
    # unreachable each process counts on its own rather than failing requests.
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_STRATEGY = "moving-window"
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATE_LIMITS = {
        # Sign-in attempts, counted before the password is checked; a right password
        # clears the login's own counts.
        "sign_in_per_login_and_address": "10 per 15 minutes",
        "sign_in_per_login": "50 per 15 minutes",  # from everywhere together
        "sign_in_per_address": "100 per 15 minutes",  # an office behind one NAT
        "verify": "30 per minute",
        "subscriber_link": "60 per minute",
        # From all addresses together. The page itself asks at most every 10 s while the
        # subscriber waits for the receipt (static/js/subscriber.js, and the refresh
        # without a script): 6 a minute per open page. Two devices, reloads, a language
        # switch and the submission stay under 20; a flood from many addresses stops here.
        "subscriber_link_per_link": "30 per minute",
        "support_search": "120 per minute",
        "api": "600 per minute",  # per client
        "api_failed_auth": "30 per minute",  # calls without a valid token, per address
        # A receipt opened by its number and code (/r): its pages and PDF per address;
        # openings and downloads of one receipt from all addresses together; and the
        # lockout: 5 codes for one number in 15 minutes from anywhere, a right one
        # clearing the count (a locked number refuses even the right code).
        "receipt_access": "30 per minute",
        "receipt_access_per_number": "30 per minute",
        "receipt_code_per_number": "5 per 15 minutes",
    }
    BABEL_DEFAULT_LOCALE = "ru"
    BABEL_DEFAULT_TIMEZONE = "Europe/Moscow"
    LANGUAGES = ("ru", "en")
    PHONE_REGION = "RU"
    SUBSCRIBER_LINK_TTL = timedelta(hours=24)
    # Receipts: the operator's PKCS#12 signing certificate, the root that genuine
    # receipts chain to, an optional RFC 3161 timestamp authority.
    RECEIPT_SIGNING_P12: str | None = None
    RECEIPT_SIGNING_PASSPHRASE: str | None = None
    RECEIPT_TRUST_ROOT: str | None = None
    RECEIPT_TSA_URL: str | None = None
    RECEIPT_RENDER_SECONDS = 10.0
    VERIFY_UPLOAD_LIMIT = 10 * 1024 * 1024
    # Where the QR code on a receipt points; by default the address the request came to.
    PUBLIC_URL: str | None = None
    HANDOVERS_PER_PAGE = 20
    # The JSON API's OpenAPI document (flask-smorest), at /api/v1/openapi.json.
    API_TITLE = "Handover"
    API_VERSION = "v1"
    # 3.1: the document describes the webhooks events are sent with (webapp/api/webhooks.py).
    OPENAPI_VERSION = "3.1.0"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "info": {"description": (
            "Handovers from the order system; receipts for it to read. Each client "
            "(token) may make 600 requests a minute; past that the answer is 429 with "
            "Retry-After. A client with a webhook address is sent an event at each step "
            "of a handover (see webhooks), signed with its secret."
        )},
    }
    STAFF_PER_PAGE = 50
    # Whose messages these are: the first word of every SMS and e-mail subject.
    OPERATOR_NAME = "Handover"
    # The outbox (webapp/outbox/): a worker, `flask --app wsgi outbox work`, claims up to
    # OUTBOX_BATCH due messages for OUTBOX_LEASE (another worker takes over what a dead
    # one held once it lapses), waits OUTBOX_SEND_SECONDS for a provider, retries after
    # OUTBOX_RETRY_SECONDS doubling up to OUTBOX_RETRY_MAX_SECONDS, and gives up after
    # OUTBOX_MAX_ATTEMPTS tries (about two days with these values).
    OUTBOX_BATCH = 20
    OUTBOX_LEASE = timedelta(minutes=5)
    OUTBOX_SEND_SECONDS = 20.0
    OUTBOX_RETRY_SECONDS = 30.0
    OUTBOX_RETRY_MAX_SECONDS = 3600.0
    OUTBOX_MAX_ATTEMPTS = 60
    OUTBOX_IDLE_SECONDS = 1.0
    # E-mail through any SMTP server (Flask-Mailman). Without MAIL_SERVER, development
    # shows e-mails on the outbox page; production keeps them queued until it is set.
    MAIL_BACKEND = "smtp"
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_DEFAULT_SENDER: str | None = None
    MAIL_TIMEOUT = 20
    # SMS through SMSC.ru's HTTP protocol; without SMSC_LOGIN as e-mail above.
    SMSC_URL = "https://smsc.ru/sys/send.php"
    SMSC_LOGIN: str | None = None
    SMSC_PASSWORD: str | None = None
    SMSC_SENDER: str | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
        """Return the settings this environment takes from variables."""
        settings: dict[str, Any] = {}
        if environ.get("SECRET_KEY"):
            settings["SECRET_KEY"] = environ["SECRET_KEY"]
        url = environ.get("DATABASE_URL") or cls.SQLALCHEMY_DATABASE_URI
        settings["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
            url or f"sqlite:///{Path(instance_path) / 'handover.sqlite3'}"
        )
        if environ.get("SUBSCRIBER_LINK_HOURS"):
            try:
                hours = float(environ["SUBSCRIBER_LINK_HOURS"])
            except ValueError:
                message = "SUBSCRIBER_LINK_HOURS must be a number of hours"
                raise ConfigurationError(message) from None
            settings["SUBSCRIBER_LINK_TTL"] = timedelta(hours=hours)
        for name in (
            "RECEIPT_SIGNING_P12", "RECEIPT_SIGNING_PASSPHRASE", "RECEIPT_TRUST_ROOT",
            "RECEIPT_TSA_URL", "PUBLIC_URL",
        ):
            if environ.get(name):
                settings[name] = environ[name]
        settings.update(delivery_settings(environ))
        if environ.get("RATELIMIT_STORAGE_URI"):
            settings["RATELIMIT_STORAGE_URI"] = environ["RATELIMIT_STORAGE_URI"]
        if environ.get("RATELIMIT_ENABLED", "").lower() in ("0", "false", "no"):
            settings["RATELIMIT_ENABLED"] = False  # another layer limits (or a benchmark)
        if environ.get("BABEL_DEFAULT_TIMEZONE"):
            settings["BABEL_DEFAULT_TIMEZONE"] = environ["BABEL_DEFAULT_TIMEZONE"]
        if environ.get("TRUSTED_PROXIES"):
            text = environ["TRUSTED_PROXIES"]
            if not (text.isascii() and text.isdigit() and int(text) <= 10):
                raise ConfigurationError("TRUSTED_PROXIES must be a whole number from 0 to 10")
            settings["TRUSTED_PROXIES"] = int(text)
        return settings


TEXT_SETTINGS = (
    "OPERATOR_NAME", "MAIL_SERVER", "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER",
    "SMSC_URL", "SMSC_LOGIN", "SMSC_PASSWORD", "SMSC_SENDER",
)
OPERATOR_NAME_LIMIT = 30  # the SMS must stay within two segments


def delivery_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    """Return the outbox's settings given in the environment (MAIL_*, SMSC_*, OPERATOR_NAME)."""
    settings: dict[str, Any] = {name: environ[name] for name in TEXT_SETTINGS if environ.get(name)}
    if len(settings.get("OPERATOR_NAME", "")) > OPERATOR_NAME_LIMIT:
        raise ConfigurationError(f"OPERATOR_NAME must be at most {OPERATOR_NAME_LIMIT} characters")
    if environ.get("MAIL_PORT"):
        port = environ["MAIL_PORT"]
        if not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
            raise ConfigurationError("MAIL_PORT must be a port number from 1 to 65535")
        settings["MAIL_PORT"] = int(port)
    if environ.get("OUTBOX_LEASE_SECONDS"):
        seconds = environ["OUTBOX_LEASE_SECONDS"]
        if not (seconds.isascii() and seconds.isdigit() and int(seconds) > 0):
            raise ConfigurationError("OUTBOX_LEASE_SECONDS must be a whole number of seconds")
        settings["OUTBOX_LEASE"] = timedelta(seconds=int(seconds))
    for name in ("MAIL_USE_TLS", "MAIL_USE_SSL"):
        if environ.get(name):
            settings[name] = environ[name].lower() in ("1", "true", "yes", "on")
    return settings


class ProductionConfig(Config):
    """Served to real users: every secret must come from the environment."""

    NAME = "production"
    LOG_FORMAT = "json"  # one JSON object per line on stdout (webapp/logs.py)
    RATELIMIT_STORAGE_URI = None  # must be chosen: redis://…, or memory:// for one process


class DevelopmentConfig(Config):
    """`make run` on a laptop: plain HTTP, a fixed key that protects nothing, and the
    development signing certificate that `flask receipts dev-certificate` creates."""

    NAME = "development"
    DEBUG = True
    SECRET_KEY = "development-only-not-secret"  # noqa: S105 - never used outside development
    SESSION_COOKIE_SECURE = False
    RECEIPT_SIGNING_P12 = str(PROJECT_ROOT / "instance" / "receipt-signing.p12")
    RECEIPT_SIGNING_PASSPHRASE = "development-only"  # noqa: S105 - a development certificate
    RECEIPT_TRUST_ROOT = str(PROJECT_ROOT / "instance" / "receipt-ca.pem")


class TestingConfig(Config):
    """The test suite: the database comes from the class, never from DATABASE_URL."""

    NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-only-not-secret"  # noqa: S105 - never used outside tests
    SESSION_COOKIE_SECURE = False
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    # Retries in a test come within a second.
    OUTBOX_RETRY_SECONDS = 0.05
    OUTBOX_RETRY_MAX_SECONDS = 0.2
    OUTBOX_IDLE_SECONDS = 0.05
    OUTBOX_SEND_SECONDS = 5.0
    MAIL_TIMEOUT = 5

    @classmethod
    def from_environ(cls, environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
        """Ignore the environment so a test can never touch a real database."""
        return {"SQLALCHEMY_DATABASE_URI": normalise_database_url(cls.SQLALCHEMY_DATABASE_URI)}


CONFIGS: dict[str, type[Config]] = {
    c.NAME: c for c in (ProductionConfig, DevelopmentConfig, TestingConfig)
}


def config_from_environ(environ: Mapping[str, str] = os.environ) -> type[Config]:
    """Pick the configuration class named by HANDOVER_ENV (production by default)."""
    name = environ.get("HANDOVER_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigurationError(
            f"HANDOVER_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}"
        ) from None


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres:// and postgresql:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
