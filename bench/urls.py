"""The project's URLs plus two benchmark-only views:

- `/bench/bare/`: the cost of Django alone, the baseline of every ratio;
- `/bench/write/`: the least a desk action costs — a logged-in counsellor's POST (session, CSRF,
  role and site checks) that commits one UPDATE of their open desk session, changing nothing, and
  answers 302 like the desk's buttons do."""

from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_POST

from citedesmetiers.access import staff_view
from citedesmetiers.roles import Role
from citedesmetiers.urls import handler403, handler404
from citedesmetiers.urls import urlpatterns as project_urlpatterns
from counselling.models import DeskSession

__all__ = ["FLOOR_PATH", "handler403", "handler404", "urlpatterns"]

FLOOR_PATH = "/bench/write/"


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


@staff_view(Role.COUNSELLOR)
@require_POST
def write(request: HttpRequest) -> HttpResponse:
    # One statement in autocommit: the cheapest committed write there is (no BEGIN, no COMMIT
    # round trip; a desk action needs a transaction around several statements).
    updated = DeskSession.objects.filter(counsellor=request.user, closed_at__isnull=True).update(
        paused_since=F("paused_since")
    )
    if updated != 1:  # no open desk: this would be a read, not the floor of a write
        return HttpResponseServerError("no open desk session")
    return redirect("counselling:desk")


urlpatterns = [
    *project_urlpatterns,
    path("bench/bare/", bare),
    path(FLOOR_PATH.strip("/") + "/", write),
]
