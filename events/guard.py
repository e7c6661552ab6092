"""What stands between a script and the public registration form, besides the honeypot: limits
per address, per network and per event, and a proof-of-work check once they are near. And the
limits of the page where a registration's code is typed (`count_code_lookup`). The public
appointment booking (counselling.booking_views) stands behind the same limits and check, with its
own counters (`BOOKING`), a site taking the place of the event.

Limits, per clock hour (counted on every well-formed attempt, whatever its outcome):
- one address (IPv6: its /64) makes at most EVENT_REGISTRATIONS_PER_HOUR attempts;
- one network (a /24, an IPv6 /48) at most EVENT_REGISTRATIONS_PER_NETWORK_PER_HOUR, and at most
  EVENT_REGISTRATIONS_PER_HOUR for any one event: a rented range cannot fill a workshop.

The check (ALTCHA's first protocol: find the number n for which SHA-256(salt + n) is the
challenge) is asked for once the event is nearly full, once the network has made
EVENT_CHALLENGE_AFTER attempts this hour, or once the event has had BUSY_EVENT attempts this
hour. The challenge is made and verified here with the `altcha` package, signed with a key drawn
from SECRET_KEY, bound to the event, valid CHALLENGE_MINUTES, usable once; the browser solves it
by itself (static/js/challenge.js, our own code: no third party, nothing to click).
EVENT_CHALLENGE_DIFFICULTY is the largest number to try (the mean cost is half of it);
0 turns the check off.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from urllib.parse import parse_qs

from altcha import create_challenge_v1, verify_solution_v1
from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from citedesmetiers.cache import count_hits
from citedesmetiers.clients import client_key, client_network
from citedesmetiers.limits import over_hourly_limits

CHALLENGE_MINUTES = 30
# Attempts on one event in an hour after which everyone gets the check (a spread-out script).
BUSY_EVENT = 20
HOUR = 3600


class Reason:
    """Why the check is asked: it decides what a person without JavaScript is told."""

    NEARLY_FULL = "nearly_full"  # waiting does not help: reception does
    BUSY = "busy"  # in an hour the check may not be needed


# The public forms counted, each with counters of its own (the same limits apply to both).
REGISTRATION = "events:register"
BOOKING = "appointments:book"


@dataclass(frozen=True)
class Counts:
    address: int
    network: int
    event_network: int
    event: int


def _keys(request: HttpRequest, event_id: int, form: str) -> tuple[str, str, str, str]:
    hour = f"{timezone.now():%Y%m%d%H}"
    network = client_network(request)
    return (
        f"{form}:{client_key(request)}:{hour}",
        f"{form}-net:{network}:{hour}",
        f"{form}-event-net:{event_id}:{network}:{hour}",
        f"{form}-event:{event_id}:{hour}",
    )


def count_attempt(request: HttpRequest, event_id: int, *, form: str = REGISTRATION) -> Counts:
    """Count one more attempt (of this address, its network, on this event); the counts after.
    For a booking (`form=BOOKING`), `event_id` is the site's id."""
    return Counts(*count_hits(list(_keys(request, event_id, form)), HOUR))


def counts_so_far(request: HttpRequest, event_id: int, *, form: str = REGISTRATION) -> Counts:
    """The counts as they are, for the page that shows the form (nothing is counted)."""
    keys = _keys(request, event_id, form)
    found = cache.get_many(keys)
    return Counts(*(int(found.get(key) or 0) for key in keys))


def refusal(counts: Counts) -> bool:
    """Whether this attempt is over a limit (see the module)."""
    per_address = settings.EVENT_REGISTRATIONS_PER_HOUR
    return (
        counts.address > per_address
        or counts.network > settings.EVENT_REGISTRATIONS_PER_NETWORK_PER_HOUR
        or counts.event_network > per_address
    )


def nearly_full(capacity: int | None, places_left: int | None) -> bool:
    """The last fifth of the places (at least the last two), and the waiting list."""
    if capacity is None or places_left is None:
        return False
    return places_left <= max(2, capacity // 5)


def reason_for_check(
    counts: Counts, *, capacity: int | None, places_left: int | None, counted: bool
) -> str | None:
    """Why this attempt needs the check, or None. `counted`: the counts include this attempt
    (on the posted form) or not (on the page showing it)."""
    if not settings.EVENT_CHALLENGE_DIFFICULTY:
        return None
    if nearly_full(capacity, places_left):
        return Reason.NEARLY_FULL
    before = 1 if counted else 0
    if counts.network - before >= settings.EVENT_CHALLENGE_AFTER:
        return Reason.BUSY
    if counts.event - before >= BUSY_EVENT:
        return Reason.BUSY
    return None


# The code page (events.views.find): codes typed per clock hour, by one address (IPv6: its /64),
# by one network (a /24, an IPv6 /48) and by everyone. A person finds their code in a try or two.
# A script that rents networks by the thousand is held by the last ceiling: among 2⁴⁰ codes, some
# 10,000 in progress, 1,000 tries an hour meet one in about 10⁵ hours — over ten years.
CODE_LOOKUPS_PER_HOUR = 10
CODE_LOOKUPS_PER_NETWORK_PER_HOUR = 50
CODE_LOOKUPS_PER_HOUR_EVERYWHERE = 1000


def count_code_lookup(request: HttpRequest) -> bool:
    """Count one more code typed on the code page; whether it is over a limit (then it is not
    looked up). Raises CacheUnavailable when nothing can count."""
    return over_hourly_limits(
        request,
        "events:code",
        per_address=CODE_LOOKUPS_PER_HOUR,
        per_network=CODE_LOOKUPS_PER_NETWORK_PER_HOUR,
        everyone=CODE_LOOKUPS_PER_HOUR_EVERYWHERE,
    )


def _hmac_key() -> str:
    return salted_hmac("events.guard.challenge", "altcha").hexdigest()


def new_challenge(event_id: int | str) -> dict:
    """A challenge for the registration form of `event_id`, as the browser reads it (or for
    another form: any name that is not an event's id, such as `booking:<site id>`)."""
    challenge = create_challenge_v1(
        hmac_key=_hmac_key(),
        max_number=settings.EVENT_CHALLENGE_DIFFICULTY,
        expires=timezone.now() + dt.timedelta(minutes=CHALLENGE_MINUTES),
        params={"event": str(event_id)},
    )
    return challenge.to_dict()


def solved(payload: str, event_id: int | str) -> bool:
    """Whether `payload` (what the browser sends) solves a challenge of ours for this event,
    not expired and not used before. Anything malformed is simply not solved."""
    if not payload or len(payload) > 2000:
        return False
    try:
        verified, _error = verify_solution_v1(payload, _hmac_key(), check_expires=True)
        if not verified:
            return False
        nonce, made_for = _nonce_and_event(payload)
    except (ValueError, TypeError, KeyError, AttributeError):
        return False
    if made_for != str(event_id):
        return False
    # Once only: the first to present it wins (cache.add is atomic on every shared backend).
    return cache.add(f"events:challenge-used:{nonce}", 1, CHALLENGE_MINUTES * 60 + 60)


def _nonce_and_event(payload: str) -> tuple[str, str]:
    """The random part of a verified payload's salt, and the event it was made for."""
    salt = json.loads(base64.b64decode(payload))["salt"]
    nonce, _, query = salt.partition("?")
    return nonce, (parse_qs(query).get("event") or [""])[0]
