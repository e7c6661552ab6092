"""The project's URLs plus `/bench/bare/`: the cost of Django alone, the baseline of every ratio."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from citedesmetiers.urls import handler403, handler404
from citedesmetiers.urls import urlpatterns as project_urlpatterns

__all__ = ["handler403", "handler404", "urlpatterns"]


def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [*project_urlpatterns, path("bench/bare/", bare)]
