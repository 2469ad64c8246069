"""Requests per second and p99 through gunicorn on loopback, against a bare Flask
"hello" app under the same gunicorn settings, measured in the same run.

Load comes from a separate process (Debian's wrk). Both apps run with the
repository's gunicorn.conf.py; Handover in production mode on SQLite, with rate
limits switched off (they would answer 429 to the load generator's one address).

    python bench/pages.py [--seconds 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import csrf_token, valid_form  # noqa: E402
from tests.services import free_port  # noqa: E402
from tests.test_two_servers import Browser, press, sign_in  # noqa: E402

PASSWORD = "bench-password-long-enough"  # noqa: S105 - a throwaway benchmark account


def prepare(workdir: Path) -> dict[str, str]:
    """A migrated SQLite database with staff and one job waiting for the subscriber."""
    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    from webapp import create_app
    from webapp.config import TestingConfig
    from webapp.domain.terms import Role
    from webapp.extensions import db
    from webapp.models import User
    from webapp.receipts.signing import create_development_certificates

    p12, root = create_development_certificates(workdir, "bench")
    database = f"sqlite:///{workdir / 'bench.sqlite3'}"
    config = type("BenchSetup", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": database, "RECEIPT_SIGNING_P12": str(p12),
        "RECEIPT_SIGNING_PASSPHRASE": "bench", "RECEIPT_TRUST_ROOT": str(root),
    })
    app = create_app(config)
    with app.app_context():
        upgrade()
        for login, role in (("tech", Role.TECHNICIAN), ("agent", Role.SUPPORT)):
            db.session.add(User(login=login, role=role, full_name=f"Bench {login}",
                                employee_id=login, contractor="Bench",
                                password_hash=generate_password_hash(PASSWORD)))
        db.session.commit()
        db.engine.dispose()
    return {
        **os.environ, "HANDOVER_ENV": "production", "SECRET_KEY": "bench-not-secret",
        "DATABASE_URL": database, "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_ENABLED": "false", "TRUSTED_PROXIES": "1",
        "RECEIPT_SIGNING_P12": str(p12), "RECEIPT_SIGNING_PASSPHRASE": "bench",
        "RECEIPT_TRUST_ROOT": str(root),
    }


@contextmanager
def gunicorn(app: str, environ: dict[str, str]):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", app],
        cwd=ROOT, env={**environ, "BIND": f"127.0.0.1:{port}"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                requests.get(url, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def load(url: str, seconds: int, connections: int, cookie: str | None = None) -> dict:
    """Run wrk against the URL; return requests/s, p99 in ms and non-2xx answers."""
    command = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{seconds}s",
               "--latency", "-H", "X-Forwarded-Proto: https", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", output)
    scale = {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {"rate": rate, "p99": float(p99.group(1)) * scale,
            "errors": int(errors.group(1)) if errors else 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    environ = prepare(Path(tempfile.mkdtemp(prefix="handover-http-")))
    workers = environ.get("WEB_CONCURRENCY") or "two per core"
    print(f"HTTP through gunicorn ({workers} workers), wrk {args.connections} connections, "
          f"{args.seconds} s each, same machine")
    with gunicorn("bench.hello:app", environ) as hello:
        baseline = load(f"{hello}/", args.seconds, args.connections)
    rows = [("hello (baseline)", baseline)]
    with gunicorn("wsgi:app", environ) as handover:
        tablet, desk = Browser(), Browser()
        assert sign_in(tablet, handover, PASSWORD).status_code == 302
        page = tablet.post(f"{handover}/handovers/new", allow_redirects=False, data=form(
            tablet.get(f"{handover}/handovers/new").text))
        public_id = page.headers["Location"].rstrip("/").split("/")[-1]
        press(tablet, handover, public_id, "freeze")
        token = re.search(r'/s/([A-Za-z0-9_-]{24})"', tablet.get(
            f"{handover}/handovers/{public_id}").text).group(1)
        assert sign_in(desk, handover, PASSWORD, login="agent").status_code == 302
        cookies = {name: "; ".join(f"{c.name}={c.value}" for c in who.cookies)
                   for name, who in (("tablet", tablet), ("desk", desk))}
        for label, path, cookie in (
            ("subscriber page", f"/s/{token}", None),
            ("technician's form", "/handovers/new", cookies["tablet"]),
            ("support search", "/support/?q=Orlov", cookies["desk"]),
        ):
            rows.append((label, load(f"{handover}{path}", args.seconds, args.connections,
                                     cookie)))
    print(f"  {'page':<20}{'req/s':>10}{'p99 ms':>10}{'x hello':>10}{'non-2xx':>10}")
    for label, figures in rows:
        print(f"  {label:<20}{figures['rate']:>10.0f}{figures['p99']:>10.1f}"
              f"{figures['rate'] / baseline['rate']:>10.2f}{figures['errors']:>10}")
    print("  aim: pages >= 0.5 x the hello baseline")


def form(html: str) -> dict:
    return {"csrf_token": csrf_token(html), **valid_form(subscriber_name="Pavel Orlov")}


if __name__ == "__main__":
    main()
