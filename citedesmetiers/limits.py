"""Hourly limits on what anyone may type at a public page (a registration's code, a proof's
code): per address (an IPv6 /64), per network (a /24, an IPv6 /48) and for everyone together,
counted in the cache in one round trip. Raises `CacheUnavailable` when nothing can count: each
caller decides whether that refuses (a code that opens someone's registration) or not."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from .cache import count_hits
from .clients import client_key, client_network

HOUR = 3600


def over_hourly_limits(
    request: HttpRequest, scope: str, *, per_address: int, per_network: int, everyone: int
) -> bool:
    """Count one more try at `scope` from this request; whether it is over one of the limits."""
    hour = f"{timezone.now():%Y%m%d%H}"
    address, network, everywhere = count_hits(
        [
            f"{scope}:{client_key(request)}:{hour}",
            f"{scope}-net:{client_network(request)}:{hour}",
            f"{scope}-all:{hour}",
        ],
        HOUR,
    )
    return address > per_address or network > per_network or everywhere > everyone
