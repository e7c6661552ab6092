"""Self-service proof of attendance (charter rule 6): the centre certifies nobody, but a visitor can
print a slip saying that a ticket was issued at this site at this time — nothing about who.

The code is made to be typed back from paper: eight characters in two groups (`K7PM-4QXD`), from
an alphabet without the characters people confuse (0/O, 1/I/L, and U/V), drawn at random and
stored (reception.models.ProofOfAttendance) with the site, the ticket and the arrival minute.
Checking it needs no visit row, so proofs stay verifiable after raw visits are purged; it is
read with or without its hyphen, in any case, with spaces. 30⁸ ≈ 6.5 × 10¹¹ codes: typing codes
at random finds none.

Slips printed before carried a longer signed code: the site, the ticket and the minute in
base 32, a hyphen, and an HMAC of them under the project's SECRET_KEY (`read_signed`). They
still verify, with or without their hyphen."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from citedesmetiers.codes import grouped, new_code, normal_form
from citedesmetiers.models import Site

from .models import ProofOfAttendance, Visit

ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U
LENGTH = 8
_SHORT = re.compile(f"[{ALPHABET}]{{{LENGTH}}}")

MAC_BYTES = 10  # the signed codes of the first slips: 80 bits, 16 characters of base 32
_MAC_CHARS = 16


def proof_code(visit: Visit) -> str:
    """The code printed on the visit's proof, grouped; the same each time it is printed."""
    arrived = visit.arrived_at.replace(second=0, microsecond=0)
    wanted = {"site_id": visit.site_id, "ticket": visit.code, "arrived_at": arrived}
    for _attempt in range(5):
        found = ProofOfAttendance.objects.filter(**wanted).values_list("code", flat=True).first()
        if found:
            return grouped(found)
        try:
            with transaction.atomic():
                ProofOfAttendance.objects.create(code=new_code(ALPHABET, LENGTH), **wanted)
        except IntegrityError:
            continue  # printed at the same moment elsewhere, or (rarely) a code already taken
    raise RuntimeError("no free proof code after five tries")


@dataclass
class Proof:
    site: Site
    ticket: str
    arrived_at: dt.datetime
    code: str  # as printed


def read_proof(typed: str) -> Proof | None:
    """The proof a code stands for, or None when it is malformed, tampered with or unknown."""
    code = normal_form(typed)
    if _SHORT.fullmatch(code):
        row = ProofOfAttendance.objects.select_related("site").filter(code=code).first()
        if row is None:
            return None
        arrived = row.arrived_at.astimezone(row.site.zone)
        return Proof(site=row.site, ticket=row.ticket, arrived_at=arrived, code=grouped(code))
    return read_signed(code)


def forget_old_proofs(*, now: dt.datetime | None = None) -> int:
    """Nightly: the codes of visits older than PROOF_RETENTION_DAYS are deleted (the slip then
    no longer verifies). Returns how many."""
    limit = (now or timezone.now()) - dt.timedelta(days=settings.PROOF_RETENTION_DAYS)
    deleted, _by_model = ProofOfAttendance.objects.filter(arrived_at__lt=limit).delete()
    return deleted


def looks_like_a_code(typed: str) -> bool:
    """Whether `typed` has the shape of a code we print (now or before), known or not: to tell
    a typo in its length or letters from a code that is simply unknown."""
    code = normal_form(typed)
    return bool(_SHORT.fullmatch(code)) or _split_signed(code) is not None


# --- the signed codes of the first slips ----------------------------------------------------------


def _mac(payload: bytes) -> str:
    key = hashlib.sha256(b"cdm.proof-of-attendance:" + settings.SECRET_KEY.encode()).digest()
    digest = hmac.new(key, payload, hashlib.sha256).digest()[:MAC_BYTES]
    return base64.b32encode(digest).decode().rstrip("=")


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode().rstrip("=")


def _unb32(text: str) -> bytes:
    return base64.b32decode(text + "=" * (-len(text) % 8))


def _split_signed(code: str) -> tuple[str, str] | None:
    """The payload and signature of a signed code in normal form (its hyphen is gone: the
    signature is always its last 16 characters)."""
    if len(code) <= _MAC_CHARS or not re.fullmatch(r"[A-Z2-7]+", code):
        return None
    return code[:-_MAC_CHARS], code[-_MAC_CHARS:]


def read_signed(code: str) -> Proof | None:
    """The proof of a signed code (in normal form), or None."""
    parts = _split_signed(code)
    if parts is None:
        return None
    encoded, mac = parts
    try:
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
    return Proof(site=site, ticket=ticket, arrived_at=arrived, code=f"{encoded}-{mac}")
