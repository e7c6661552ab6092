"""What nearly every staff request reads and almost nothing changes, cached: each staff member's
account and grant (roles, sites) and the active sites with their themes.

One cache round trip gives a request all of it (`account`). Every change that matters drops the
cached copy at once and again when its transaction commits (`forget`, wired to the models'
signals in `connect_signals`), so the next request reads the database; the timeout only bounds a
reader that cached old data while a change was being committed.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction

from .models import Site, Theme, User
from .roles import Role

TIMEOUT = 60
SITES_KEY = "directory:sites"


def _account_key(user_id) -> str:
    return f"directory:account:{user_id}"


def _grant_key(user_id) -> str:
    return f"directory:grant:{user_id}"


@dataclass(frozen=True)
class Grant:
    roles: frozenset[str]
    everywhere: bool  # superuser or network staff
    site_ids: frozenset[int]


def _load(user_id, user: User | None = None) -> tuple[User | None, Grant | None, tuple[Site, ...]]:
    """The account (unless given), grant and sites; whatever the cache lacks from the database."""
    keys = [_grant_key(user_id), SITES_KEY] + ([] if user else [_account_key(user_id)])
    found = cache.get_many(keys)
    missing = {}
    if user is None:
        user = found.get(_account_key(user_id))
        if user is None:
            user = User.objects.filter(pk=user_id).first()
            if user is None:
                return None, None, ()
            missing[_account_key(user_id)] = user
    grant = found.get(_grant_key(user_id))
    if grant is None:
        grant = missing[_grant_key(user_id)] = Grant(
            roles=frozenset(user.groups.values_list("name", flat=True)),
            everywhere=user.is_superuser or user.works_at_all_sites,
            site_ids=frozenset(user.memberships.values_list("site_id", flat=True)),
        )
    sites = found.get(SITES_KEY)
    if sites is None:
        sites = missing[SITES_KEY] = _active_sites()
    if missing:
        cache.set_many(missing, TIMEOUT)
    user._directory = grant, sites
    user._roles_cache = {role for role in Role if role.value in grant.roles}  # User.roles()
    return user, grant, sites


def _active_sites() -> tuple[Site, ...]:
    sites = tuple(Site.objects.filter(active=True))
    themes: dict[int, list[Theme]] = {site.pk: [] for site in sites}
    for theme in Theme.objects.filter(site__in=sites).order_by("order", "pk"):
        themes[theme.site_id].append(theme)
    for site in sites:
        site._cached_themes = themes[site.pk]
    return sites


def account(user_id) -> User | None:
    """The staff account with this id (for the authentication backend), grant loaded too."""
    return _load(user_id)[0]


def grant_and_sites(user: User) -> tuple[Grant, tuple[Site, ...]]:
    """The member's grant and the active sites: loaded once a request."""
    loaded = getattr(user, "_directory", None)
    if loaded is None:
        _user, *loaded = _load(user.pk, user)
    return tuple(loaded)


def themes(site: Site) -> list[Theme]:
    """The site's themes (active or not) in their order; from the cache when the site came
    from it."""
    cached = getattr(site, "_cached_themes", None)
    if cached is not None:
        return cached
    return list(site.themes.order_by("order", "pk"))


def forget(user_ids=(), *, sites: bool = False) -> None:
    """Drop cached accounts and grants (and the sites) now and again after the transaction
    commits, so no reader keeps what the change replaced."""
    keys = [key for pk in user_ids for key in (_account_key(pk), _grant_key(pk))]
    keys += [SITES_KEY] if sites else []
    if keys:
        cache.delete_many(keys)
        transaction.on_commit(lambda: cache.delete_many(keys))


# --- keeping the cache true ---------------------------------------------------------------------


def _forget_user(sender, instance: User, update_fields=None, **kwargs) -> None:
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return  # a login changes nothing cached that matters
    for attribute in ("_directory", "_roles_cache"):
        instance.__dict__.pop(attribute, None)
    forget([instance.pk])


def _forget_member(sender, instance, **kwargs) -> None:
    forget([instance.user_id])


def _forget_former_member(sender, instance, **kwargs) -> None:
    """A membership given to somebody else (the admin allows it): the person it leaves loses
    the site too."""
    if instance.pk is None:
        return
    former = sender.objects.filter(pk=instance.pk).values_list("user_id", flat=True).first()
    if former is not None and former != instance.user_id:
        forget([former])


def _forget_group_members(sender, instance, **kwargs) -> None:
    forget(instance.user_set.values_list("pk", flat=True))


def _forget_sites(sender, **kwargs) -> None:
    forget(sites=True)


def _groups_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if not reverse:  # user.groups.add(...)
        if action.startswith("post_"):
            _forget_user(sender, instance)
    elif action in ("post_add", "post_remove"):  # group.user_set.add(...)
        forget(pk_set or ())
    elif action == "pre_clear":
        _forget_group_members(sender, instance)


def connect_signals() -> None:
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

    from .models import StaffMembership

    for signal in (post_save, post_delete):
        signal.connect(_forget_user, sender=User, dispatch_uid="directory_user")
        signal.connect(_forget_member, sender=StaffMembership, dispatch_uid="directory_member")
        signal.connect(_forget_sites, sender=Site, dispatch_uid="directory_sites")
        signal.connect(_forget_sites, sender=Theme, dispatch_uid="directory_themes")
    pre_save.connect(
        _forget_former_member, sender=StaffMembership, dispatch_uid="directory_former_member"
    )
    # Before a group goes, while its members are still known.
    post_save.connect(_forget_group_members, sender=Group, dispatch_uid="directory_group")
    pre_delete.connect(_forget_group_members, sender=Group, dispatch_uid="directory_group")
    m2m_changed.connect(
        _groups_changed, sender=User.groups.through, dispatch_uid="directory_groups"
    )
