"""Who may open which staff screen: checked by role *and* site, here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from . import directory
from .accounts import mfa_checked, must_enrol_in_mfa
from .models import Cite, Partner, Site, StaffMembership, User
from .roles import Role

SESSION_SITE_KEY = "staff_site_id"


def _role_names(roles) -> frozenset[str]:
    return frozenset(Role(role).value for role in roles) if roles else directory.ALL_ROLES


def roles_at(user: User, site: Site) -> frozenset[str]:
    """The roles `user` holds at `site`: at the site itself, at its Cité, or network-wide."""
    grant, _sites = directory.grant_and_sites(user)
    return grant.roles_at(site)


def holds(user: User, site: Site, *roles: Role) -> bool:
    """Whether `user` holds one of `roles` (any role, if none is given) at `site`."""
    return bool(roles_at(user, site) & _role_names(roles))


def staff_sites(user: User, *roles: Role) -> list[Site]:
    """The active sites where `user` holds one of `roles` (any role if none is given), in name
    order (cached; see `citedesmetiers.directory`)."""
    grant, sites = directory.grant_and_sites(user)
    wanted = _role_names(roles)
    return [site for site in sites if grant.roles_at(site) & wanted]


def sites_for(user: User, *roles: Role) -> QuerySet[Site]:
    """The same sites as `staff_sites`, as a query to filter further."""
    return Site.objects.filter(pk__in=[site.pk for site in staff_sites(user, *roles)])


def network_wide(user: User, *roles: Role) -> bool:
    """Whether `user` holds one of `roles` across the whole network (a superuser does)."""
    grant, _sites = directory.grant_and_sites(user)
    return bool(grant.roles_at_network() & _role_names(roles))


def managed_sites(user: User) -> QuerySet[Site]:
    """Every site `user` manages, in use or not: as a manager of the site, of its Cité or of
    the whole network (the administration's scope)."""
    grant, _sites = directory.grant_and_sites(user)
    if Role.MANAGER in grant.roles_at_network():
        return Site.objects.all()
    return Site.objects.filter(
        Q(pk__in=[pk for pk, roles in grant.sites.items() if Role.MANAGER in roles])
        | Q(cite__in=managed_cites(user))
    )


def managed_cites(user: User) -> QuerySet[Cite]:
    """The Cités `user` manages as a whole: as a manager of the Cité or of the network."""
    grant, _sites = directory.grant_and_sites(user)
    if Role.MANAGER in grant.roles_at_network():
        return Cite.objects.all()
    return Cite.objects.filter(
        pk__in=[pk for pk, roles in grant.cites.items() if Role.MANAGER in roles]
    )


def partner_at(user: User, site: Site) -> Partner | None:
    """The partner that delegates `user` to `site` as a counsellor: as given on their
    counsellor's membership of the site, else of its Cité, else network-wide."""
    memberships = StaffMembership.objects.filter(
        Q(site=site)
        | Q(site__isnull=True, cite__isnull=True)
        | Q(cite_id=site.cite_id, cite__isnull=False),
        user=user,
        partner__isnull=False,
        roles__name=Role.COUNSELLOR,
    ).select_related("partner")
    ranked = sorted(memberships, key=lambda m: (m.site_id is None, m.cite_id is None))
    return ranked[0].partner if ranked else None


def current_site(request: HttpRequest, *roles: Role) -> Site | None:
    """The site the staff member chose (remembered in their session) if they hold one of
    `roles` there, else the first site where they do."""
    sites = staff_sites(request.user, *roles)
    chosen = request.session.get(SESSION_SITE_KEY)
    return next((site for site in sites if site.pk == chosen), sites[0] if sites else None)


def staff_view(*roles: Role, site_kwarg: str | None = None) -> Callable:
    """Let in staff who hold one of `roles` at the site the request is about.

    The site is the URL's `site_kwarg` (a slug) when given, else the staff member's current site
    if they hold one of `roles` there, else the first site where they do; it is put on
    `request.site`. Anonymous users go to the login page and come back; staff without
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
            if not mfa_checked(request) and must_enrol_in_mfa(user):
                # Normally the middleware has sent them to enrolment already; live polls skip it.
                raise PermissionDenied(_("Set up two-factor authentication first."))
            if site_kwarg is not None:
                site = get_object_or_404(Site, slug=kwargs[site_kwarg], active=True)
                if not holds(user, site, *roles):
                    raise PermissionDenied(_("You do not hold this role at this site."))
            else:
                # The chosen site if the role is held there, else one where it is.
                site = current_site(request, *roles)
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
