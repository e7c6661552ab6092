"""Live screens: each site has a change mark in the `live` cache, replaced after every commit that
changes what its screens show. A screen polls with the mark it has; an unchanged mark is answered
with an empty 204 before the session or the database is touched (see `live_poll`).

Why polling and not server-sent events: measured here, an SSE connection holds a whole sync
worker, so tens of screens would starve the application. A poll every LIVE_POLL_SECONDS costs one
cache read when nothing changed."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from functools import wraps

from django.core.cache import caches
from django.db import transaction
from django.http import HttpRequest, HttpResponse

MARK_TTL = 7 * 24 * 3600
# What a site's slug can be (Site.slug): anything else names no site, and is no cache key.
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,40}")
_SECONDS = re.compile(r"[0-9]{1,12}")


def _key(site_slug: str) -> str:
    return f"site:{site_slug}"


def current_mark(site_slug: str) -> str:
    """The site's change mark, created on first use so every screen starts from a real value.
    Only for a site that exists: the views call it once they have found theirs."""
    live = caches["live"]
    mark = live.get(_key(site_slug))
    if mark is None:
        mark = uuid.uuid4().hex
        if not live.add(_key(site_slug), mark, MARK_TTL):
            mark = live.get(_key(site_slug)) or mark
    return mark


def publish_change(site_slug: str) -> None:
    """Tell the site's screens to refresh, once the current transaction has committed (a screen
    must never re-read before the change is visible)."""

    def _bump() -> None:
        caches["live"].set(_key(site_slug), uuid.uuid4().hex, MARK_TTL)

    transaction.on_commit(_bump)


def live_poll(site_slug_from: Callable[[HttpRequest, dict], str | None]):
    """Answer an unchanged poll (`?v=<mark>` equal to the site's mark) with 204 and nothing else.

    htmx leaves the page as it is on a 204. Changed or first polls go on to the view, which renders
    the fragment with the new mark. A fragment that also changes with time says when
    (`&due=<unix seconds>`): from then on its poll goes on to the view too. The view is marked
    so the MFA middleware lets it through without loading the session."""

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            slug = site_slug_from(request, kwargs)
            seen = request.GET.get("v")
            # Only a read: a poll naming a site that does not exist (or whose mark is gone) goes
            # on to the view, which answers 404 or makes the mark of the real site.
            if (
                slug
                and seen
                and _SLUG.fullmatch(slug)
                and not _is_due(request.GET.get("due"))
                and seen == caches["live"].get(_key(slug))
            ):
                response = HttpResponse(status=204)
                response["Cache-Control"] = "no-store"
                return response
            return view(request, *args, **kwargs)

        wrapper.live_poll = True
        return wrapper

    return decorator


def _is_due(due: str | None) -> bool:
    """Whether the poll's fragment said it changes by now (anything but digits: never)."""
    return due is not None and _SECONDS.fullmatch(due) is not None and int(due) <= time.time()
