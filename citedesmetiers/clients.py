"""Who is asking: the client's address, as our rate limits and allauth's count it.

Behind the TLS proxy the README requires, `REMOTE_ADDR` is the proxy's own address, so every
visitor would share one budget. With `TRUSTED_PROXY_COUNT = n` (the proxies we run, each
appending the address it saw to `X-Forwarded-For`), the client is the n-th entry from the right;
entries further left are whatever the client wrote and are never trusted. A request with fewer
entries than that did not come through our proxies: its own peer address is used."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest

# An IPv6 user is given a whole /64 by their provider: counting single addresses would give
# them 2⁶⁴ budgets.
IPV6_RATE_PREFIX = 64
# Wider networks, for budgets shared by a neighbourhood of addresses (a script renting a range).
IPV4_NETWORK_PREFIX = 24
IPV6_NETWORK_PREFIX = 48


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:443
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


def client_ip(request: HttpRequest) -> str:
    """The client's address (see the module), as text; "unknown" if nothing usable was sent."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [
            part for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= count:
            address = _address(forwarded[-count])
            if address is not None:
                return str(address)
    address = _address(request.META.get("REMOTE_ADDR", ""))
    return str(address) if address is not None else "unknown"


def _network(ip: str, v4_prefix: int, v6_prefix: int) -> str:
    address = _address(ip)
    if address is None:
        return ip
    prefix = v6_prefix if address.version == 6 else v4_prefix
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def client_key(request: HttpRequest) -> str:
    """What a per-client rate limit counts: the address, or its /64 for IPv6."""
    return _network(client_ip(request), 32, IPV6_RATE_PREFIX)


def client_network(request: HttpRequest) -> str:
    """The client's wider network (/24 for IPv4, /48 for IPv6), for budgets shared by a range."""
    return _network(client_ip(request), IPV4_NETWORK_PREFIX, IPV6_NETWORK_PREFIX)
