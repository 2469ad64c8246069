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
    """The benchmarks' app (testing settings) on a fresh, migrated SQLite file, rate
    limits off; its test client signs in whoever it is given (user=…)."""
    from flask_login import FlaskLoginClient
    from flask_migrate import upgrade

    from bench.apps import bench_app

    workdir = Path(tempfile.mkdtemp(prefix="handover-profile-"))
    app = bench_app(f"sqlite:///{workdir / 'profile.sqlite3'}", workdir,
                    RATELIMIT_ENABLED=False)
    app.test_client_class = FlaskLoginClient
    with app.app_context():
        upgrade()
    return app


def staff(app, login: str, role):
    """Store a staff account and return it, readable outside the app context."""
    from bench.apps import add_staff
    from webapp.extensions import db

    with app.app_context():
        user = add_staff(login, role)
        db.session.commit()
        db.session.refresh(user)
        db.session.expunge(user)
        return user


def page_workload(kind: str):
    """Return a callable that requests the page once, on a prepared app."""
    from bench.receipts import typical_frozen_handover
    from webapp.domain.terms import Role
    from webapp.handovers.workflow import link_token

    app = migrated_app()
    technician = staff(app, "tech", Role.TECHNICIAN)
    agent = staff(app, "agent", Role.SUPPORT)
    with app.app_context():
        token = link_token(typical_frozen_handover(app), app.config["SECRET_KEY"])
    client, path = {
        "subscriber": (app.test_client(), f"/s/{token}"),
        "form": (app.test_client(user=technician), "/handovers/new"),
        "search": (app.test_client(user=agent), "/support/?q=Соколова"),
    }[kind]

    def request_once():
        response = client.get(path)
        assert response.status_code == 200, response.status_code

    return request_once


def close_workload(repeat: int):
    """Return a callable that closes the next of `repeat` + 3 typical signed jobs."""
    from bench.client import csrf_token, drawn_signature
    from bench.receipts import typical_signed_handover
    from webapp.domain.terms import Role

    app = migrated_app()
    technician = staff(app, "tech", Role.TECHNICIAN)
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
    """Return a callable that renders and signs the largest receipt once, as the
    service does (webapp.receipts.service.sign_receipt)."""
    from bench.receipts import prepared
    from webapp.receipts import render
    from webapp.receipts.service import sign_receipt

    app = migrated_app()
    with app.app_context():
        page = prepared(app, largest=True).page
    renderer = render.Renderer(60.0)

    def render_and_sign():
        # The renderer's own method, not render(): that runs it on a worker thread,
        # which the profiler (sampling this thread) would show as one wait.
        with app.app_context():
            return sign_receipt(renderer._render(page.html), page.reason)

    return render_and_sign


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
