"""The public registration form against scripts (events/guard.py): limits per network and per
event besides the one per address, and the automatic proof-of-work check once an event is nearly
full or a network has registered a few times; a person without JavaScript is told what to do.
The check itself, solved by a real browser under our CSP, is in tests/test_events_browser.py."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import json
import re

import pytest
from django.urls import reverse

from events import guard
from events.models import Registration
from tests.events_fixtures import (
    fixture_in_english,  # noqa: F401 (a fixture)
    make_event,
    register,
)

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture(autouse=True)
def _quick_check(settings):
    settings.EVENT_CHALLENGE_DIFFICULTY = 2000  # solved here in a few milliseconds


def post(client, event, address: str, *, follow: bool = False, **data):
    data.setdefault("pseudonym", "Nadia")
    data.setdefault("email", "")
    data.setdefault("website", "")
    return client.post(
        reverse("events:register", args=[event.pk]), data, REMOTE_ADDR=address, follow=follow
    )


def challenge_on(page: str) -> dict | None:
    found = re.search(r'data-challenge="([^"]+)"', page)
    return json.loads(html.unescape(found.group(1))) if found else None


def solution(challenge: dict) -> str:
    """What the browser's script sends: the number n with SHA-256(salt + n) = challenge."""
    for number in range(challenge["maxNumber"] + 1):
        digest = hashlib.sha256(f"{challenge['salt']}{number}".encode()).hexdigest()
        if digest == challenge["challenge"]:
            payload = {key: challenge[key] for key in ("algorithm", "challenge", "salt")}
            payload.update(number=number, signature=challenge["signature"])
            return base64.b64encode(json.dumps(payload).encode()).decode()
    raise AssertionError("no solution")


def page_of(client, event, address: str) -> str:
    return client.get(
        reverse("events:detail", args=[event.pk]), REMOTE_ADDR=address
    ).content.decode()


# --- limits ---------------------------------------------------------------------------------------


def test_a_network_has_a_budget_of_its_own(centre, client, settings):
    settings.EVENT_REGISTRATIONS_PER_NETWORK_PER_HOUR = 4
    settings.EVENT_CHALLENGE_DIFFICULTY = 0
    events = [make_event(centre.alpha, title=f"Workshop {n}", capacity=50) for n in range(3)]
    for n in range(4):
        post(client, events[n % 3], f"203.0.113.{n + 1}", pseudonym=f"Visitor {n}")

    refused = post(client, events[0], "203.0.113.99", pseudonym="One more")
    elsewhere = post(client, events[0], "198.51.100.7", pseudonym="Neighbour")

    assert refused.status_code == 302 and refused.url == events[0].get_absolute_url()
    assert elsewhere.status_code == 302 and "/events/r/" in elsewhere.url
    assert sorted(Registration.objects.values_list("pseudonym", flat=True)) == [
        "Neighbour",
        "Visitor 0",
        "Visitor 1",
        "Visitor 2",
        "Visitor 3",
    ]


def test_an_ipv6_network_counts_as_one_48(centre, client, settings):
    settings.EVENT_REGISTRATIONS_PER_NETWORK_PER_HOUR = 2
    settings.EVENT_CHALLENGE_DIFFICULTY = 0
    event = make_event(centre.alpha, capacity=50)
    for n, address in enumerate(["2001:db8:1:1::1", "2001:db8:1:2::1", "2001:db8:1:3::1"]):
        post(client, event, address, pseudonym=f"Visitor {n}")

    assert Registration.objects.count() == 2


def test_one_network_takes_only_so_many_places_of_one_event(centre, client, settings):
    settings.EVENT_REGISTRATIONS_PER_HOUR = 3
    settings.EVENT_CHALLENGE_DIFFICULTY = 0
    event = make_event(centre.alpha, capacity=50)
    other = make_event(centre.alpha, title="Another one", capacity=50)
    for n in range(4):  # each from its own address, all of one /24
        post(client, event, f"203.0.113.{n + 1}", pseudonym=f"Visitor {n}")

    response = post(client, event, "203.0.113.50", pseudonym="Fifth", follow=True)
    post(client, other, "203.0.113.51", pseudonym="Elsewhere")

    assert "Too many registrations from this connection." in response.content.decode()
    assert event.registrations.count() == 3
    assert other.registrations.count() == 1


# --- the check ------------------------------------------------------------------------------------


def test_a_roomy_event_asks_a_new_network_for_no_check(centre, client):
    event = make_event(centre.alpha, capacity=20)

    assert challenge_on(page_of(client, event, "203.0.113.1")) is None
    assert post(client, event, "203.0.113.1").status_code == 302
    assert Registration.objects.count() == 1


