"""The poster of a site's reception protocol, for its entrance (A4 or A3, PDF).

Anyone may ask for it, so like the visitor's printouts (`reception.printouts`) each poster is
made once and kept under a hash of its page — a new text or new hours make a new one — and the
renders still needed count against hourly budgets per client address (shared with the other
public PDFs) and per site; a spent budget raises `pdf.TooManyRenders`."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse

from citedesmetiers import pdf
from citedesmetiers.clients import client_key
from citedesmetiers.models import Site
from citedesmetiers.qr import qr_data_uri

from .hours import hours_of

SIZES = ("a4", "a3")
RENDERS_PER_SITE = 30  # an hour: both sizes in every language, and a few corrections
KEEP_SECONDS = 24 * 3600


def poster_pdf(request: HttpRequest, site: Site, *, size: str, paragraphs: list[str]) -> bytes:
    page_url = request.build_absolute_uri(reverse("sitepage:page", args=[site.slug]))
    html = render_to_string(
        "sitepage/poster.html",
        {
            "site": site,
            "size": size,
            "paragraphs": paragraphs,
            "hours": hours_of(site),
            "page_url": page_url,
            # Printed short, to be typed: the address without its scheme.
            "page_address": page_url.split("://", 1)[-1],
            "qr": qr_data_uri(page_url, 6),
        },
        request=request,
    )
    digest = hashlib.sha256(html.encode()).hexdigest()[:32]
    return pdf.render_once(
        key=f"poster:{site.pk}:{size}:{digest}",
        html=lambda: html,
        what=f"poster {site.slug} {size}",
        keep=KEEP_SECONDS,
        budgets=[
            (f"address:{client_key(request)}", settings.PDF_RENDERS_PER_ADDRESS),
            (f"poster:{site.pk}", RENDERS_PER_SITE),
        ],
    )
