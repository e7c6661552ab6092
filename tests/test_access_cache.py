"""The staff member's roles and sites are cached between requests (see citedesmetiers.access):
every change that matters must be seen by the very next request, whichever way it is made."""

from __future__ import annotations

import base64
import datetime as dt
import threading

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache, caches
from django.db import connection
from django.urls import reverse

from citedesmetiers import directory
from citedesmetiers.cache import RedisCache, count_hit, count_hits
from citedesmetiers.models import OpeningPeriod, Site, StaffMembership, User
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from tests.conftest import PASSWORD
from tests.threads import in_background

TABLET = reverse("reception:tablet")


@pytest.fixture
def reception_client(centre, login):
    client = login(centre.reception)
    assert client.get(TABLET).status_code == 200  # the grant is now cached
    return client


def role(role: Role) -> Group:
    return Group.objects.get(name=role.value)


def membership_of(user: User) -> StaffMembership:
    return StaffMembership.objects.get(user=user)


def test_a_role_taken_away_is_refused_at_the_next_request(centre, reception_client):
    membership_of(centre.reception).roles.remove(role(Role.RECEPTION))
    assert reception_client.get(TABLET).status_code == 403


def test_a_role_taken_away_through_the_group_is_refused_too(centre, reception_client):
    role(Role.RECEPTION).memberships.remove(membership_of(centre.reception))
    assert reception_client.get(TABLET).status_code == 403


def test_a_group_emptied_is_refused_too(centre, reception_client):
    role(Role.RECEPTION).memberships.clear()
    assert reception_client.get(TABLET).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_grant_read_just_before_a_change_is_not_used_after_it(centre, login, monkeypatch):
    """A slow request reads the grant from the database, the role is taken away and committed,
    and only then does the slow request write what it read to the cache: the next request must
    not be let in on that."""
    client = login(centre.reception)
    cache.clear()  # the slow request reads the database
    read, committed = threading.Event(), threading.Event()
    cache_of_this_thread = caches["default"]  # the one `directory` uses in this thread
    write = cache_of_this_thread.set_many

    def write_late(data, timeout):
        read.set()  # the database is read…
        assert committed.wait(timeout=10)  # …and the cache written after the change committed
        return write(data, timeout)

    def take_the_role_away() -> None:
        try:
            assert read.wait(timeout=10)
            membership_of(centre.reception).roles.remove(role(Role.RECEPTION))
        finally:
            committed.set()

    monkeypatch.setattr(cache_of_this_thread, "set_many", write_late)
    change = in_background(take_the_role_away, timeout=10)
    slow = client.get(TABLET)
    change.join()
    monkeypatch.undo()

    assert slow.status_code == 200  # it was let in: it read the grant before the change
    assert not membership_of(centre.reception).roles.filter(name=Role.RECEPTION.value).exists()
    assert client.get(TABLET).status_code == 403


def test_a_lost_generation_never_brings_an_old_grant_back(centre, login):
    client = login(centre.reception)
    cache.clear()  # nothing cached yet, no generation drawn
    assert client.get(TABLET).status_code == 200
    grant_key = directory._grant_key(centre.reception.pk)
    old_grant = cache.get(grant_key)
    membership_of(centre.reception).roles.remove(role(Role.RECEPTION))
    # A cache that evicts keys one by one may keep an old entry and lose its generation.
    cache.set(grant_key, old_grant, 60)
    cache.delete(directory._generation_key(centre.reception.pk))

    assert client.get(TABLET).status_code == 403


def test_a_role_given_is_let_in_at_the_next_request(centre, login):
    client = login(centre.counsellor_a)
    assert client.get(TABLET).status_code == 403
    membership_of(centre.counsellor_a).roles.add(role(Role.RECEPTION))
    assert client.get(TABLET).status_code == 200


def test_a_membership_ended_is_refused_at_the_next_request(centre, reception_client):
    StaffMembership.objects.filter(user=centre.reception).delete()
    assert reception_client.get(TABLET).status_code == 403


def test_a_membership_given_to_somebody_else_is_refused_to_the_first(centre, reception_client):
    membership = StaffMembership.objects.get(user=centre.reception)
    membership.user = User.objects.create_user(email="newcomer@alpha.test")
    membership.save()
    assert reception_client.get(TABLET).status_code == 403


def test_a_new_membership_shows_the_new_site(centre, reception_client):
    grant_role(user=centre.reception, role=Role.RECEPTION, site=centre.beta)
    assert "Site Beta" in reception_client.get(TABLET).content.decode()


