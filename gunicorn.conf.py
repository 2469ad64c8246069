"""Gunicorn in production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Settings come from the environment where an operator needs to change them.
"""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# Rendering a receipt is CPU-bound: about two workers per core, a floor of two.
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count() * 2)))
# Import the app once in the master, with fonts, the receipt stylesheet and the
# signing key loaded (when_ready below), so workers start warm and share the pages.
preload_app = True
timeout = 60  # a request may render and sign a receipt (budget 10 s), never more
graceful_timeout = 30  # on restart, finish what is in flight
keepalive = 5
max_requests = 2000  # recycle workers now and then: WeasyPrint caches grow slowly
max_requests_jitter = 200
# No access log here: request lines carry subscriber links and searches. The proxy
# in front logs what it needs without query strings and paths under /s/.
accesslog = None
errorlog = "-"


def on_starting(server):
    """Refuse to serve when the workers would each count rate limits on their own."""
    from webapp.limits import storage_problem

    config = server.app.wsgi().config  # loaded already: preload_app
    problem = storage_problem(config.get("RATELIMIT_STORAGE_URI"), server.num_workers,
                              enabled=config.get("RATELIMIT_ENABLED", True))
    if problem:
        # A hook's exception would escape as a traceback; halt logs the reason as an
        # error, removes the pidfile and exits the master with this status.
        server.halt(reason=problem, exit_status=1)


def when_ready(server):
    from webapp.health import warm_up

    app = server.app.wsgi()
    if app.import_name == "webapp":  # not a baseline app served with the same settings
        warm_up(app)


def post_worker_init(worker):
    # Each worker builds its own receipt renderer: fonts and caches never cross a fork.
    from webapp.health import warm_up_worker

    app = worker.wsgi
    if getattr(app, "import_name", None) == "webapp":
        warm_up_worker(app)
