"""`BENCH estimate_accuracy`: the wait the screens quote comes true more often with the forecast
than with the rough formula it replaced.

A simulated week (Monday to Friday, 9:00–17:00) at a site laid out as the demo's: its six themes
and six desks, four of them serving one theme and two sharing two, with arrivals in the demo
history's proportions of themes and hours (two and a half times its volume: a busy Cité, where
queues form), and interview lengths as in the demo history (about 22 minutes). It runs through
the real services on the database with a simulated clock: reception's check-in and the desks'
call next, start and finish.

At each check-in, both estimators are asked what a newcomer of the theme would wait, from the same
queues (`reception.queues.theme_queues`): the forecast, as the screens now say it, and
`rough_estimate`, the formula before it. When the visitor is called, each gets its error. The line
gives each one's median error (in minutes, without sign) and share within ±10 minutes; the ratio is
new median error over old, target < 1 (`target=0.99`): the forecast must be the more honest.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import uuid
from zoneinfo import ZoneInfo

from bench.report import report
from citedesmetiers.models import OpeningPeriod, Partner, Site, Theme, User
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from counselling import services as desks
from counselling.models import Desk, DeskSession, Interview
from figures.demo import DESKS, THEMES
from figures.history import HOUR_WEIGHT
from reception import queues
from reception import services as reception
from reception.models import Visit

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2027, 3, 1)  # a week without a change of clocks
DAYS = 5
OPENS, CLOSES = 9, 17
SEED = 20261203
TARGET = 0.99
# The demo history's shares of the themes (in THEMES' order) and of the hours, at two and a half
# times its 48 visits a weekday: the desks are busy nine tenths of the day.
THEME_WEIGHTS = [14, 18, 30, 16, 12, 10]
VISITS_A_DAY = 120
HOURS = [h for h in HOUR_WEIGHT if OPENS <= h < CLOSES]


def _arrivals(rng: random.Random) -> list[tuple[dt.datetime, str]]:
    letters = [letter for letter, _name, _colour in THEMES]
    arrivals = []
    for day in range(DAYS):
        date = MONDAY + dt.timedelta(days=day)
        for _n in range(VISITS_A_DAY):
            hour = rng.choices(HOURS, weights=[HOUR_WEIGHT[h] for h in HOURS])[0]
            at = dt.datetime.combine(date, dt.time(hour, rng.randrange(60)), tzinfo=PARIS)
            arrivals.append((at, rng.choices(letters, weights=THEME_WEIGHTS)[0]))
    return sorted(arrivals)


def _length(rng: random.Random) -> int:
    return max(3, round(rng.gauss(22, 7)))


class Week:
    def __init__(self) -> None:
        slug = f"bench-est-{uuid.uuid4().hex[:8]}"
        self.site = Site.objects.create(slug=slug, name=f"Bench {slug}", time_zone="Europe/Paris")
        OpeningPeriod.objects.bulk_create(
            OpeningPeriod(site=self.site, weekday=d, opens=dt.time(0), closes=dt.time(23, 59, 59))
            for d in range(7)
        )
        self.themes = {
            letter: Theme.objects.create(site=self.site, letter=letter, name=name, order=n)
            for n, (letter, name, _colour) in enumerate(THEMES)
        }
        partner = Partner.objects.get_or_create(
            name="Bench partner", defaults={"kind": Partner.Kind.EMPLOYMENT}
        )[0]
        opened = dt.datetime.combine(MONDAY, dt.time(OPENS - 1), tzinfo=PARIS)
        self.sessions: list[DeskSession] = []
        for n, (name, _spoken, letters) in enumerate(DESKS, start=1):
            desk = Desk.objects.create(site=self.site, name=name, order=n)
            desk.themes.set([self.themes[letter] for letter in letters])
            counsellor = User.objects.create_user(email=f"{slug}-{n}@bench.test")
            grant_role(user=counsellor, role=Role.COUNSELLOR, site=self.site, partner=partner)
            self.sessions.append(desks.open_desk(counsellor=counsellor, desk=desk, now=opened))
        self.quotes: dict[int, tuple[int, int]] = {}  # visit → (forecast, rough)

    def check_in(self, letter: str, at: dt.datetime) -> None:
        theme = self.themes[letter]
        queue = next(q for q in queues.theme_queues(self.site, at) if q.theme.pk == theme.pk)
        forecast = queue.estimate
        rough = queues.rough_estimate(
            queue.waiting, queue.desks, queue.free_desks, queue.service_minutes
        )
        visit, _new = reception.check_in(site=self.site, theme_id=theme.pk, now=at)
        self.quotes[visit.pk] = (forecast, rough)

    def run(self, arrivals, rng: random.Random) -> None:
        """Minute by minute: interviews ending, people arriving, free desks calling."""
        busy_until: dict[int, dt.datetime] = {}
        by_minute: dict[dt.datetime, list[str]] = {}
        for at, letter in arrivals:
            by_minute.setdefault(at, []).append(letter)
        for day in range(DAYS):
            date = MONDAY + dt.timedelta(days=day)
            minute = dt.datetime.combine(date, dt.time(OPENS), tzinfo=PARIS)
            closes = dt.datetime.combine(date, dt.time(CLOSES), tzinfo=PARIS)
            # Past closing, the desks see out whoever is still waiting.
            while minute < closes or busy_until or self.waiting_left():
                changed = minute >= closes  # after closing, only the queue's end is left
                for session in self.sessions:
                    if busy_until.get(session.pk) == minute:
                        desks.finish_interview(
                            session_id=session.pk, counsellor=session.counsellor, now=minute
                        )
                        del busy_until[session.pk]
                        changed = True
                for letter in by_minute.get(minute, ()):
                    self.check_in(letter, minute)
                    changed = True
                if changed:
                    for session in self.sessions:
                        if session.pk in busy_until:
                            continue
                        visit = desks.call_next(
                            session_id=session.pk, counsellor=session.counsellor, now=minute
                        )
                        if visit is None:
                            continue
                        desks.start_interview(
                            session_id=session.pk, counsellor=session.counsellor, now=minute
                        )
                        busy_until[session.pk] = minute + dt.timedelta(minutes=_length(rng))
                minute += dt.timedelta(minutes=1)

    def errors(self) -> tuple[list[float], list[float]]:
        forecast, rough = [], []
        for pk, arrived, called in Visit.objects.filter(
            site=self.site, called_at__isnull=False
        ).values_list("pk", "arrived_at", "called_at"):
            waited = (called - arrived).total_seconds() / 60
            new, old = self.quotes[pk]
            if new is not None and old is not None:
                forecast.append(waited - new)
                rough.append(waited - old)
        return forecast, rough

    def waiting_left(self) -> int:
        return Visit.objects.filter(site=self.site, status=Visit.Status.WAITING).count()

    def delete(self) -> None:
        site = self.site
        Interview.objects.filter(desk__site=site).delete()
        Visit.objects.filter(site=site).delete()
        DeskSession.objects.filter(desk__site=site).delete()
        Desk.objects.filter(site=site).delete()
        site.delete()
        User.objects.filter(email__startswith=f"{site.slug}-").delete()


def _median_miss(errors: list[float]) -> float:
    return statistics.median(abs(e) for e in errors)


def _within(errors: list[float], minutes: float = 10) -> int:
    return round(100 * sum(1 for e in errors if abs(e) <= minutes) / len(errors))


def run() -> bool:
    rng = random.Random(SEED)
    arrivals = _arrivals(rng)
    week = Week()
    try:
        week.run(arrivals, random.Random(SEED + 1))
        forecast, rough = week.errors()
        left = week.waiting_left()
    finally:
        week.delete()
    valid = bool(forecast) and left == 0 and len(forecast) == len(arrivals)
    new, old = (_median_miss(forecast), _median_miss(rough)) if forecast else (0.0, 0.0)
    return report(
        "estimate_accuracy",
        new / old if valid and old else float("nan"),
        TARGET,
        {
            "visits": len(arrivals),
            "compared": len(forecast),
            "waiting_left": left,
            "median_error_old": round(old, 1),
            "median_error_new": round(new, 1),
            "within10_old": f"{_within(rough)}%" if rough else "-",
            "within10_new": f"{_within(forecast)}%" if forecast else "-",
            "bias_old": round(statistics.median(rough), 1) if rough else "-",
            "bias_new": round(statistics.median(forecast), 1) if forecast else "-",
        },
        higher_is_better=False,
        valid=valid,
    )