def test_a_site_closed_down_is_no_longer_offered(centre, reception_client):
    grant_role(user=centre.reception, role=Role.RECEPTION, site=centre.beta)
    assert "Site Beta" in reception_client.get(TABLET).content.decode()
    site = Site.objects.get(pk=centre.beta.pk)
    site.active = False
    site.save()
    assert "Site Beta" not in reception_client.get(TABLET).content.decode()


def test_a_site_renamed_shows_its_new_name(centre, reception_client):
    site = Site.objects.get(pk=centre.alpha.pk)
    site.name = "Site Alpha-Nord"
    site.save()
    assert "Site Alpha-Nord" in reception_client.get(TABLET).content.decode()


def test_the_redis_cache_keeps_one_client_per_server():
    # No connection is made: a client only borrows one from its pool when a command is sent.
    cache = RedisCache("redis://127.0.0.1:6379/0", {})
    assert cache._cache.get_client() is cache._cache.get_client(write=True)
    other = RedisCache("redis://127.0.0.1:6379/0", {})
    assert other._cache.get_client() is not cache._cache.get_client()


def test_count_hit_counts_and_expires(db):
    assert [count_hit("bench:hits", 60) for _ in range(3)] == [1, 2, 3]
    assert cache.get("bench:hits") == 3
    if isinstance(cache, RedisCache):  # the first hit set the period; later hits kept it
        client = cache._cache.get_client()
        assert 0 < client.ttl(cache.make_and_validate_key("bench:hits")) <= 60


# --- what the cache holds of an account ----------------------------------------------------------


def _raw_cache_values() -> list[bytes]:
    """Every value the default cache holds, as the bytes stored."""
    default = caches["default"]
    if isinstance(default, RedisCache):
        client = default._cache.get_client()
        return [client.get(key) or b"" for key in client.scan_iter(match="*")]
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM cdm_cache")
        return [base64.b64decode(value) for (value,) in cursor.fetchall()]


def test_the_cache_never_holds_a_password_hash(centre, reception_client):
    stored = User.objects.get(pk=centre.reception.pk).password
    assert directory.account(centre.reception.pk) is not None  # cached now
    values = _raw_cache_values()
    assert values
    assert not any(stored.encode() in value for value in values)
    assert not any(b"citedesmetiers.models" in value and b"\nUser" in value for value in values)


def test_an_account_from_the_cache_saved_keeps_its_password(centre, reception_client):
    user = directory.account(centre.reception.pk)
    assert "password" in user.get_deferred_fields()
    user.first_name = "Alice"
    user.save()
    fresh = User.objects.get(pk=centre.reception.pk)
    assert fresh.first_name == "Alice"
    assert fresh.check_password(PASSWORD)


def test_changing_ones_password_keeps_one_logged_in(centre, client):
    client.post(reverse("account_login"), {"login": "alice@alpha.test", "password": PASSWORD})
    assert client.get(TABLET).status_code == 200  # the account now comes from the cache
    response = client.post(
        reverse("account_change_password"),
        {
            "oldpassword": PASSWORD,
            "password1": "a quite new passphrase 42",
            "password2": "a quite new passphrase 42",
        },
    )
    assert response.status_code == 302
    assert client.get(TABLET).status_code == 200
    assert User.objects.get(pk=centre.reception.pk).check_password("a quite new passphrase 42")


def test_a_password_changed_elsewhere_ends_the_other_sessions(centre, reception_client):
    user = User.objects.get(pk=centre.reception.pk)
    user.set_password("changed at the admin 42")
    user.save()
    assert reception_client.get(TABLET).status_code == 302  # to the login page


def test_count_hits_counts_several_keys_at_once_and_expires_them(db):
    assert count_hits(["bench:a", "bench:b"], 60) == [1, 1]
    assert count_hits(["bench:a", "bench:b", "bench:c"], 60) == [2, 2, 1]
    assert cache.get_many(["bench:a", "bench:b", "bench:c"]) == {
        "bench:a": 2,
        "bench:b": 2,
        "bench:c": 1,
    }
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client()
        for key in ("bench:a", "bench:b", "bench:c"):
            assert 0 < client.ttl(cache.make_and_validate_key(key)) <= 60


def test_opening_hours_changed_are_seen_at_the_next_request(centre, reception_client):
    """The sites are cached with their opening hours (every check-in asks whether its site is
    open): closing the site all week, then opening it all day today, shows at once."""
    closed = f'action="{reverse("reception:late_check_ins")}"'  # "check late arrivals in today"
    alpha = centre.alpha
    alpha.opening_periods.all().delete()
    assert closed in reception_client.get(TABLET).content.decode()
    OpeningPeriod.objects.create(
        site=alpha, weekday=alpha.local_now().weekday(), opens=dt.time(0), closes=dt.time.max
    )
    assert closed not in reception_client.get(TABLET).content.decode()
