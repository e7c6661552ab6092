"""What nearly every staff request reads and almost nothing changes, cached: each staff member's
account and grant (their roles at each place) and the active sites with their themes and opening
hours.

The account is cached as a small record (see `ACCOUNT_FIELDS`), never as the model: the cache
does not hold password hashes.

One cache round trip gives a request all of it (`account`). Every cached entry carries the
generation of its user (or of the sites) read *before* the database, and an entry of another
generation is not used. A generation is a random token: every change that matters drops the
entries and draws new tokens, at once and again when its transaction commits (`forget`, wired to
the models' signals in `connect_signals`). So the next request reads the database, and a request
that read the database while the change was being committed, and caches what it read after the
commit, caches it under a generation that is already over. A token that is missing (never drawn,
expired, evicted) is drawn anew, so it matches nothing cached before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import transaction

from .models import OpeningPeriod, Site, StaffMembership, Theme, User
from .roles import Role

TIMEOUT = 60
# v3: accounts are small records (no password hash), grants hold roles per place.
PREFIX = "directory:v3"
SITES_KEY = f"{PREFIX}:sites"
SITES_GENERATION_KEY = f"{PREFIX}:generation:sites"
GENERATION_TIMEOUT = 24 * 3600  # far beyond the entries made under it
# What a request needs of the account. Never the password hash: the cache holds the session
# hash (an HMAC of it under SECRET_KEY, which sessions carry anyway) instead.
ACCOUNT_FIELDS = (
    "id",
    "email",
    "first_name",
    "last_name",
    "is_active",
    "is_staff",
    "is_superuser",
    "last_login",
    "date_joined",
)
ALL_ROLES = frozenset(Role.values)
NO_ROLES: frozenset[str] = frozenset()


def _account_key(user_id) -> str:
    return f"{PREFIX}:account:{user_id}"


def _grant_key(user_id) -> str:
    return f"{PREFIX}:grant:{user_id}"


def _generation_key(user_id) -> str:
    return f"{PREFIX}:generation:{user_id}"


def _new_generation() -> str:
    return uuid.uuid4().hex


def _generation(found: dict, key: str) -> str:
    """The generation under `key` as read with the entries, or a new one if there is none (the
    first to add it wins; if the cache keeps nothing, one that matches no entry)."""
    generation = found.get(key)
    if generation is None:
        cache.add(key, _new_generation(), GENERATION_TIMEOUT)
        generation = cache.get(key) or _new_generation()
    return generation


@dataclass(frozen=True)
class Grant:
    """The roles a staff member holds, by place: across the network, at each Cité (every site of
    it) and at each site. A superuser holds every role everywhere."""

    everywhere: bool
    network: frozenset[str] = NO_ROLES
    cites: dict[int, frozenset[str]] = field(default_factory=dict)
    sites: dict[int, frozenset[str]] = field(default_factory=dict)

    def roles_at(self, site: Site) -> frozenset[str]:
        if self.everywhere:
            return ALL_ROLES
        return (
            self.network
            | self.cites.get(site.cite_id, NO_ROLES)
            | self.sites.get(site.pk, NO_ROLES)
        )

    @property
    def roles(self) -> frozenset[str]:
        """Every role held somewhere."""
        if self.everywhere:
            return ALL_ROLES
        return self.network.union(*self.cites.values(), *self.sites.values())

    def roles_at_network(self) -> frozenset[str]:
        return ALL_ROLES if self.everywhere else self.network

    def roles_at_cite(self, cite_id: int) -> frozenset[str]:
        return self.roles_at_network() | self.cites.get(cite_id, NO_ROLES)


def _read_grant(user_id, is_superuser: bool) -> Grant:
    network: set[str] = set()
    cites: dict[int, set[str]] = {}
    sites: dict[int, set[str]] = {}
    rows = StaffMembership.objects.filter(user_id=user_id).values_list(
        "site_id", "cite_id", "roles__name"
    )
    for site_id, cite_id, role in rows:
        if role is None:
            continue  # a membership without roles grants nothing
        if site_id is not None:
            sites.setdefault(site_id, set()).add(role)
        elif cite_id is not None:
            cites.setdefault(cite_id, set()).add(role)
        else:
            network.add(role)
    return Grant(
        everywhere=is_superuser,
        network=frozenset(network),
        cites={pk: frozenset(roles) for pk, roles in cites.items()},
        sites={pk: frozenset(roles) for pk, roles in sites.items()},
    )


def _record(user: User) -> dict:
    return {
        "fields": {name: getattr(user, name) for name in ACCOUNT_FIELDS},
        "session_hash": user.get_session_auth_hash(),
    }


def _account(record: dict) -> User:
    """The account rebuilt from its record: the password is a deferred field (read from the
    database if anything asks for it; never written back by a save)."""
    fields = record["fields"]
    # `from_db` takes the values in the order of the model's fields.
    names = [f.attname for f in User._meta.concrete_fields if f.attname in fields]
    user = User.from_db("default", names, [fields[name] for name in names])
    user._session_auth_hash = record["session_hash"]
    return user


def _load(user_id, user: User | None = None) -> tuple[User | None, Grant | None, tuple[Site, ...]]:
    """The account (unless given), grant and sites; whatever the cache lacks from the database."""
    keys = [_grant_key(user_id), SITES_KEY, _generation_key(user_id), SITES_GENERATION_KEY]
    keys += [] if user else [_account_key(user_id)]
    found = cache.get_many(keys)
    # Read before the database: what is read next is cached under these generations.
    generation = _generation(found, _generation_key(user_id))
    sites_generation = _generation(found, SITES_GENERATION_KEY)

    def current(key: str, of_generation: str):
        entry = found.get(key)
        return entry[1] if entry is not None and entry[0] == of_generation else None

    missing = {}
    given = user is not None
    if user is None:
        record = current(_account_key(user_id), generation)
        if record is not None:
            user = _account(record)
        else:
            user = User.objects.filter(pk=user_id).first()
            if user is None:
                return None, None, ()
            missing[_account_key(user_id)] = (generation, _record(user))
    grant = current(_grant_key(user_id), generation)
    if grant is None:
        # A given account may have been read before the generation: its flag is read again.
        is_superuser = (
            User.objects.filter(pk=user_id).values_list("is_superuser", flat=True).first()
            if given
            else user.is_superuser
        )
        grant = _read_grant(user_id, bool(is_superuser))
        missing[_grant_key(user_id)] = (generation, grant)
    sites = current(SITES_KEY, sites_generation)
    if sites is None:
        sites = _active_sites()
        missing[SITES_KEY] = (sites_generation, sites)
    if missing:
        cache.set_many(missing, TIMEOUT)
    user._directory = grant, sites
    user._roles_cache = {role for role in Role if role.value in grant.roles}  # User.roles()
    return user, grant, sites


def _active_sites() -> tuple[Site, ...]:
    # With their opening hours: every check-in asks whether its site is open (Site.is_open).
    sites = tuple(Site.objects.filter(active=True).prefetch_related("opening_periods"))
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
    """Drop these users' cached account and grant (and the sites) and draw them new generations,
    now and again after the transaction commits, so no reader uses what the change replaced."""
    users = set(user_ids)
    entries = [key for pk in users for key in (_account_key(pk), _grant_key(pk))]
    generations = [_generation_key(pk) for pk in users]
    if sites:
        entries.append(SITES_KEY)
        generations.append(SITES_GENERATION_KEY)
    if entries:
        _renew(entries, generations)
        transaction.on_commit(lambda: _renew(entries, generations))


def _renew(entries: list[str], generations: list[str]) -> None:
    cache.delete_many(entries)
    cache.set_many({key: _new_generation() for key in generations}, GENERATION_TIMEOUT)


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
    the place too."""
    if instance.pk is None:
        return
    former = sender.objects.filter(pk=instance.pk).values_list("user_id", flat=True).first()
    if former is not None and former != instance.user_id:
        forget([former])


