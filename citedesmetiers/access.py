"""Who may open which staff screen: checked by role *and* site, here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from . import directory
from .accounts import must_enrol_in_mfa
from .middleware import SESSION_MFA_OK
from .models import Site, User
from .roles import Role

SESSION_SITE_KEY = "staff_site_id"


def staff_sites(user: User) -> list[Site]:
    """The active sites a staff member works at, in name order (cached; see `sites_for`)."""
    grant, sites = directory.grant_and_sites(user)
    return [site for site in sites if grant.everywhere or site.pk in grant.site_ids]


def sites_for(user: User) -> QuerySet[Site]:
    """The active sites a staff member works at, as a query to filter further."""
    sites = Site.objects.filter(active=True)
    if user.is_superuser or user.works_at_all_sites:
        return sites
    return sites.filter(memberships__user=user)


def works_at(user: User, site: Site) -> bool:
    return any(mine.pk == site.pk for mine in staff_sites(user))


def current_site(request: HttpRequest) -> Site | None:
    """The site the staff member chose (remembered in their session), else their first site."""
    sites = staff_sites(request.user)
    chosen = request.session.get(SESSION_SITE_KEY)
    return next((site for site in sites if site.pk == chosen), sites[0] if sites else None)


def staff_view(*roles: Role, site_kwarg: str | None = None) -> Callable:
    """Let in staff who have one of `roles` at the site the request is about.

    The site is the URL's `site_kwarg` (a slug) when given, else the staff member's current site;
    it is put on `request.site`. Anonymous users go to the login page and come back; staff without
    the role or the site get a 403 page that says why.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            directory.grant_and_sites(user)  # roles and sites, cached
            if not user.has_role(*roles):
                raise PermissionDenied(_("This screen is not part of your role."))
            if not request.session.get(SESSION_MFA_OK) and must_enrol_in_mfa(user):
                # Normally the middleware has sent them to enrolment already; live polls skip it.
                raise PermissionDenied(_("Set up two-factor authentication first."))
            if site_kwarg is not None:
                site = get_object_or_404(Site, slug=kwargs[site_kwarg], active=True)
                if not works_at(user, site):
                    raise PermissionDenied(_("You do not work at this site."))
            else:
                site = current_site(request)
                if site is None:
                    raise PermissionDenied(
                        _("You are not attached to any site yet. Ask a manager to add you to one.")
                    )
            request.site = site
            with timezone.override(site.zone):  # times on staff screens are the site's
                return view(request, *args, **kwargs)

        wrapper.staff_roles = roles  # read by the staff home page and the access tests
        return wrapper

    return decorator
