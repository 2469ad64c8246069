"""Rate limits: how often anyone may try the doors that face guessing or load.

Counters live in RATELIMIT_STORAGE_URI: memory for development and tests, Redis in
production so that every app server counts together. While the storage cannot be
reached, each process counts in its own memory rather than failing requests.

Two kinds of door:
- Pages limited per request (`/verify`, the subscriber link, support search, a
  receipt opened by its code) use Flask-Limiter, one instance per app.
- Sign-in, the API and the receipt code count here, inside the view, because what
  they count is known only there: a sign-in attempt that really checks a password
  (counted before the check, so a burst cannot slip past), an API call by the client
  its token authenticates (however the header is spelt), and a code typed for a
  receipt number (however the number is written).

No key holds a login, token or address in the clear: each is hashed.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_login import current_user
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from werkzeug.exceptions import HTTPException, TooManyRequests

from webapp.domain.digest import sha256_hex

log = logging.getLogger(__name__)

LOGIN_FIELD_LIMIT = 200  # hashed for the key, so no more of it matters
RETRY_STORAGE_AFTER = 30.0  # seconds of counting in memory before trying Redis again


def _digest(text: str) -> str:
    return sha256_hex(text)[:32]


def client_network() -> str:
    """The client's address (after ProxyFix has trusted exactly our own proxies); for
    IPv6 its /64, which one subscriber line gets whole and can rotate within."""
    text = request.remote_addr or "unknown"
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def by_address() -> str:
    return "address:" + _digest(client_network())


def by_link() -> str:
    """The subscriber link asked for, from whatever address: its token, hashed."""
    return "link:" + _digest((request.view_args or {}).get("token", ""))


def by_receipt(number: str) -> str:
    """Return the key of a receipt number being tried (canonical, hashed), known or not."""
    return "receipt:" + _digest(number)


def by_user() -> str:
    return f"user:{current_user.get_id()}" if current_user.is_authenticated else by_address()


def by_login(login: str) -> str:
    """The login being tried, whether or not it exists, however it is capitalised."""
    return "login:" + _digest(login[:LOGIN_FIELD_LIMIT].strip().casefold())


@dataclass(frozen=True)
class Door:
    """A page limited per request by Flask-Limiter: the setting that holds its limit,
    its endpoints (sharing one counter) and whom it counts."""

    setting: str
    endpoints: tuple[str, ...]
    key: Any


DOORS = (
    Door("verify", ("receipts.verify",), by_address),
    Door("subscriber_link", ("subscriber.checklist", "subscriber.receipt"), by_address),
    # Each opening is an audit event of the job: however many addresses share the link,
    # they add no more than one subscriber could.
    Door("subscriber_link_per_link", ("subscriber.checklist", "subscriber.receipt"), by_link),
    Door("support_search", ("support.search",), by_user),
    # A receipt opened by its number and code, and its PDF: one counter per address.
    Door("receipt_access", ("receipts.access", "receipts.access_pdf"), by_address),
)


class Counter:
    """Counts attempts at the doors the views guard themselves, in the limiter's
    storage, or in this process's memory while that cannot be reached."""

    def __init__(self, limiter: Limiter, limits: dict[str, str]):
        self.limiter = limiter
        self.limits = {name: parse(value) for name, value in limits.items()}
        self.memory = MovingWindowRateLimiter(MemoryStorage())
        self.storage_down_until = 0.0

    def _run(self, operation):
        if time.monotonic() >= self.storage_down_until:
            try:
                return operation(self.limiter.limiter)
            except Exception:  # any storage failure: keep serving, count locally
                log.warning("rate-limit storage unreachable; counting in memory for %.0f s",
                            RETRY_STORAGE_AFTER)
                self.storage_down_until = time.monotonic() + RETRY_STORAGE_AFTER
        return operation(self.memory)

    def take(self, setting: str, key: str) -> int:
        """Count one attempt; return 0 if it may go on, else the seconds to wait."""
        return self._wait(setting, key, lambda strategy, item: strategy.hit(item, setting, key))

    def exhausted(self, setting: str, key: str) -> int:
        """Without counting: 0 if an attempt would be allowed, else the seconds to wait."""
        return self._wait(setting, key, lambda strategy, item: strategy.test(item, setting, key))

    def _wait(self, setting: str, key: str, allowed) -> int:
        if not self.limiter.enabled:
            return 0
        item = self.limits[setting]

        def wait(strategy) -> int:
            if allowed(strategy, item):
                return 0
            stats = strategy.get_window_stats(item, setting, key)
            return seconds_until(stats.reset_time, item.get_expiry())

        return self._run(wait)

    def forget(self, setting: str, key: str) -> None:
        if self.limiter.enabled:
            self._run(lambda strategy: strategy.clear(self.limits[setting], setting, key))


