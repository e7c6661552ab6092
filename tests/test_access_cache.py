"""The staff member's roles and sites are cached between requests (see citedesmetiers.access):
every change that matters must be seen by the very next request, whichever way it is made."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from citedesmetiers.cache import RedisCache
from citedesmetiers.models import Site, StaffMembership, User
from citedesmetiers.roles import Role

TABLET = reverse("reception:tablet")


@pytest.fixture
def reception_client(centre, login):
    client = login(centre.reception)
    assert client.get(TABLET).status_code == 200  # the grant is now cached
    return client


def test_a_role_taken_away_is_refused_at_the_next_request(centre, reception_client):
    centre.reception.groups.remove(Group.objects.get(name=Role.RECEPTION.value))
    assert reception_client.get(TABLET).status_code == 403


def test_a_role_taken_away_through_the_group_is_refused_too(centre, reception_client):
    Group.objects.get(name=Role.RECEPTION.value).user_set.remove(centre.reception)
    assert reception_client.get(TABLET).status_code == 403


def test_a_group_emptied_is_refused_too(centre, reception_client):
    Group.objects.get(name=Role.RECEPTION.value).user_set.clear()
    assert reception_client.get(TABLET).status_code == 403


def test_a_role_given_is_let_in_at_the_next_request(centre, login):
    client = login(centre.counsellor_a)
    assert client.get(TABLET).status_code == 403
    centre.counsellor_a.groups.add(Group.objects.get(name=Role.RECEPTION.value))
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
    StaffMembership.objects.create(user=centre.reception, site=centre.beta)
    assert "Site Beta" in reception_client.get(TABLET).content.decode()


def test_a_site_closed_down_is_no_longer_offered(centre, reception_client):
    StaffMembership.objects.create(user=centre.reception, site=centre.beta)
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
    from django.core.cache import cache

    from citedesmetiers.cache import count_hit

    assert [count_hit("bench:hits", 60) for _ in range(3)] == [1, 2, 3]
    assert cache.get("bench:hits") == 3
    if isinstance(cache, RedisCache):  # the first hit set the period; later hits kept it
        client = cache._cache.get_client()
        assert 0 < client.ttl(cache.make_and_validate_key("bench:hits")) <= 60
