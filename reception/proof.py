"""Self-service proof of attendance (charter rule 6): the centre certifies nobody, but a visitor can
print a slip saying that a ticket was issued at this site at this time — nothing about who.

The verification code carries the site, the ticket code and the arrival minute, with an HMAC of
them under the project's SECRET_KEY. Checking a code needs no visit row, so proofs stay verifiable
after raw visits are purged; a changed character breaks the signature."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.utils.crypto import constant_time_compare

from citedesmetiers.models import Site

from .models import Visit

MAC_BYTES = 10  # 80 bits: not guessable, still short enough to type


def _mac(payload: bytes) -> str:
    key = hashlib.sha256(b"cdm.proof-of-attendance:" + settings.SECRET_KEY.encode()).digest()
    digest = hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode().rstrip("=")


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _unb32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def proof_code(visit: Visit) -> str:
    minute = int(visit.arrived_at.timestamp() // 60)
    payload = f"{visit.site_id}:{visit.code}:{minute}".encode()
    return f"{_b32(payload)}-{_mac(payload)}"


@dataclass
class Proof:
    site: Site
    ticket: str
    arrived_at: dt.datetime


def read_proof(code: str) -> Proof | None:
    """The proof a code stands for, or None when it is malformed, tampered with or unknown."""
    try:
        encoded, mac = code.upper().split("-", 1)
        payload = _unb32(encoded)
        if _b32(payload) != encoded:
            return None  # unused trailing bits changed: not the code we issued
        if not constant_time_compare(mac, _mac(payload)):
            return None
        site_id, ticket, minute = payload.decode().split(":")
        site = Site.objects.filter(pk=int(site_id)).first()
        if site is None:
            return None
        arrived = dt.datetime.fromtimestamp(int(minute) * 60, tz=dt.UTC).astimezone(site.zone)
    except (ValueError, UnicodeDecodeError, OverflowError, OSError):
        return None
    return Proof(site=site, ticket=ticket, arrived_at=arrived)
