"""`BENCH walk_in_fairness`: appointments never make walk-ins wait longer than if they did not
exist.

A simulated week (Monday to Friday, 9:00–17:00) at one site, run twice through the real services
on the database with a simulated clock — reception's check-in, the desks' call next, start and
finish, the appointments' booking and on-site check-in:

- without appointments: two walk-in desks all week;
- with appointments: the same two walk-in desks and a third desk planned for appointments all
  week (a third of all planned hours), its 45-minute slots booked at 70 %, 15 % of them no-shows.

Both runs see the same walk-in arrivals (a seeded stream, busier at opening and after lunch) and
the same interview lengths. The line gives the walk-in wait (from joining the queue to being
called) p50 and p90 of each run; the ratio is the worse of with/without for p50 and p90, target
≤ 1.00. It also checks that no walk-in desk ever called an appointment (`walk_in_desk_calls=0`)
and that every attended appointment was called at most DUE_EARLY before its time.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import uuid
from zoneinfo import ZoneInfo

from django.db.models import F

from appointments.models import Appointment
from bench.report import report
from citedesmetiers.models import OpeningPeriod, Partner, Site, Theme, User
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from counselling import planning
from counselling import services as desks
from counselling.models import Desk, DeskSession, Interview, PlanMode, PlannedSession
from counselling.services import appointments
from reception import services as reception
from reception.models import Visit

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2027, 3, 1)  # a week without a change of clocks
DAYS = 5
OPENS, CLOSES = 9, 17
SEED = 20261202
BOOKED = 0.70
NO_SHOWS = 0.15
APPOINTMENT_MINUTES = 45
TARGET = 1.00
# Arrivals per hour of the day: busier at opening and after lunch (about 1.1 desks' worth of
# work each hour for two desks of 20-minute interviews: queues form, then drain).
ARRIVALS_PER_HOUR = {9: 8, 10: 6, 11: 5, 12: 4, 13: 5, 14: 8, 15: 6, 16: 4}


def _arrivals(rng: random.Random) -> list[dt.datetime]:
    times = []
    for day in range(DAYS):
        date = MONDAY + dt.timedelta(days=day)
        for hour, rate in ARRIVALS_PER_HOUR.items():
            for _n in range(rate):
                minute = rng.randrange(60)
                times.append(dt.datetime.combine(date, dt.time(hour, minute), tzinfo=PARIS))
    return sorted(times)


def _lengths(rng: random.Random, count: int) -> list[int]:
    """Interview lengths in minutes, one per walk-in, the same in both runs."""
    return [rng.choice((10, 15, 15, 20, 20, 20, 25, 30, 35)) for _ in range(count)]


class Week:
    """One simulated week at a new site."""

    def __init__(self, with_appointments: bool) -> None:
        slug = f"bench-fair-{uuid.uuid4().hex[:8]}"
        self.site = Site.objects.create(slug=slug, name=f"Bench {slug}", time_zone="Europe/Paris")
        OpeningPeriod.objects.bulk_create(
            OpeningPeriod(site=self.site, weekday=d, opens=dt.time(0), closes=dt.time(23, 59, 59))
            for d in range(7)
        )
        self.theme = Theme.objects.create(
            site=self.site, letter="E", name="Find a job", appointment_minutes=APPOINTMENT_MINUTES
        )
        self.partner = Partner.objects.get_or_create(
            name="Bench partner", defaults={"kind": Partner.Kind.EMPLOYMENT}
        )[0]
        self.sessions: list[DeskSession] = []
        self.walk_in_desks: set[int] = set()
        for n in range(1, 3):
            desk = self._desk(n, PlanMode.WALK_IN)
            self.walk_in_desks.add(desk.pk)
        if with_appointments:
            self._desk(3, PlanMode.APPOINTMENTS)

    def _desk(self, n: int, mode: str) -> Desk:
        desk = Desk.objects.create(site=self.site, name=f"Desk {n}", order=n)
        desk.themes.set([self.theme])
        for weekday in range(DAYS):
            planning.plan_session(
                site=self.site,
                desk_id=desk.pk,
                partner_id=self.partner.pk,
                theme_ids=[self.theme.pk],
                mode=mode,
                weekday=weekday,
                starts=dt.time(OPENS),
                ends=dt.time(CLOSES),
                valid_from=MONDAY,
                channels=["in_person"] if mode == PlanMode.APPOINTMENTS else (),
            )
        counsellor = User.objects.create_user(email=f"{self.site.slug}-{n}@bench.test")
        grant_role(user=counsellor, role=Role.COUNSELLOR, site=self.site, partner=self.partner)
        opened = dt.datetime.combine(MONDAY, dt.time(OPENS - 1), tzinfo=PARIS)
        self.sessions.append(desks.open_desk(counsellor=counsellor, desk=desk, now=opened))
        return desk

    def book(self, rng: random.Random) -> list[tuple[dt.datetime, str]]:
        """Book 70 % of the slots a week ahead; return (arrival, code) of those who come."""
        booked_on = dt.datetime.combine(MONDAY - dt.timedelta(days=3), dt.time(12), tzinfo=PARIS)
        free = appointments.slots(self.site, self.theme, now=booked_on, days=DAYS + 3)
        coming = []
        for n, slot in enumerate(free):
            if rng.random() >= BOOKED:
                continue
            appointment, _secret = appointments.book(
                site=self.site,
                theme_id=self.theme.pk,
                channel="in_person",
                desk_id=slot.desk_id,
                starts=slot.starts,
                pseudonym=f"V{n}",
                email=f"v{n}@bench.test",
                now=booked_on,
            )
            if rng.random() >= NO_SHOWS:
                coming.append((slot.starts - dt.timedelta(minutes=10), appointment.code))
        return coming

    def run(self, arrivals: list[dt.datetime], lengths: list[int], coming) -> None:
        """Minute by minute: interviews ending, people arriving, free desks calling."""
        busy_until: dict[int, dt.datetime] = {}
        remaining = list(lengths)
        by_minute: dict[dt.datetime, list] = {}
        for at in arrivals:
            by_minute.setdefault(at, []).append(("walk_in", None))
        for at, code in coming:
            by_minute.setdefault(at, []).append(("appointment", code))
        due = {at + dt.timedelta(minutes=5) for at, _code in coming}  # DUE_EARLY before the slot
        for day in range(DAYS):
            date = MONDAY + dt.timedelta(days=day)
            minute = dt.datetime.combine(date, dt.time(OPENS), tzinfo=PARIS)
            # Past closing, the desks see out whoever is still waiting.
            end = dt.datetime.combine(date, dt.time(CLOSES + 3), tzinfo=PARIS)
            while minute < end:
                changed = minute in due
                for session in self.sessions:
                    if busy_until.get(session.pk) == minute:
                        desks.finish_interview(
                            session_id=session.pk, counsellor=session.counsellor, now=minute
                        )
                        del busy_until[session.pk]
                        changed = True
                for kind, code in by_minute.get(minute, ()):
                    if kind == "walk_in":
                        reception.check_in(site=self.site, theme_id=self.theme.pk, now=minute)
                    else:
                        appointments.check_in(site=self.site, code=code, now=minute)
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
                        length = 40 if visit.by_appointment else remaining.pop(0)
                        busy_until[session.pk] = minute + dt.timedelta(minutes=length)
                minute += dt.timedelta(minutes=1)

    def walk_in_waits(self) -> list[float]:
        called = Visit.objects.filter(
            site=self.site, by_appointment=False, called_at__isnull=False
        ).annotate(waited=F("called_at") - F("queued_at"))
        return [v.waited.total_seconds() / 60 for v in called]

    def walk_in_desks_calling_appointments(self) -> int:
        return Visit.objects.filter(
            site=self.site, by_appointment=True, desk_id__in=self.walk_in_desks
        ).count()

    def called_too_early(self) -> int:
        early = 0
        for visit in Visit.objects.filter(site=self.site, by_appointment=True).select_related(
            "appointment"
        ):
            if visit.called_at < visit.appointment.starts - appointments.DUE_EARLY:
                early += 1
        return early

    def waiting_left(self) -> int:
        return Visit.objects.filter(site=self.site, status=Visit.Status.WAITING).count()

    def delete(self) -> None:
        site = self.site
        Appointment.objects.filter(site=site).delete()
        Interview.objects.filter(desk__site=site).delete()
        Visit.objects.filter(site=site).delete()
        DeskSession.objects.filter(desk__site=site).delete()
        PlannedSession.objects.filter(site=site).delete()
        Desk.objects.filter(site=site).delete()
        site.delete()
        User.objects.filter(email__startswith=f"{site.slug}-").delete()


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def run() -> bool:
    rng = random.Random(SEED)
    arrivals = _arrivals(rng)
    lengths = _lengths(rng, len(arrivals))
    results = {}
    checks = {}
    for label, with_appointments in (("without", False), ("with", True)):
        week = Week(with_appointments)
        try:
            coming = week.book(random.Random(SEED + 1)) if with_appointments else []
            week.run(arrivals, lengths, coming)
            waits = week.walk_in_waits()
            results[label] = (_percentile(waits, 50), _percentile(waits, 90), len(waits))
            checks[label] = (
                week.walk_in_desks_calling_appointments(),
                week.called_too_early(),
                week.waiting_left(),
                len(coming),
            )
        finally:
            week.delete()
    (p50_a, p90_a, n_a), (p50_b, p90_b, n_b) = results["without"], results["with"]
    valid = p50_a > 0 and p90_a > 0 and n_a == n_b == len(arrivals)
    ratio = max(p50_b / p50_a, p90_b / p90_a) if valid else float("nan")
    walk_in_calls, too_early, left, attended = checks["with"]
    valid = valid and walk_in_calls == 0 and too_early == 0 and left == 0
    return report(
        "walk_in_fairness",
        ratio,
        TARGET,
        {
            "walk_ins": len(arrivals),
            "appointments_came": attended,
            "p50_without": round(p50_a, 1),
            "p50_with": round(p50_b, 1),
            "p90_without": round(p90_a, 1),
            "p90_with": round(p90_b, 1),
            "walk_in_desk_calls": walk_in_calls,
            "called_early": too_early,
        },
        higher_is_better=False,
        valid=valid,
    )
