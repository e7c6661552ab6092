"""Every PDF of the project is made here, with WeasyPrint: the visitor's proof of attendance and
take-away list, and the monthly report.

WeasyPrint's own fetcher opens whatever a document names — `file:` paths, `http:` addresses of
the internal network, `ftp:` — so one name typed into a form and printed in a PDF could read
the server's files or make it call other machines while it renders. Ours answers only `data:`
URIs (the QR codes) and the project's own static files (written `{% static … %}`, relative to
`BASE_URL`); anything else is refused, and WeasyPrint leaves that image or stylesheet out.

A render takes about half a second and a few hundred megabytes: PDFs that anyone may ask for are
made once and kept (`render_once`), and the renders still needed are counted against hourly
budgets.

Every PDF is tagged as PDF/UA-1 asks, so that screen readers read it in order.
"""

from __future__ import annotations

import functools
import logging
import mimetypes
import posixpath
from collections.abc import Callable, Iterable
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.core.exceptions import SuspiciousFileOperation
from django.utils import timezone

from .cache import CacheUnavailable, count_hit

logger = logging.getLogger(__name__)

# What relative addresses in a document resolve against. `.invalid` never resolves (RFC 2606):
# nothing is fetched from it, its static paths are read from disk.
BASE_URL = "https://pdf.invalid/"


def static_file(url: str) -> str | None:
    """The file on disk of one of our static files named by `url`, else None."""
    parts = urlsplit(url)
    base = urlsplit(BASE_URL)
    if (parts.scheme, parts.netloc) != (base.scheme, base.netloc):
        return None
    path = unquote(parts.path)
    if not path.startswith(settings.STATIC_URL):
        return None
    name = path[len(settings.STATIC_URL) :]
    if (
        not name
        or "\\" in name
        or "\x00" in name
        or posixpath.normpath(name) != name
        or name == ".."
        or name.startswith(("../", "/"))
    ):
        return None  # "..", "./", "//": not a name we publish
    try:
        found = finders.find(name)  # the source files
        if isinstance(found, str):
            return found
        if staticfiles_storage.exists(name):  # collected, with hashed names in production
            return staticfiles_storage.path(name)
    except (SuspiciousFileOperation, NotImplementedError, ValueError):
        # A name outside the static roots, a storage with no local path (its `path()` raises
        # NotImplementedError), or a malformed name: not a file we serve to the renderer.
        return None
    return None


@functools.cache
def _weasyprint():
    # ~1 s to import: at the first PDF a process makes, never at web start-up.
    import weasyprint
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class OurFilesOnly(URLFetcher):
        def fetch(self, url, headers=None):
            if urlsplit(url).scheme.lower() == "data":
                return super().fetch(url, headers)
            path = static_file(url)
            if path is None:
                # WeasyPrint catches this, logs a warning and renders without the resource.
                raise ValueError(f"Only data: URIs and static files are fetched, not {url[:100]}")
            with open(path, "rb") as file:
                body = file.read()
            mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
            return URLFetcherResponse(url, body, {"Content-Type": mime})

    return weasyprint.HTML, OurFilesOnly


def render(html: str, *, what: str) -> bytes:
    """The PDF of `html`. `what` names it in the log line every render writes."""
    html_class, fetcher_class = _weasyprint()
    # PDF/UA-1: tagged (headings, paragraphs, tables and lists a screen reader can walk), with
    # the document's language and title from its <html lang> and <title>.
    pdf = html_class(string=html, base_url=BASE_URL, url_fetcher=fetcher_class()).write_pdf(
        pdf_variant="pdf/ua-1"
    )
    logger.info("PDF rendered: %s (%d bytes)", what, len(pdf))
    return pdf


class TooManyRenders(Exception):
    """A budget of renders is spent; the next render is allowed in `retry_after` seconds.
    `paused`: the budgets cannot be counted (the cache is away), so no render is allowed."""

    def __init__(self, retry_after: int, *, paused: bool = False) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after
        self.paused = paused


# While the cache is away, renders cannot be counted: they wait this long.
PAUSED_SECONDS = 120


def render_once(
    *,
    key: str,
    html: Callable[[], str],
    what: str,
    keep: int,
    budgets: Iterable[tuple[str, int]],
) -> bytes:
    """The PDF kept in the cache under `key`, else `html()` rendered now and kept `keep`
    seconds. Only a render counts: one against each `(name, renders per hour)` budget, and
    when one is spent nothing is rendered and `TooManyRenders` says when to come back."""
    key = f"pdf:{key}"
    document = cache.get(key)
    if document is not None:
        return document
    now = timezone.now()
    hour = f"{now:%Y%m%d%H}"
    try:
        spent = [
            name
            for name, per_hour in budgets
            if count_hit(f"pdf-renders:{name}:{hour}", 3600) > per_hour
        ]
    except CacheUnavailable:
        # A render costs a worker half a second: uncounted, a loop on one link would take the
        # site down while the cache is away.
        raise TooManyRenders(retry_after=PAUSED_SECONDS, paused=True) from None
    if spent:
        raise TooManyRenders(retry_after=3600 - now.minute * 60 - now.second)
    document = render(html(), what=what)
    cache.set(key, document, keep)
    return document
