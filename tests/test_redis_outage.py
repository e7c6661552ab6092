"""A Redis of our own (a real `redis-server`), stopped in the middle of a morning: check-ins and
desk actions go on, screens re-render at their poll pace, /healthz says "degraded", public
registrations are refused (their rate limit cannot count), and once Redis is back nothing written
during the outage comes back stale: a logout stays a logout, a role taken away stays taken away."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.cache import caches
from django.db import connection
from django.test import Client

from citedesmetiers.cache import RedisCache
from citedesmetiers.models import StaffMembership
from citedesmetiers.roles import Role
from citedesmetiers.sessions import CACHED_SECONDS
from counselling.models import DeskSession, Interview
from events.models import Registration
from reception import services as reception_services
from reception.models import Visit
from tests.counselling_fixtures import make_desk
from tests.events_fixtures import make_event
from tests.processes import free_port, wait_until_listening
from tests.threads import in_background

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def redis_server():
    """A redis-server process on a free port, for this test only."""
    binary = shutil.which("redis-server")
    if binary is None:
        if os.environ.get("REQUIRE_BROWSER"):  # set in CI, which installs redis-server
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed (CI installs it)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    wait_until_listening(process, port, "redis-server")
    yield process, f"redis://127.0.0.1:{port}/0"
    process.send_signal(signal.SIGCONT)
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def on_our_redis(redis_server, settings):
    process, url = redis_server
    original = settings.CACHES
    options = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    settings.CACHES = {
        alias: {
            "BACKEND": "citedesmetiers.cache.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": f"outage-{alias}",
            "OPTIONS": options,
        }
        for alias in ("default", "live")
    }
    settings.SESSION_IN_CACHE = True  # our session store, on this Redis
    settings.LANGUAGE_CODE = "en"
    yield process
    settings.CACHES = original  # before our server goes: the suite's cache is cleared after


def stop(process) -> None:
    """Redis stops answering: connections hang, as a stopped or overloaded server's do."""
    process.send_signal(signal.SIGSTOP)


def resume(process) -> None:
    process.send_signal(signal.SIGCONT)
    for alias in ("default", "live"):
        caches[alias].outage.away_until = 0.0  # try Redis again at once, not a second later


def close() -> None:
    connection.close()


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user, backend="citedesmetiers.auth_backends.ModelBackend")
    return client


def check_in(client: Client, theme) -> int:
    response = client.post(
        "/reception/check-in/",
        # A visitor who reads English: their printouts speak it.
        {"theme": theme.pk, "checkin_key": str(uuid.uuid4()), "language": "en"},
    )
    assert response.status_code == 302, response.content[:500]
    assert "/reception/visits/" in response.url
    return int(response.url.rstrip("/").split("/")[-1])