def test_a_nearly_full_event_asks_for_the_check_and_says_what_to_do_without_it(centre, client):
    event = make_event(centre.alpha, capacity=10)
    for n in range(8):
        register(event, f"Visitor {n}")

    page = page_of(client, event, "203.0.113.1")
    response = post(client, event, "203.0.113.1", pseudonym="Karim")

    assert challenge_on(page) is not None
    assert 'role="status"' in page and "js/challenge.js" in page
    assert "please register at the reception of Site Alpha" in page
    assert response.status_code == 400
    refused = response.content.decode()
    assert "Your registration is not sent yet" in refused
    assert "please register at the reception of Site Alpha" in refused
    assert challenge_on(refused) is not None  # a new one, for the browser to do
    assert not Registration.objects.filter(pseudonym="Karim").exists()


def test_a_solved_check_registers_once(centre, client):
    event = make_event(centre.alpha, capacity=10)
    for n in range(9):
        register(event, f"Visitor {n}")
    answer = solution(challenge_on(page_of(client, event, "203.0.113.1")))

    first = post(client, event, "203.0.113.1", pseudonym="Karim", altcha=answer)
    again = post(client, event, "203.0.113.2", pseudonym="Copycat", altcha=answer)

    assert first.status_code == 302
    assert Registration.objects.get(pseudonym="Karim").status == Registration.Status.CONFIRMED
    assert again.status_code == 400
    assert not Registration.objects.filter(pseudonym="Copycat").exists()


def test_a_network_that_registered_a_few_times_gets_the_check(centre, client, settings):
    settings.EVENT_CHALLENGE_AFTER = 2
    event = make_event(centre.alpha, capacity=50)
    for n in range(2):
        assert post(client, event, f"203.0.113.{n + 1}", pseudonym=f"V{n}").status_code == 302

    page = page_of(client, event, "203.0.113.9")
    without = post(client, event, "203.0.113.9", pseudonym="Third")
    answer = solution(challenge_on(page))
    solved = post(client, event, "203.0.113.9", pseudonym="Third", altcha=answer)

    assert "please try again in an hour" in page
    assert without.status_code == 400
    assert solved.status_code == 302
    assert event.registrations.count() == 3
    # Another network still registers without it.
    assert challenge_on(page_of(client, event, "198.51.100.1")) is None


def test_a_check_made_for_another_event_or_expired_does_not_count(centre, client, monkeypatch):
    event = make_event(centre.alpha, capacity=10)
    other = make_event(centre.alpha, title="Other", capacity=10)
    for target in (event, other):
        for n in range(9):
            register(target, f"Visitor {n}")
    for_other = solution(challenge_on(page_of(client, other, "203.0.113.1")))
    real_now = guard.timezone.now
    monkeypatch.setattr(guard.timezone, "now", lambda: real_now() - dt.timedelta(hours=2))
    stale = solution(guard.new_challenge(event.pk))
    monkeypatch.undo()

    for answer in (for_other, stale):
        assert (
            post(client, event, "203.0.113.1", pseudonym="Karim", altcha=answer).status_code == 400
        )
    assert not Registration.objects.filter(pseudonym="Karim").exists()


@pytest.mark.parametrize(
    "answer",
    [
        "garbage",
        "%%%",
        base64.b64encode(b"[]").decode(),
        base64.b64encode(b"12").decode(),
        base64.b64encode(b'{"algorithm": "MD5"}').decode(),
        base64.b64encode(
            json.dumps(
                {"algorithm": "SHA-256", "challenge": 1, "number": [], "salt": 3, "signature": {}}
            ).encode()
        ).decode(),
        "x" * 1999,
    ],
    ids=["garbage", "not-base64", "a-list", "a-number", "no-fields", "wrong-types", "long"],
)
def test_a_made_up_answer_is_refused_never_a_server_error(centre, client, answer):
    event = make_event(centre.alpha, capacity=10)
    for n in range(9):
        register(event, f"Visitor {n}")

    response = post(client, event, "203.0.113.1", pseudonym="Karim", altcha=answer)

    assert response.status_code == 400
    assert not Registration.objects.filter(pseudonym="Karim").exists()


def test_the_check_can_be_turned_off(centre, client, settings):
    settings.EVENT_CHALLENGE_DIFFICULTY = 0
    event = make_event(centre.alpha, capacity=2)
    register(event, "Nadia")

    assert challenge_on(page_of(client, event, "203.0.113.1")) is None
    assert post(client, event, "203.0.113.1", pseudonym="Karim").status_code == 302
