"""Requests per second and p99 through gunicorn on loopback, against a bare Flask
"hello" app under the same gunicorn settings, measured in the same run.

Load comes from a separate process (Debian's wrk). Both apps run with the
repository's gunicorn.conf.py; Handover in production mode on SQLite (or the PostgreSQL
given), with rate limits switched off (they would answer 429 to the load generator's
one address).

Also: the subscriber page's weight with its assets, compressed as a proxy would send
it, and technicians closing signed jobs through HTTP (each renders and signs a
receipt), against the receipts per second bench/receipts.py measures.

    python bench/pages.py [--quick] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import gzip
import re
import runpy
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.apps import (  # noqa: E402
    PASSWORD,
    add_staff,
    bench_app,
    production_environ,
    receipt_settings,
)
from bench.client import (  # noqa: E402
    Browser,
    csrf_token,
    drawn_signature,
    free_port,
    handover_form,
    press,
    sign_in,
)
from bench.report import Aim, Figure, text_table  # noqa: E402


def prepare(workdir: Path, database: str, closings: int) -> tuple[dict[str, str], list[str]]:
    """Migrate the database, add staff and `closings` typical jobs the subscriber has
    signed; return the servers' environment and those jobs' public ids."""
    from bench.receipts import typical_signed_handover
    from bench.seed import migrate_empty
    from webapp.domain.terms import Role
    from webapp.extensions import db

    app = bench_app(database, workdir)
    with app.app_context():
        migrate_empty(db.engine)
        for login, role in (("tech", Role.TECHNICIAN), ("agent", Role.SUPPORT)):
            add_staff(login, role)
        db.session.commit()
        signed = [typical_signed_handover(app).public_id for _ in range(closings)]
        db.engine.dispose()
    environ = production_environ(database, receipt_settings(workdir),
                                 RATELIMIT_ENABLED="false", TRUSTED_PROXIES="1")
    return environ, signed


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
    """Run wrk against the URL; return requests/s, p99 in ms and non-2xx answers.
    The page must answer 200 first: a redirect to sign-in would be timed as a page."""
    first = requests.get(url, headers={"Cookie": cookie or "", "X-Forwarded-Proto": "https"},
                         allow_redirects=False, timeout=30)
    if first.status_code != 200:
        raise RuntimeError(f"{url} answered {first.status_code}, not the page")
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


CLOSE = """
import sys
sys.path.insert(0, sys.argv[1])
from bench.pages import close_all
close_all(*sys.argv[2:])
"""


def closings_per_second(url: str, public_ids: list[str], connections: int) -> float:
    """Close the signed jobs through HTTP, `connections` at a time, from a separate
    process, as technicians would (sign in, open the job, countersign); return the
    closings (each renders and signs a receipt) per second."""
    output = subprocess.run(
        [sys.executable, "-c", CLOSE, str(ROOT), url, str(connections), *public_ids],
        capture_output=True, text=True, check=True,
    ).stdout
    return float(output.split()[-1])


def close_all(url: str, connections: str, *public_ids: str) -> None:
    """(In the load process.) Print the closings per second."""
    from concurrent.futures import ThreadPoolExecutor

    tablets = [Browser() for _ in range(int(connections))]
    tokens = []
    for tablet in tablets:
        assert sign_in(tablet, url, PASSWORD).status_code == 302
        tokens.append(csrf_token(tablet.get(f"{url}/handovers/new").text))
    signature = drawn_signature()

    def close(index: int) -> None:
        tablet = tablets[index % len(tablets)]
        answer = tablet.post(f"{url}/handovers/{public_ids[index]}/close", allow_redirects=False,
                             data={"csrf_token": tokens[index % len(tablets)],
                                   "signature": signature})
        assert answer.status_code == 302, answer.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(len(tablets)) as pool:
        list(pool.map(close, range(len(public_ids))))
    print(len(public_ids) / (time.perf_counter() - started))


def subscriber_page_weight(url: str) -> tuple[int, int]:
    """Return the bytes of the subscriber's page with everything it loads, as served
    and as gzip (level 1, nginx's default) would send them."""
    page = requests.get(url, timeout=30)
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="(/static/[^"]+)"', page.text)
    bodies = [page.content] + [
        requests.get(urljoin(url, asset), timeout=30).content for asset in assets
    ]
    return sum(map(len, bodies)), sum(len(gzip.compress(body, 1)) for body in bodies)


def load_shape(quick: bool) -> tuple[int, int, int]:
    """Seconds per page, wrk's connections, and jobs closed through HTTP."""
    return (1, 2, 4) if quick else (10, 16, 120)


def workers() -> int:
    """The workers gunicorn.conf.py starts on this machine (read from it, not repeated)."""
    return runpy.run_path(str(ROOT / "gunicorn.conf.py"))["workers"]


def settings(quick: bool) -> dict[str, str]:
    """How the HTTP figures were measured, for the benchmark's description."""
    seconds, connections, _closings = load_shape(quick)
    return {"HTTP": f"gunicorn.conf.py ({workers()} sync workers, preloaded), production "
                    f"settings, rate limits off; wrk from a separate process, "
                    f"{connections} connections, {seconds} s per page, same machine"}


def run(quick: bool = False, postgresql: str | None = None,
        receipts_per_second: float | None = None, weigh: bool = True) -> list[Figure]:
    """Measure every HTTP figure on SQLite, or on the PostgreSQL given (emptied first);
    `receipts_per_second` (all cores, from bench/receipts.py in the same run) is the
    baseline for the closings through HTTP; `weigh` adds the subscriber page's weight."""
    seconds, connections, closings = load_shape(quick)
    workdir = Path(tempfile.mkdtemp(prefix="handover-http-"))
    database = postgresql or f"sqlite:///{workdir / 'bench.sqlite3'}"
    engine = "PostgreSQL" if postgresql else "SQLite"
    environ, signed = prepare(workdir, database, closings)
    part = f"HTTP, {engine}"
    with gunicorn("bench.hello:app", environ) as hello:
        baseline = load(f"{hello}/", seconds, connections)
    figures = [Figure(part, "hello app req/s", baseline["rate"], "/s"),
               Figure(part, "hello app p99", baseline["p99"], "ms")]
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
            measured = load(f"{handover}{path}", seconds, connections, cookie)
            if measured["errors"]:
                raise RuntimeError(f"{label}: {measured['errors']} answers were not 2xx/3xx")
            figures += [
                Figure(part, f"{label} req/s", measured["rate"], "/s", "hello",
                       baseline["rate"], Aim(0.5, at_most=False, on_ratio=True)),
                Figure(part, f"{label} p99", measured["p99"], "ms", "hello", baseline["p99"]),
            ]
        if weigh:
            raw, compressed = subscriber_page_weight(f"{handover}/s/{token}")
            figures.append(Figure("Page weight", "subscriber page with its assets, gzip -1",
                                  compressed / 1000, "KB", "uncompressed", raw / 1000, Aim(60)))
        rate = closings_per_second(handover, signed, workers())
        figures.append(Figure(part, f"closings with a signed receipt, over {closings}", rate,
                              "/s", "receipts/s, all cores" if receipts_per_second else "",
                              receipts_per_second, Aim(0.9, at_most=False, on_ratio=True)))
    return figures


def form(html: str) -> dict:
    return {"csrf_token": csrf_token(html), **handover_form(subscriber_name="Pavel Orlov")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run with tiny counts")
    parser.add_argument("--postgresql", help="URL of a database the benchmark may empty")
    args = parser.parse_args()
    print(text_table(run(args.quick, args.postgresql)))


if __name__ == "__main__":
    main()
