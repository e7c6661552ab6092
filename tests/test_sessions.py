"""Staff sessions end after STAFF_SESSION_MINUTES without activity — not that long after the last
change to their data — and a working day after the login whatever the activity."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from citedesmetiers.sessions import REFRESH_SECONDS, REFRESHED, STARTED

TABLET = reverse("reception:tablet")


@pytest.fixture
def agent(centre, login):
    client = login(centre.reception)
    assert client.get(TABLET).status_code == 200
    return client


def edit_session(client, **changes) -> None:
    session = client.session
    session.update(changes)
    session.save()
    cache.clear()  # the cached copy of the session too (with Redis)


def expiry(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def test_activity_moves_the_end_of_the_session(agent):
    edit_session(agent, **{REFRESHED: int(time.time()) - REFRESH_SECONDS - 1})
    Session.objects.filter(session_key=agent.session.session_key).update(
        expire_date=timezone.now() + timezone.timedelta(minutes=1)
    )
    cache.clear()
    assert agent.get(TABLET).status_code == 200
    assert expiry(agent) > timezone.now() + timezone.timedelta(minutes=200)


def test_a_busy_session_is_not_saved_at_every_request(agent):
    before = expiry(agent)
    for _ in range(3):
        assert agent.get(TABLET).status_code == 200
    assert expiry(agent) == before


def test_a_session_left_alone_for_its_time_ends(agent):
    Session.objects.filter(session_key=agent.session.session_key).update(
        expire_date=timezone.now() - timezone.timedelta(seconds=1)
    )
    cache.clear()
    response = agent.get(TABLET)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_a_working_day_after_the_login_the_session_ends_whatever_the_activity(agent, settings):
    edit_session(agent, **{STARTED: int(time.time()) - settings.MAX_SESSION_HOURS * 3600 - 60})
    response = agent.get(TABLET)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert agent.get(TABLET).status_code == 302  # and it stays ended


def test_a_session_from_before_the_cap_starts_its_day_at_its_next_request(agent):
    session = agent.session
    del session[STARTED]
    session.save()
    cache.clear()
    assert agent.get(TABLET).status_code == 200
    started = agent.session[STARTED]
    assert abs(started - time.time()) < 60
