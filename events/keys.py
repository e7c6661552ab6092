"""The secret links of registrations (`/events/r/<secret>/`, `/events/c/<secret>/`).

A secret is 32 random bytes, in no way derived from the registration: a link says nothing about
which registration it opens, and one cannot be guessed from another. Only its SHA-256 is stored
(events.models.RegistrationKey) and looked up; an attacker timing the lookup learns about a hash,
never about a secret, and the final comparison is in constant time anyway.

Each e-mail carries a new link (so the links of older e-mails keep working), and the page shown
after registering without an e-mail address carries one too: only that person ever sees it. A
`confirm` link is only ever e-mailed, so confirming proves the address. All links of a
registration stop working when it is cancelled and when its contact data is purged.

A registration's code (eight characters, printed by reception, shown on its page) opens a new
link to it from the code page (`find_by_code`; the view limits the attempts).

Links of the e-mails sent before these keys existed were signed registration ids
(`django.core.signing`); `find_legacy` still reads them until their event is over."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from django.core import signing
from django.utils import timezone

from citedesmetiers.codes import CODE_ALPHABET, CODE_LENGTH

from .models import Event, Registration, RegistrationKey

MANAGE, CONFIRM = RegistrationKey.Purpose.MANAGE, RegistrationKey.Purpose.CONFIRM
SECRET_BYTES = 32
# What token_urlsafe(32) makes: 43 characters of the URL-safe base64 alphabet.
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")
_CODE = re.compile(f"[{CODE_ALPHABET}]{{{CODE_LENGTH}}}")
LEGACY_SALT = "events.registration"
LEGACY_MAX_AGE = 365 * 86400


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(registration_id: int, purpose: str) -> str:
    """A new secret link to the registration, for `purpose`; returns the secret (the only time
    it exists in clear)."""
    secret = secrets.token_urlsafe(SECRET_BYTES)
    RegistrationKey.objects.create(
        registration_id=registration_id, purpose=purpose, digest=_digest(secret)
    )
    return secret


def find(secret: str, purpose: str) -> Registration | None:
    """The registration this secret opens for `purpose`, with its event and site; else None."""
    if not _SECRET.fullmatch(secret or ""):
        return None
    wanted = _digest(secret)
    key = (
        RegistrationKey.objects.select_related("registration__event__site")
        .filter(digest=wanted, purpose=purpose)
        .first()
    )
    if key is None or not hmac.compare_digest(key.digest, wanted):
        return None
    return key.registration


def find_by_code(code: str) -> Registration | None:
    """The registration in progress with this code (as the form leaves it: capitals, no
    separators), to open its page again: one still taking part, of an event not over whose
    page is public (a cancelled event says so on it). Else None, whatever the reason."""
    if not _CODE.fullmatch(code or ""):
        return None
    return (
        Registration.objects.select_related("event__site")
        .filter(
            code=code,
            status__in=Registration.ACTIVE,
            event__status__in=[Event.Status.PUBLISHED, Event.Status.CANCELLED],
            event__site__active=True,
            event__ends_at__gt=timezone.now(),
        )
        .first()
    )


def revoke(registration_id: int) -> None:
    """Every link to the registration stops working."""
    RegistrationKey.objects.filter(registration_id=registration_id).delete()


def revoke_for_event(event_id: int) -> None:
    RegistrationKey.objects.filter(registration__event_id=event_id).delete()


def find_legacy(token: str) -> Registration | None:
    """The registration of a link signed by an older version (a signed id), while its event is
    not over; else None. The caller decides what such a link may still do: one shown on the
    screen could have been handed to someone else by that version (see events.views)."""
    try:
        registration_id = signing.loads(token, salt=LEGACY_SALT, max_age=LEGACY_MAX_AGE)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(registration_id, int) or isinstance(registration_id, bool):
        return None
    if not 0 < registration_id < 2**63:
        return None
    return (
        Registration.objects.select_related("event", "event__site")
        .filter(pk=registration_id, event__ends_at__gt=timezone.now())
        .exclude(status=Registration.Status.CANCELLED)  # a cancellation ends every link
        .first()
    )
