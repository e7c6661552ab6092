"""Closing the day: visits still waiting (or called) after the site's last closing time are marked
“left at closing”; before that, only earlier days' leftovers are; running it again changes nothing.

Site Gamma opens every day 09:30–12:30 and 13:30–17:30, Paris time; “today” is Wednesday 6 May
2026."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from citedesmetiers.models import OpeningPeriod
from citedesmetiers.roles import Role
from counselling.models import Desk
from counselling.services import open_desk
from figures.tasks import close_finished_days
from reception import services
from reception.models import Visit
from tests.conftest import make_site, make_staff
from tests.day_fixtures import PARIS, TODAY, YESTERDAY, at, fixture_gamma  # noqa: F401 (a fixture)


def visit_at(site, moment: dt.datetime, status: str = Visit.Status.WAITING) -> Visit:
    visit, _created = services.check_in(
        site=site, theme_id=site.themes.get(letter="E").pk, now=moment, override_hours=True
    )
    if status != Visit.Status.WAITING:
        desk = None
        if status in (Visit.Status.CALLED, Visit.Status.IN_INTERVIEW):
            desk = Desk.objects.create(site=site, name=f"Desk {visit.pk}")
        Visit.objects.filter(pk=visit.pk).update(status=status, desk=desk, called_at=moment)
    return Visit.objects.get(pk=visit.pk)


def day_of(site, day: dt.date = TODAY) -> dict[str, Visit]:
    """A waiting, a called, an in-interview and a finished visit, all checked in at 10:00."""
    return {
        status: visit_at(site, at(10, day=day), status)
        for status in (
            Visit.Status.WAITING,
            Visit.Status.CALLED,
            Visit.Status.IN_INTERVIEW,
            Visit.Status.DONE,
        )
    }


def state(visits) -> dict[int, dict]:
    return {row["id"]: row for row in Visit.objects.filter(pk__in=[v.pk for v in visits]).values()}


def assert_closed_at(visit: Visit, moment: dt.datetime) -> None:
    visit.refresh_from_db()
    assert visit.status == Visit.Status.LEFT
    assert visit.left_how == Visit.LeftHow.AT_CLOSING
    assert visit.ended_at == moment
    assert visit.desk is None


def test_it_closes_waiting_and_called_visits_after_the_last_closing_time(gamma):
    today = day_of(gamma)
    evening = at(17, 45)

    assert services.close_day(site=gamma, now=evening) == 2

    assert_closed_at(today[Visit.Status.WAITING], evening)
    assert_closed_at(today[Visit.Status.CALLED], evening)


def test_it_leaves_visits_in_interview_and_finished_ones_alone(gamma):
    visits = {**day_of(gamma, YESTERDAY), **{"today " + k: v for k, v in day_of(gamma).items()}}
    untouched = [
        v
        for key, v in visits.items()
        if key.endswith((Visit.Status.IN_INTERVIEW, Visit.Status.DONE))
    ]
    before = state(untouched)

    services.close_day(site=gamma, now=at(18))

    assert state(untouched) == before


@pytest.mark.parametrize(
    "moment",
    [at(8), at(11), at(13)],
    ids=["before opening", "while open", "during the lunch break"],
)
def test_before_the_last_closing_it_only_closes_earlier_days(gamma, moment):
    leftovers = day_of(gamma, YESTERDAY)
    today = day_of(gamma) if moment > at(10) else {}
    before = state(today.values())

    assert services.close_day(site=gamma, now=moment) == 2

    assert_closed_at(leftovers[Visit.Status.WAITING], moment)
    assert_closed_at(leftovers[Visit.Status.CALLED], moment)
    assert state(today.values()) == before


def test_running_it_twice_changes_nothing_the_second_time(gamma):
    visits = [*day_of(gamma, YESTERDAY).values(), *day_of(gamma).values()]
    assert services.close_day(site=gamma, now=at(17, 45)) == 4
    after_first = state(visits)

    assert services.close_day(site=gamma, now=at(18)) == 0

    assert state(visits) == after_first


def test_it_keeps_a_late_arrival_checked_in_after_closing(gamma):
    # The tablet offers “Check in anyway” for a late arrival once the site is closed; the beat job
    # runs every 15 minutes and must not cancel that ticket a few minutes later.
    early = visit_at(gamma, at(10))
    late = visit_at(gamma, at(17, 40))

    assert services.close_day(site=gamma, now=at(17, 45)) == 1

    assert_closed_at(early, at(17, 45))
    late.refresh_from_db()
    assert late.status == Visit.Status.WAITING
    # The next local day closes it with the other leftovers.
    assert services.close_day(site=gamma, now=at(0, 15, TODAY + dt.timedelta(days=1))) == 1


def test_it_goes_by_each_sites_own_clock(gamma):
    montreal = make_site("montreal", time_zone="America/Montreal", always_open=False)
    for weekday in range(7):
        OpeningPeriod.objects.create(
            site=montreal, weekday=weekday, opens=dt.time(9), closes=dt.time(17)
        )
    in_paris = visit_at(gamma, at(10))
    in_montreal = visit_at(
        montreal, dt.datetime(2026, 5, 6, 10, tzinfo=ZoneInfo("America/Montreal"))
    )
    evening_in_paris = at(18)  # noon in Montreal

    assert services.close_day(site=gamma, now=evening_in_paris) == 1
    assert services.close_day(site=montreal, now=evening_in_paris) == 0

    assert_closed_at(in_paris, evening_in_paris)
    in_montreal.refresh_from_db()
    assert in_montreal.status == Visit.Status.WAITING


def test_the_beat_task_closes_every_site_whose_day_is_over(gamma, monkeypatch):
    alpha = make_site("alpha")  # open 00:00–23:59:59: its day is not over at 18:00
    asleep = make_site("asleep")
    asleep.active = False
    asleep.save(update_fields=["active"])
    leftovers = day_of(gamma, YESTERDAY)
    today = day_of(gamma)
    alpha_today = visit_at(alpha, at(10))
    alpha_yesterday = visit_at(alpha, at(10, day=YESTERDAY))
    inactive = visit_at(asleep, at(10, day=YESTERDAY))
    # The task reads the clock itself (Celery passes no arguments): stop it at 18:00 in Paris.
    monkeypatch.setattr(timezone, "now", lambda: at(18).astimezone(dt.UTC))

    assert close_finished_days.apply().get() == 5

    for visit in (leftovers, today):
        assert_closed_at(visit[Visit.Status.WAITING], at(18))
        assert_closed_at(visit[Visit.Status.CALLED], at(18))
    assert_closed_at(alpha_yesterday, at(18))
    alpha_today.refresh_from_db()
    inactive.refresh_from_db()
    assert alpha_today.status == inactive.status == Visit.Status.WAITING

    assert close_finished_days.apply().get() == 0


def test_one_sites_trouble_does_not_keep_the_other_sites_open(gamma, monkeypatch, caplog):
    alpha = make_site("alpha")
    stuck = visit_at(gamma, at(10, day=YESTERDAY))
    leftover = visit_at(alpha, at(10, day=YESTERDAY))
    # A desk forgotten open at gamma: its closing is rolled back with the rest of gamma's.
    forgotten = open_desk(
        counsellor=make_staff("bob@gamma.test", Role.COUNSELLOR, gamma),
        desk=Desk.objects.create(site=gamma, name="Desk 1"),
        now=at(9, 30, YESTERDAY),
    )
    close_day = services.close_day

    def failing_at_gamma(*, site, now=None):
        if site.slug == "gamma":
            raise RuntimeError("gamma's database row is broken")
        return close_day(site=site, now=now)

    monkeypatch.setattr(services, "close_day", failing_at_gamma)
    monkeypatch.setattr(timezone, "now", lambda: at(18).astimezone(dt.UTC))

    with pytest.raises(ExceptionGroup) as failed:  # the task fails, after closing the others
        close_finished_days.apply().get()

    assert [str(exc) for exc in failed.value.exceptions] == ["gamma's database row is broken"]
    assert_closed_at(leftover, at(18))
    stuck.refresh_from_db()
    forgotten.refresh_from_db()
    assert stuck.status == Visit.Status.WAITING
    assert forgotten.closed_at is None
    assert "Could not close the day at site gamma" in caplog.text
