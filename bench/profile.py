"""Profile one page or the receipt with pyinstrument, so optimising starts from a measurement.

    python bench/profile.py subscriber|form|search|close|receipt [--repeat N] [--html FILE]

Pages go through the app's test client on a file SQLite database, rate limits off
(the request path gunicorn runs, without the socket); the receipt is the largest one
the forms allow, rendered and signed; `close` is the technician closing typical signed
jobs (each renders and signs its receipt). Prints the call tree; `--html FILE` also saves
pyinstrument's interactive page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pyinstrument import Profiler


def migrated_app():
    """The test suite's app on a fresh, migrated SQLite file, rate limits off."""
    from flask_migrate import upgrade

    from tests.conftest import make_app

    workdir = Path(tempfile.mkdtemp(prefix="handover-profile-"))
    app = make_app(f"sqlite:///{workdir / 'profile.sqlite3'}", RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade()
    return app


def page_workload(kind: str):
    """Return a callable that requests the page once, on a prepared app."""
    from tests.conftest import add_user, freeze, make_handover
    from webapp.domain.terms import Role

    app = migrated_app()
    technician = add_user(app, "tech", Role.TECHNICIAN)
    agent = add_user(app, "agent", Role.SUPPORT)
    handover = make_handover(app, technician, subscriber_name="Pavel Orlov")
    token = freeze(app, handover)
    client, path = {
        "subscriber": (app.test_client(), f"/s/{token}"),
        "form": (app.test_client(user=technician), "/handovers/new"),
        "search": (app.test_client(user=agent), "/support/?q=Orlov"),
    }[kind]

    def request_once():
        response = client.get(path)
        assert response.status_code == 200, response.status_code

    return request_once


def close_workload(repeat: int):
    """Return a callable that closes the next of `repeat` + 3 typical signed jobs."""
    from bench.receipts import typical_signed_handover
    from tests.conftest import add_user, csrf_token, drawn_signature
    from webapp.domain.terms import Role

    app = migrated_app()
    technician = add_user(app, "tech", Role.TECHNICIAN)
    with app.app_context():
        jobs = iter([typical_signed_handover(app).public_id for _ in range(repeat + 3)])
    tablet = app.test_client(user=technician)
    token = csrf_token(tablet.get("/handovers/new").text)

    def close_next():
        response = tablet.post(f"/handovers/{next(jobs)}/close",
                               data={"csrf_token": token, "signature": drawn_signature()})
        assert response.status_code == 302, response.status_code

    return close_next


def receipt_workload():
    from bench.receipts import receipt_html
    from tests.conftest import SIGNING_PASSPHRASE, signing_files
    from webapp.receipts import render
    from webapp.receipts.signing import load_signer, sign_pdf

    app = migrated_app()
    with app.app_context():
        html = receipt_html(app, largest=True)
    renderer, signer = render.Renderer(60.0), load_signer(signing_files()[0], SIGNING_PASSPHRASE)
    # The renderer's own method, not render(): that runs it on a worker thread, which
    # the profiler (sampling this thread) would show as one wait.
    return lambda: sign_pdf(renderer._render(html), signer, reason="profile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("subscriber", "form", "search", "close", "receipt"))
    parser.add_argument("--repeat", type=int, default=0,
                        help="default: 300 pages, 20 receipts or closings")
    parser.add_argument("--html", type=Path, help="also save the interactive profile here")
    parser.add_argument("--all", action="store_true",
                        help="show library frames too (those over 3%% of the time)")
    parser.add_argument("--flat", action="store_true",
                        help="list functions by their own time instead of the call tree")
    args = parser.parse_args()
    repeat = args.repeat or (20 if args.what in ("receipt", "close") else 300)
    work = (receipt_workload() if args.what == "receipt"
            else close_workload(repeat) if args.what == "close" else page_workload(args.what))
    for _ in range(3):  # warm-up: imports, template compilation, first font load
        work()
    profiler = Profiler(interval=0.0005)
    with profiler:
        for _ in range(repeat):
            work()
    print(profiler.output_text(
        unicode=True, color=False, flat=args.flat, time="percent_of_total", show_all=args.all,
        processor_options={"filter_threshold": 0.03} if args.all else None,
    ))
    if args.html:
        args.html.write_text(profiler.output_html())


if __name__ == "__main__":
    main()
