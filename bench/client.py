"""Driving Handover as its users do, for the benchmarks: a browser's session against a
real server, the page's CSRF token, a drawn signature, a filled-in handover form.

The benchmarks import nothing from tests/: what they share with the tests' helpers
is written here for the benchmarks' own use.
"""

from __future__ import annotations

import json
import re
import socket

import requests


def free_port() -> int:
    """A loopback port nobody listens on (until someone binds it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser(requests.Session):
    """The servers sit behind a TLS proxy, so their cookies are Secure; the benchmark
    talks to them directly over loopback, and sends those cookies all the same."""

    def __init__(self):
        super().__init__()
        self.headers["X-Forwarded-Proto"] = "https"  # what the proxy adds

    def request(self, *args, **kwargs):
        for cookie in self.cookies:
            cookie.secure = False
        return super().request(*args, **kwargs)


def csrf_token(html: str) -> str:
    """Return the CSRF token of the page's form."""
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    if match is None:
        raise RuntimeError("the page has no CSRF token")
    return match.group(1)


def sign_in(session: requests.Session, url: str, password: str, login: str = "tech"):
    """Sign in through the login page as a browser would; return the answer."""
    page = session.get(f"{url}/login")
    return session.post(f"{url}/login", allow_redirects=False, data={
        "csrf_token": csrf_token(page.text), "login": login, "password": password,
    })


def press(session: requests.Session, url: str, public_id: str, action: str, data=None):
    """Press a button on the handover's page (freeze, close, …) through the server."""
    page = session.get(f"{url}/handovers/{public_id}")
    return session.post(f"{url}/handovers/{public_id}/{action}", allow_redirects=False,
                        data={"csrf_token": csrf_token(page.text), **(data or {})})


def drawn_signature() -> str:
    """A signature drawn in the box, as the page sends it (webapp.domain.signature)."""
    strokes = [[[10, 80], [60, 40], [120, 90], [200, 30]]]
    return json.dumps({"width": 320, "height": 160, "strokes": strokes})


def handover_form(**overrides) -> dict:
    """A complete, valid new-handover form as a browser sends it (a field given as None
    is left out): every declared fact's example, a discount and a router."""
    from webapp.domain.declared import FACTS
    from webapp.fact_forms import example_formdata

    data = example_formdata(FACTS) | {"phone": "8 912 345-67-89"} | overrides
    return {key: value for key, value in data.items() if value is not None}
