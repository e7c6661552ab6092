"""The plan's coverage for managers: a weekday's table of desks against visits, and its A4
landscape PDF to pin up or bring to the partners' meeting."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS
from django.views.decorators.http import require_GET

from citedesmetiers.access import staff_view
from citedesmetiers.pdf import render as render_pdf
from citedesmetiers.replica import reads_from_replica
from citedesmetiers.roles import Role

from .coverage import VISITS_PER_DESK_HOUR, WEEKS, coverage


def _context(request: HttpRequest) -> dict:
    site = request.site
    today = site.local_date()
    value = request.GET.get("day", "")
    weekday = int(value) if value in {str(d) for d in range(7)} else today.weekday()
    return {
        "site": site,
        "coverage": coverage(site, weekday, today),
        "weekday": weekday,
        "weekdays": [(d, WEEKDAYS[d]) for d in range(7)],
        "weeks": WEEKS,
        "per_desk": VISITS_PER_DESK_HOUR,
    }


@staff_view(Role.MANAGER)
@require_GET
@reads_from_replica
def page(request: HttpRequest) -> HttpResponse:
    return render(request, "figures/coverage.html", _context(request))


@staff_view(Role.MANAGER)
@require_GET
@reads_from_replica
def pdf(request: HttpRequest) -> HttpResponse:
    # The page's link always names the weekday: anything else is no such print (and costs no
    # render, about half a second each).
    if request.GET.get("day", "") not in {str(d) for d in range(7)}:
        raise Http404
    context = _context(request)
    with timezone.override(request.site.zone), translation.override(request.site.language):
        html = render_to_string("figures/coverage_pdf.html", context)
    response = HttpResponse(
        render_pdf(html, what=f"coverage {request.site.slug}"), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'inline; filename="coverage-{request.site.slug}.pdf"'
    return response
