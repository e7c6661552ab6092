"""Who may open which staff screen: checked by role *and* site, here and nowhere else."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from .accounts import must_enrol_in_mfa
from .middleware import SESSION_MFA_OK
from .models import Site, User
from .roles import Role

SESSION_SITE_KEY = "staff_site_id"

# Every staff request needs the member's roles and sites. They are cached (one round trip for
# both) and dropped as soon as a role, a membership, the account or a site changes (see
# `forget_access`); the timeout only bounds a reader that cached old data during a change.
ACCESS_TIMEOUT = 60
_SITES_KEY = "access:sites"


def _grant_key(user_id: int) -> str:
    return f"access:user:{user_id}"


@dataclass(frozen=True)
class _Grant:
    roles: frozenset[str]
    everywhere: bool  # superuser or network staff
    site_ids: frozenset[int]


def _access(user: User) -> tuple[_Grant, tuple[Site, ...]]:
    """The member's grant and the active sites, from the cache or the database (once a request)."""
    loaded = getattr(user, "_access_cache", None)
    if loaded is not None:
        return loaded
    key = _grant_key(user.pk)
    found = cache.get_many([key, _SITES_KEY])
    grant, sites = found.get(key), found.get(_SITES_KEY)
    missing = {}
    if grant is None:
        grant = missing[key] = _Grant(
            roles=frozenset(user.groups.values_list("name", flat=True)),
            everywhere=user.is_superuser or user.works_at_all_sites,
            site_ids=frozenset(user.memberships.values_list("site_id", flat=True)),
        )
    if sites is None:
        sites = missing[_SITES_KEY] = tuple(Site.objects.filter(active=True))
    if missing:
        cache.set_many(missing, ACCESS_TIMEOUT)
    user._access_cache = grant, sites
    user._roles_cache = {role for role in Role if role.value in grant.roles}  # for User.roles()
    return grant, sites


def forget_access(user_ids=(), *, sites: bool = False) -> None:
    """Drop cached grants (and the sites) now and again after the transaction commits, so no
    reader keeps what the change replaced."""
    keys = [_grant_key(pk) for pk in user_ids] + ([_SITES_KEY] if sites else [])
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


def staff_sites(user: User) -> list[Site]:
    """The active sites a staff member works at, in name order (cached; see `sites_for`)."""
    grant, sites = _access(user)
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
            _access(user)  # roles and sites in one cache read
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


# --- keeping the cached grants true -------------------------------------------------------------


def _forget_user(sender, instance: User, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login", "password"}:
        return  # a login or a new password: neither roles nor sites changed
    for attribute in ("_access_cache", "_roles_cache"):
        instance.__dict__.pop(attribute, None)
    forget_access([instance.pk])


def _forget_member(sender, instance, **kwargs) -> None:
    forget_access([instance.user_id])


def _forget_group_members(sender, instance, **kwargs) -> None:
    forget_access(instance.user_set.values_list("pk", flat=True))


def _forget_sites(sender, **kwargs) -> None:
    forget_access(sites=True)


def _groups_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if not reverse:  # user.groups.add(...)
        if action.startswith("post_"):
            _forget_user(sender, instance)
    elif action in ("post_add", "post_remove"):  # group.user_set.add(...)
        forget_access(pk_set or ())
    elif action == "pre_clear":
        _forget_group_members(sender, instance)


def connect_signals() -> None:
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

    from .models import StaffMembership

    for signal in (post_save, post_delete):
        signal.connect(_forget_user, sender=User, dispatch_uid="access_user")
        signal.connect(_forget_member, sender=StaffMembership, dispatch_uid="access_member")
        signal.connect(_forget_sites, sender=Site, dispatch_uid="access_sites")
    # Before a group goes, while its members are still known.
    post_save.connect(_forget_group_members, sender=Group, dispatch_uid="access_group")
    pre_delete.connect(_forget_group_members, sender=Group, dispatch_uid="access_group")
    m2m_changed.connect(_groups_changed, sender=User.groups.through, dispatch_uid="access_groups")