def _forget_role_holders(sender, instance, **kwargs) -> None:
    """A role's group renamed or deleted: everyone holding it anywhere."""
    forget(StaffMembership.objects.filter(roles=instance).values_list("user_id", flat=True))


def _forget_sites(sender, **kwargs) -> None:
    forget(sites=True)


def _roles_changed(sender, instance, action: str, reverse: bool, pk_set, **kwargs) -> None:
    if not action.startswith(("post_", "pre_clear")):
        return
    if not reverse:  # membership.roles.add(...)
        forget([instance.user_id])
    elif action == "pre_clear":  # group.memberships.clear()
        _forget_role_holders(sender, instance)
    else:  # group.memberships.add(...)
        forget(
            StaffMembership.objects.filter(pk__in=pk_set or ()).values_list("user_id", flat=True)
        )


def connect_signals() -> None:
    from django.contrib.auth.models import Group
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

    for signal in (post_save, post_delete):
        signal.connect(_forget_user, sender=User, dispatch_uid="directory_user")
        signal.connect(_forget_member, sender=StaffMembership, dispatch_uid="directory_member")
        signal.connect(_forget_sites, sender=Site, dispatch_uid="directory_sites")
        signal.connect(_forget_sites, sender=Theme, dispatch_uid="directory_themes")
        signal.connect(_forget_sites, sender=OpeningPeriod, dispatch_uid="directory_hours")
    pre_save.connect(
        _forget_former_member, sender=StaffMembership, dispatch_uid="directory_former_member"
    )
    # Before a group goes, while its holders are still known.
    post_save.connect(_forget_role_holders, sender=Group, dispatch_uid="directory_group")
    pre_delete.connect(_forget_role_holders, sender=Group, dispatch_uid="directory_group")
    m2m_changed.connect(
        _roles_changed, sender=StaffMembership.roles.through, dispatch_uid="directory_roles"
    )
