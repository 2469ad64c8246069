"""Liveness and readiness, as a load balancer or orchestrator asks for them, and the
production server's own configuration serving them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from flask_migrate import downgrade

from tests.conftest import SIGNING_PASSPHRASE, make_app, signing_files
from tests.services import free_port
from tests.tools import needs
from webapp.extensions import db

ROOT = Path(__file__).resolve().parent.parent


@needs("pdftotext")
def test_alive_and_ready(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json == {"status": "ready", "checks": {
        "database": "ok", "migrations": "ok", "signer": "ok", "renderer": "ok"}}


def test_an_unreachable_database_is_not_ready_but_the_process_is_alive():
    app = make_app(f"postgresql+psycopg://nobody:x@127.0.0.1:{free_port()}/none")
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "unreachable"


@needs("pdftotext")
def test_a_database_behind_the_code_is_not_ready(sqlite_app):
    with sqlite_app.app_context():
        downgrade(revision="0004")
        db.engine.dispose()
    response = sqlite_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"] == {
        "database": "ok", "migrations": "behind", "signer": "ok", "renderer": "ok"}


def test_a_missing_signing_certificate_is_not_ready(sqlite_app):
    sqlite_app.config["RECEIPT_SIGNING_P12"] = "/nonexistent/signing.p12"
    response = sqlite_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["checks"]["signer"] == "unavailable"


@needs("pdftotext")
def test_gunicorn_with_the_repositorys_configuration_serves_a_ready_app(sqlite_app, tmp_path):
    database = tmp_path / "served.sqlite3"
    shutil.copy(sqlite_app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"), database)
    p12, root = signing_files()
    port = free_port()
    environ = {
        **os.environ, "HANDOVER_ENV": "production", "SECRET_KEY": "s" * 32,
        "DATABASE_URL": f"sqlite:///{database}", "RATELIMIT_STORAGE_URI": "memory://",
        "RECEIPT_SIGNING_P12": p12, "RECEIPT_SIGNING_PASSPHRASE": SIGNING_PASSPHRASE,
        "RECEIPT_TRUST_ROOT": root, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        answer = None
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz") as response:
                    answer = response.status, response.read()
                    break
            except OSError:
                if server.poll() is not None:
                    break
                time.sleep(0.2)
        assert answer is not None and answer[0] == 200, server.stdout and server.poll()
        assert b'"status":"ready"' in answer[1]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    assert server.returncode == 0, output
    assert "Booting worker" in output
    # The production log: JSON lines, the request named by its route.
    requests = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert {"route": "/readyz", "status": 200} in [
        {"route": r.get("route"), "status": r.get("status")} for r in requests
    ]


def test_after_warm_up_a_worker_compiles_no_template_for_its_first_pages(sqlite_app, monkeypatch):
    """The master compiles every page template before forking, so no worker's first
    request waits for Jinja; the pages still render."""
    from tests.conftest import add_user, freeze, make_handover
    from webapp.domain.terms import Role
    from webapp.health import warm_up

    technician = add_user(sqlite_app, "tech", Role.TECHNICIAN)
    token = freeze(sqlite_app, make_handover(sqlite_app, technician))
    warm_up(sqlite_app)
    compiled = []
    original = sqlite_app.jinja_env.compile
    monkeypatch.setattr(sqlite_app.jinja_env, "compile",
                        lambda *a, **k: compiled.append(a[1:2]) or original(*a, **k))
    tablet = sqlite_app.test_client(user=technician)
    assert tablet.get("/handovers/new").status_code == 200
    assert sqlite_app.test_client().get(f"/s/{token}").status_code == 200
    assert sqlite_app.test_client().get("/login").status_code == 200
    assert compiled == []
