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


def when_ready(server):
    from webapp.health import warm_up

    app = server.app.wsgi()
    if app.import_name == "webapp":  # not a baseline app served with the same settings
        warm_up(app)
