"""Pages at a secret link's address: an event registration's, an appointment's manage page."""

from __future__ import annotations

from functools import wraps

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


def secret_page(view):
    """For the pages at a secret link's address: no browser or proxy keeps them (`no-store`),
    and the address goes to no other site as a referrer (`same-origin`, as every page of
    ours says: a link out, such as an event's online address, carries no referrer; our own
    forms still carry their origin, so the CSRF check holds here as everywhere)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        response["Referrer-Policy"] = "same-origin"
        return response

    return wrapper
