"""What a visitor prints from their phone: the proof of attendance and the take-away list (PDFs).

A render holds a web worker for about half a second and a few hundred megabytes, and anyone
holding one ticket link could ask for it in a loop. So each printout is made once and kept: the
proof never changes (it gives the time it was first printed), and the take-away list is made
again only when what it shows changes (its page, hashed, is the key). The renders still needed
count against hourly budgets per ticket and per client address (`PDF_RENDERS_PER_TICKET`,
`PDF_RENDERS_PER_ADDRESS`); a spent budget raises `pdf.TooManyRenders`."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from citedesmetiers import pdf
from citedesmetiers.clients import client_key
from citedesmetiers.qr import qr_data_uri

from .models import Visit
from .proof import proof_code
from .take_away import take_away_of


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _budgets(request: HttpRequest, visit: Visit) -> list[tuple[str, int]]:
    return [
        (f"ticket:{visit.pk}", settings.PDF_RENDERS_PER_TICKET),
        (f"address:{client_key(request)}", settings.PDF_RENDERS_PER_ADDRESS),
    ]


def proof_pdf(request: HttpRequest, visit: Visit, *, keep: int) -> bytes:
    code = proof_code(visit)
    verify_url = request.build_absolute_uri(reverse("reception:verify", args=[code]))
    # Printed short, to be typed: the host and /verify/ (the QR code has the whole address).
    verify_address = request.get_host() + reverse("reception:verify_form")

    def html() -> str:
        zone = visit.site.zone
        with timezone.override(zone):
            return render_to_string(
                "reception/proof.html",
                {
                    "visit": visit,
                    "code": code,
                    "verify_url": verify_url,
                    "verify_address": verify_address,
                    "qr": qr_data_uri(verify_url),
                    "arrived": timezone.localtime(visit.arrived_at, zone),
                    "printed": timezone.localtime(timezone.now(), zone),
                },
                request=request,
            )

    return pdf.render_once(
        key=f"proof:{visit.pk}:{translation.get_language()}:{_digest(verify_url)}",
        html=html,
        what=f"proof {visit.site.slug} {visit.code}",
        keep=keep,
        budgets=_budgets(request, visit),
    )


def take_away_pdf(request: HttpRequest, visit: Visit, *, keep: int) -> bytes:
    """The take-away list with a QR code per document and event. No identity."""
    take_away = take_away_of(visit)
    items, events = take_away.items, take_away.events
    # Each code opens its page in the list's language (a registration made there speaks it).
    lang = f"?lang={translation.get_language()}"
    for item in events:
        url = reverse("events:detail", args=[item.event_id]) + lang
        item.qr = qr_data_uri(request.build_absolute_uri(url), 2)
    for item in items:
        url = reverse("resources:detail", args=[item.resource_id]) + lang
        item.qr = qr_data_uri(request.build_absolute_uri(url), 2)
    with timezone.override(visit.site.zone):
        html = render_to_string(
            "reception/take_away.html",
            {
                "visit": visit,
                "items": items,
                "events": events,
                "printed": timezone.localtime(timezone.now(), visit.site.zone),
            },
            request=request,
        )
    return pdf.render_once(
        key=f"take-away:{visit.pk}:{_digest(html)}",
        html=lambda: html,
        what=f"take-away list {visit.site.slug} {visit.code}",
        keep=keep,
        budgets=_budgets(request, visit),
    )