def test_reception_and_the_desks_go_on_while_redis_is_away(centre, on_our_redis):
    theme = centre.alpha.themes.get(letter="E")
    desk = make_desk(centre.alpha, "Desk 1", "E", order=1)
    reception, bob = logged_in(centre.reception), logged_in(centre.counsellor_a)
    assert bob.post(f"/desk/open/{desk.pk}/").status_code == 302
    first = check_in(reception, theme)
    display = Client().get("/display/alpha/")
    mark = display.context["mark"]
    assert Client().get(f"/display/alpha/live/?v={mark}").status_code == 204

    stop(on_our_redis)

    # Reception checks people in; the tablet and the desk screens open.
    second = check_in(reception, theme)
    assert reception.get("/reception/").status_code == 200
    assert bob.get("/desk/").status_code == 200
    # The desk calls, starts and finishes.
    assert bob.post("/desk/call-next/").status_code == 302
    assert Visit.objects.get(pk=first).status == Visit.Status.CALLED
    assert bob.post("/desk/start/", {"visit": first}).status_code == 302
    finish = {"visit": first, "channel": "in_person", "outcomes": ["information"]}
    assert bob.post("/desk/finish/", {**finish, "then": "call_next"}).status_code == 302
    assert Interview.objects.get(visit_id=first).ended_at is not None
    assert Visit.objects.get(pk=second).status == Visit.Status.CALLED
    # Screens re-render at every poll instead of answering "unchanged".
    poll = Client().get(f"/display/alpha/live/?v={mark}")
    assert poll.status_code == 200
    assert Visit.objects.get(pk=second).code in poll.content.decode()
    # The probe says so, without failing the web container.
    health = Client().get("/healthz")
    assert health.status_code == 200
    assert health.json()["status"] == "degraded"
    assert health.json()["cache"] == "down"
    # A printout whose renders cannot be counted waits, with a reason.
    proof = Client().get(f"/t/{Visit.objects.get(pk=first).token}/proof.pdf")
    assert proof.status_code == 429
    assert "Printing is paused for a moment." in proof.content.decode()
    # A public write whose limit cannot count is refused, with a reason.
    event = make_event(centre.alpha, capacity=10)
    refused = Client().post(
        f"/events/{event.pk}/register/",
        {"pseudonym": "Sam", "email": "", "website": ""},
        follow=True,
    )
    assert "Online registration is paused for a moment." in refused.content.decode()
    assert not Registration.objects.exists()

    resume(on_our_redis)

    assert check_in(reception, theme)
    assert Client().get("/healthz").json()["status"] in ("ok", "degraded")  # the broker aside
    assert Client().get("/healthz").json()["cache"] == "ok"
    assert DeskSession.objects.get(desk=desk).closed_at is None


def test_what_changed_during_the_outage_does_not_come_back_stale(centre, on_our_redis):
    reception, bob = logged_in(centre.reception), logged_in(centre.counsellor_a)
    assert reception.get("/reception/").status_code == 200  # session and grant now cached
    assert bob.get("/desk/").status_code == 200
    display = Client().get("/display/alpha/")
    mark = display.context["mark"]

    stop(on_our_redis)
    # The logout happens in another thread (another cache object, as in another request).
    in_background(lambda: reception.post("/accounts/logout/"), timeout=30).join()
    StaffMembership.objects.get(user=centre.counsellor_a).roles.remove(
        Group.objects.get(name=Role.COUNSELLOR.value)
    )
    reception_services.check_in(site=centre.alpha, theme_id=centre.alpha.themes.get(letter="E").pk)
    resume(on_our_redis)

    # Redis kept what it held before the outage; none of it is believed.
    assert reception.get("/reception/").status_code == 302  # still logged out
    assert bob.get("/desk/").status_code == 403  # the role is gone
    assert Client().get(f"/display/alpha/live/?v={mark}").status_code == 200  # and re-renders


def test_a_sessions_cached_copy_lives_a_few_minutes_at_most(centre, on_our_redis):
    client = logged_in(centre.reception)
    assert client.get("/reception/").status_code == 200
    cache = caches["default"]
    redis = cache._cache.get_client()
    keys = [key for key in redis.scan_iter(match="outage-default:*") if b"sessions" in key]
    assert keys
    assert all(0 < redis.ttl(key) <= CACHED_SECONDS for key in keys)


def test_clearing_one_cache_leaves_the_others_sharing_its_redis(redis_server):
    """The default and the live caches (and each test worker's prefix) share one Redis
    database: clearing one must not empty the others, as Django's FLUSHDB would."""
    _process, url = redis_server
    live = RedisCache(url, {"KEY_PREFIX": "cdm-live"})
    default = RedisCache(url, {"KEY_PREFIX": "cdm"})
    live.set("site:alpha", "mark")
    default.set("session", "kept")
    default.set("site:alpha", "kept too")  # the same name under another prefix

    live.clear()

    assert live.get("site:alpha") is None
    assert default.get_many(["session", "site:alpha"]) == {
        "session": "kept",
        "site:alpha": "kept too",
    }
