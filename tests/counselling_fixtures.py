"""Small builders shared by the counselling tests: desks, waiting visits, open desk sessions;
the `in_english` fixture; and the desk addresses of the access matrix (AtDesk, DeskOf).

Mostly plain functions rather than fixtures, so each test file says what it sets up."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from citedesmetiers.models import Site, User
from counselling import services
from counselling.models import Desk, DeskSession, Topic
from reception import services as reception
from reception.models import Visit

# A Monday morning at the site (the test sites are open all day, every day).
T0 = dt.datetime(2025, 3, 10, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))


def minutes(n: float) -> dt.timedelta:
    return dt.timedelta(minutes=n)


def make_desk(site: Site, name: str, *letters: str, order: int = 0, active: bool = True) -> Desk:
    """A desk of `site` serving the themes with these ticket letters."""
    desk = Desk.objects.create(site=site, name=name, order=order, active=active)
    desk.themes.set(site.themes.filter(letter__in=letters))
    assert desk.themes.count() == len(letters)
    return desk


def theme(site: Site, letter: str):
    return site.themes.get(letter=letter)


def queue_visit(site: Site, letter: str, at: dt.datetime | None = None) -> Visit:
    """A walk-in checked in at reception at `at` (now if None), waiting for the theme `letter`."""
    visit, created = reception.check_in(site=site, theme_id=theme(site, letter).pk, now=at)
    assert created
    return visit


def open_session(counsellor: User, desk: Desk, at: dt.datetime | None = None) -> DeskSession:
    return services.open_desk(counsellor=counsellor, desk=desk, now=at)


def make_topic(site: Site, letter: str, name: str) -> Topic:
    return Topic.objects.create(theme=theme(site, letter), name=name)


def refresh(*objects):
    for obj in objects:
        obj.refresh_from_db()
    return objects[0] if len(objects) == 1 else objects


@pytest.fixture
def in_english(settings):
    """The project speaks French by default; these tests read the English messages. Use with
    `pytestmark = pytest.mark.usefixtures("in_english")`."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


class AtDesk:
    """An address of the access matrix (tests/test_access.py) that needs a desk to act on: Bob
    (counsellor_a) has Desk 1 of Alpha open, with a visitor `holding` ("called",
    "in_interview") or one visitor waiting. Called once per row with the Centre; its repr names
    the situation, so test ids stay stable."""

    def __init__(self, path: str, holding: str = "waiting"):
        self.path, self.holding = path, holding

    def __repr__(self) -> str:
        return f"{self.path} (Bob at Desk 1, a visitor {self.holding})"

    def __call__(self, centre) -> str:
        if DeskSession.objects.filter(counsellor=centre.counsellor_a, closed_at=None).exists():
            return self.path  # already set up (a test that builds every row at once)
        session = open_session(centre.counsellor_a, make_desk(centre.alpha, "Desk 1", "E"))
        queue_visit(centre.alpha, "E")
        who = {"session_id": session.pk, "counsellor": session.counsellor}
        if self.holding in ("called", "in_interview"):
            services.call_next(**who)
        if self.holding == "in_interview":
            services.start_interview(**who)
        return self.path


class DeskOf:
    """The address that opens a (new) desk of the site `site` ("alpha" or "beta")."""

    def __init__(self, site: str):
        self.site = site

    def __repr__(self) -> str:
        return f"/desk/open/<desk of {self.site}>/"

    def __call__(self, centre) -> str:
        site = getattr(centre, self.site)
        desk = Desk.objects.filter(site=site, name="Desk 7").first() or make_desk(
            site, "Desk 7", "E"
        )
        return f"/desk/open/{desk.pk}/"
