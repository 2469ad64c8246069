"""Receipt PDFs from HTML with WeasyPrint: fonts and stylesheets prepared once per process.

The template is rendered from plain values; the URL fetcher lets the renderer
read nothing but an allow-list of the app's own static files (and data: URIs),
so markup or CSS typed into any field can fetch nothing, local or remote.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import cache
from pathlib import Path

from webapp.config import PROJECT_ROOT

log = logging.getLogger(__name__)

STATIC = PROJECT_ROOT / "static"
# Relative URLs in the receipt resolve against this base, which no network can
# reach (.invalid): the fetcher answers it from disk for allow-listed files only.
STATIC_BASE = "https://handover-static.invalid/static/"
ALLOWED_STATIC = ("fonts/DejaVuSans.ttf", "fonts/DejaVuSans-Bold.ttf", "css/receipt.css")


class RenderError(RuntimeError):
    """The receipt could not be rendered (or not within its time budget)."""


def static_allow_list() -> dict[str, Path]:
    """Map each allowed URL to its file, resolved on disk once."""
    return {STATIC_BASE + name: (STATIC / name).resolve(strict=True) for name in ALLOWED_STATIC}


@cache
def _fetcher_class():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnlyFetcher(URLFetcher):
        """Serve allow-listed static files and data: URIs; refuse everything else."""

        def __init__(self, allowed: dict[str, Path]):
            super().__init__(allowed_protocols=("data",), allow_redirects=False)
            self.allowed = allowed

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            path = self.allowed.get(url)
            if path is None:
                scheme = url.split(":", 1)[0][:16]
                # Log the kind of request only: the URL may carry typed personal data.
                log.warning("receipt renderer refused a %s: URL", scheme)
                raise ValueError("the receipt renderer fetches only its own static files")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    return StaticOnlyFetcher


def make_fetcher():
    return _fetcher_class()(static_allow_list())


def harfbuzz_subsetting_available() -> bool:
    """Tell whether WeasyPrint can subset fonts with HarfBuzz (3-4x faster than fontTools)."""
    from weasyprint.text.ffi import harfbuzz, harfbuzz_subset

    return harfbuzz_subset is not None and bool(harfbuzz.hb_version_atleast(4, 1, 0))


class Renderer:
    """Turns receipt HTML into PDF bytes. One per process: the font configuration and
    the parsed stylesheet are built once (a fresh pair per receipt costs time and
    leaks memory), and renders run one at a time on a worker thread with a budget."""

    def __init__(self, budget_seconds: float):
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        self.budget = budget_seconds
        self.fetcher = make_fetcher()
        self.font_config = FontConfiguration()
        self.stylesheet = CSS(
            url=STATIC_BASE + "css/receipt.css",
            font_config=self.font_config,
            url_fetcher=self.fetcher,
        )
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receipt-render")

    def _render(self, html: str) -> bytes:
        from weasyprint import HTML

        document = HTML(string=html, base_url=STATIC_BASE, url_fetcher=self.fetcher)
        return document.write_pdf(
            stylesheets=[self.stylesheet], font_config=self.font_config
        )

    def render(self, html: str) -> bytes:
        """Return the PDF for the HTML, or raise RenderError past the time budget."""
        future = self._worker.submit(self._render, html)
        try:
            return future.result(timeout=self.budget)
        except FutureTimeout:
            log.error("receipt rendering exceeded its %.1f s budget", self.budget)
            # The stuck render cannot be killed, but it must not block the next one:
            # later receipts get a fresh worker thread.
            self._worker.shutdown(wait=False, cancel_futures=True)
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="receipt-render")
            raise RenderError("receipt rendering exceeded its time budget") from None


_renderers: dict[float, Renderer] = {}
_lock = threading.Lock()


def renderer(budget_seconds: float) -> Renderer:
    """Return this process's renderer (created on first use)."""
    with _lock:
        if budget_seconds not in _renderers:
            _renderers[budget_seconds] = Renderer(budget_seconds)
        return _renderers[budget_seconds]