def seconds_until(moment: float, window: int) -> int:
    """Whole seconds from now until the moment, at least 1 and at most the window."""
    return max(1, min(window, math.ceil(moment - time.time())))


def counter() -> Counter:
    return current_app.extensions["rate_counter"]


def sign_in_attempt(login: str) -> int:
    """Count a sign-in attempt before its password is checked: per login from this
    address, per login, and per address. Return 0, or the seconds to wait.

    An attempt refused by any of them counts against none: a blocked address must
    not be able to use up someone's login for free."""
    counts = [
        ("sign_in_per_login_and_address", by_login(login) + by_address()),
        ("sign_in_per_login", by_login(login)),
        ("sign_in_per_address", by_address()),
    ]
    wait = max(counter().exhausted(setting, key) for setting, key in counts)
    return wait or max(counter().take(setting, key) for setting, key in counts)


def signed_in(login: str) -> None:
    """A right password: the login's failures no longer count against it."""
    counter().forget("sign_in_per_login_and_address", by_login(login) + by_address())
    counter().forget("sign_in_per_login", by_login(login))


def receipt_code_attempt(number: str) -> int:
    """Count a code typed for the number before checking it; return 0 or the seconds to wait."""
    # Counted from every address, and whether or not the number exists, so that neither
    # many addresses nor the answer tell anything; while the number is locked even the
    # right code is refused, unchecked.
    return counter().take("receipt_code_per_number", by_receipt(number))


def receipt_code_right(number: str) -> None:
    """Forget the number's wrong codes once the right one is typed."""
    counter().forget("receipt_code_per_number", by_receipt(number))


def receipt_opened(number: str) -> int:
    """Count an opening or download of the receipt by its code; return 0 or the wait."""
    # Each one is an audit event of the job: many addresses together add no more than
    # one person could.
    return counter().take("receipt_access_per_number", by_receipt(number))


def retry_after(error: HTTPException) -> int | None:
    """Seconds a refused client should wait, for the Retry-After header."""
    if isinstance(error, RateLimitExceeded):
        window = error.limit.limit.get_expiry()
        limit = current_app.extensions["rate_limiter"].current_limit
        return seconds_until(limit.reset_at, window) if limit else window
    if isinstance(error, TooManyRequests) and error.retry_after is not None:
        return int(error.retry_after)
    return None


def storage_problem(uri: str | None, workers: int, *, enabled: bool = True) -> str | None:
    """Say why these workers would not count together in this storage, or return None."""
    # Each process keeps its own memory: with N workers a guesser gets about N times
    # every limit, and a blocked address signs in on a worker that has not counted.
    scheme = urlsplit(uri or "").scheme.lower()
    in_memory = scheme == "memory" or scheme.endswith("+memory")
    if not (enabled and in_memory and workers > 1):
        return None
    return (
        f"Refusing to start: RATELIMIT_STORAGE_URI is {uri}, so each of the {workers} "
        "gunicorn workers would keep its own rate-limit counters and let through up to "
        f"{workers} times every limit (sign-in guesses included). Set "
        "RATELIMIT_STORAGE_URI to a Redis that every worker and app server shares "
        "(redis://host:6379/0), or keep memory:// with a single worker (WEB_CONCURRENCY=1)."
    )


def storage_options(uri: str) -> dict[str, Any]:
    """A Redis that stops answering must cost a request half a second, not hang it."""
    if uri.startswith(("redis", "rediss")):
        return {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    return {}


def register(app: Flask) -> Limiter:
    """Give the app its own limiter and counter (two apps in one process never share
    counters unless they share a Redis) and put each page door's limit on it."""
    uri = app.config["RATELIMIT_STORAGE_URI"]
    limiter = Limiter(
        key_func=by_address, key_prefix="handover", storage_options=storage_options(uri)
    )
    limiter.init_app(app)
    # The decorators below hold the limiter weakly; keep it alive even when disabled.
    app.extensions["rate_limiter"] = limiter
    app.extensions["rate_counter"] = Counter(limiter, app.config["RATE_LIMITS"])
    limits = app.config["RATE_LIMITS"]
    for door in DOORS:
        # Shared: one counter per door, whichever of its endpoints is used.
        decorate = limiter.shared_limit(limits[door.setting], door.setting, key_func=door.key)
        for endpoint in door.endpoints:  # the wrapper is what checks a route's limit
            app.view_functions[endpoint] = decorate(app.view_functions[endpoint])
    return limiter

