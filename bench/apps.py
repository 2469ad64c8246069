"""Handover as the benchmarks run it: the testing configuration on the database given,
signing receipts with a development certificate made in the benchmark's folder, and
staff accounts with one throwaway password."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from webapp import create_app
from webapp.config import TestingConfig
from webapp.domain.terms import Role
from webapp.models import User
from webapp.receipts.signing import create_development_certificates
from webapp.staff import create_staff_user

PASSPHRASE = "bench"  # noqa: S105 - of the development certificate made for each run
PASSWORD = "bench-password-long-enough"  # noqa: S105 - of the throwaway benchmark accounts
SECRET_KEY = "bench-not-secret"  # noqa: S105 - one for every process of a run (and the tests')


def receipt_settings(workdir: Path) -> dict[str, str]:
    """The receipt settings for a development certificate in the folder (made there
    the first time, the same files afterwards)."""
    p12, root = create_development_certificates(workdir, PASSPHRASE)
    return {"RECEIPT_SIGNING_P12": str(p12), "RECEIPT_SIGNING_PASSPHRASE": PASSPHRASE,
            "RECEIPT_TRUST_ROOT": str(root)}


def production_environ(database: str, receipts: dict[str, str], storage_uri: str = "memory://",
                       **environ: str) -> dict[str, str]:
    """Return the environment of a production process of the app (a server, a worker)."""
    # `receipts` are the RECEIPT_* settings (receipt_settings() here, the tests' own
    # certificate there); keyword arguments add to the environment or override it.
    return {
        **os.environ, "HANDOVER_ENV": "production", "SECRET_KEY": SECRET_KEY,
        "DATABASE_URL": database, "RATELIMIT_STORAGE_URI": storage_uri, **receipts, **environ,
    }


def bench_app(database: str, workdir: Path, **settings) -> Flask:
    """The app on the database, with the folder's development certificate; `settings`
    override the configuration (RATELIMIT_ENABLED=False, …)."""
    config = type("BenchConfig", (TestingConfig,), {
        "SQLALCHEMY_DATABASE_URI": database, **receipt_settings(workdir), **settings,
    })
    return create_app(config)


def add_staff(login: str, role: Role) -> User:
    """Add an active staff account, signing in with PASSWORD, to the session."""
    return create_staff_user(login=login, full_name=f"Bench {login}", role=role,
                             password=PASSWORD, employee_id=login, contractor="Bench")
