"""Daily aggregation: a day lived through the real services (check-ins, calls, interviews,
referrals, no-shows, people who leave) gives daily figures equal to its raw rows; aggregating it
again changes nothing; purging the raw rows keeps every figure, and the report's; days are the
site's local days, also at the edge of a month."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from citedesmetiers.facts import key
from citedesmetiers.models import Partner, Site, Theme
from counselling import services as desk
from counselling.models import Desk, DeskSession, Interview, Outcome, Topic
from figures import reports, stats
from figures.models import AggregatedDay, DailyStat
from figures.tasks import aggregate_and_purge
from reception import services as reception
from reception.models import Call, Visit
from tests.conftest import Centre, make_site
from tests.counselling_fixtures import make_desk, make_topic, open_session, theme

PARIS = ZoneInfo("Europe/Paris")
DAY = dt.date(2025, 3, 11)  # a Tuesday, long past: the site is open every day in the tests
MARCH = dt.date(2025, 3, 1)


def at(hour: int, minute: int, day: dt.date = DAY, zone: ZoneInfo = PARIS) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def figures(site: Site, day: dt.date = DAY) -> stats.Figures:
    return stats.read([site], day, day + dt.timedelta(days=1))


def rows(site: Site) -> list[tuple]:
    return sorted(
        DailyStat.objects.filter(site=site).values_list("day", "source", "metric", "key", "value")
    )


def raw_rows(site: Site) -> tuple[int, int, int]:
    return (
        Visit.objects.filter(site=site).count(),
        Interview.objects.filter(desk__site=site).count(),
        Call.objects.filter(site=site).count(),
    )


def report_without_timestamp(site: Site, month: dt.date) -> dict:
    built = reports.build(site, month)
    built.pop("generated")
    return built


@dataclass
class LivedDay:
    site: Site
    e: Theme
    f: Theme
    a: Theme
    desk1: Desk  # jobs and training, Bob (partner A)
    desk2: Desk  # business and jobs, Carol (partner B)
    partner_a: Partner
    partner_b: Partner
    topic: Topic


class Counsellor:
    """A counsellor at their open desk, acting at given times."""

    def __init__(self, session: DeskSession):
        self.who = {"session_id": session.pk, "counsellor": session.counsellor}

    def serve(self, called, started, ended, expected: Visit, **finish) -> None:
        visit = desk.call_next(**self.who, now=called)
        assert visit.pk == expected.pk
        self.interview(started, ended, **finish)

    def interview(self, started, ended, **finish) -> None:
        finish.setdefault("outcomes", [Outcome.Code.INFORMATION])
        desk.start_interview(**self.who, now=started)
        desk.finish_interview(**self.who, now=ended, **finish)


def live_a_day(centre: Centre) -> LivedDay:
    """Ten walk-ins at Alpha on DAY, two desks. Every figure asserted below follows from here."""
    site = centre.alpha
    e, f, a = (theme(site, letter) for letter in "EFA")
    desk1 = make_desk(site, "Desk 1", "E", "F", order=1)
    desk2 = make_desk(site, "Desk 2", "A", "E", order=2)
    topic = make_topic(site, "E", "CV and cover letter")
    bob = Counsellor(open_session(centre.counsellor_a, desk1, at(8, 55)))
    carol = Counsellor(open_session(centre.counsellor_b, desk2, at(8, 55)))

    def arrive(letter: str, hour: int, minute: int, **answers) -> Visit:
        visit, created = reception.check_in(
            site=site, theme_id=theme(site, letter).pk, now=at(hour, minute), **answers
        )
        assert created
        return visit

    v1 = arrive("E", 9, 0, age_bracket="18-25", situation="job_seeker", area="town")
    v2 = arrive("E", 9, 5, channel="phone", age_bracket="26-44", situation="employed", area="metro")
    v3 = arrive("F", 9, 10, age_bracket="u18", situation="student", area="town")
    bob.serve(at(9, 12), at(9, 13), at(9, 33), v1, topic_ids=[topic.pk])
    # Carol sends v2 on to training: v2 waits again, keeping the 9:05 arrival, so goes before v3.
    carol.serve(
        at(9, 15),
        at(9, 16),
        at(9, 40),
        v2,
        outcomes=[Outcome.Code.REFERRED_DESK],
        refer_theme_id=f.pk,
        referral_reason=Outcome.Reason.OTHER_VIEW,
    )
    bob.serve(
        at(9, 41),
        at(9, 42),
        at(9, 56),
        v2,
        outcomes=[Outcome.Code.RESOURCES, Outcome.Code.REFERRED_PARTNER],
        partner_kind=Partner.Kind.TRAINING,
    )
    bob.serve(at(9, 57), at(9, 58), at(10, 16), v3)

    v4 = arrive("A", 10, 20, channel="video")
    # Called at 10:23, v4 takes three minutes to reach the desk.
    carol.serve(at(10, 23), at(10, 26), at(10, 56), v4, outcomes=[Outcome.Code.COME_BACK])
    v5 = arrive("E", 10, 30)
    reception.mark_left(site=site, visit_id=v5.pk, now=at(10, 35))
    v6 = arrive("F", 10, 40)
    assert desk.call_next(**bob.who, now=at(10, 45)).pk == v6.pk
    desk.mark_no_show(**bob.who, now=at(10, 48))
    v7 = arrive("E", 11, 0)
    reception.mark_left(site=site, visit_id=v7.pk, how=Visit.LeftHow.BY_THEMSELVES, now=at(11, 20))

    v9 = arrive("E", 14, 10)
    v8 = arrive("A", 14, 15)
    # Carol serves jobs too, where v9 has waited longer: v8 is called out of order.
    desk.call_ticket(
        **carol.who, visit_id=v8.pk, reason=Call.OutOfOrder.ACCESSIBILITY, now=at(14, 20)
    )
    carol.interview(at(14, 21), at(14, 41), outcomes=[Outcome.Code.INFORMATION, Outcome.Code.EVENT])
    bob.serve(at(14, 50), at(14, 51), at(15, 20), v9)

    v10 = arrive("E", 16, 0, channel="chat")
    reception.mark_left(site=site, visit_id=v10.pk, how=Visit.LeftHow.AT_CLOSING, now=at(18, 0))
    for counsellor in (bob, carol):
        desk.close_desk(**counsellor.who, now=at(18, 5))
    return LivedDay(site, e, f, a, desk1, desk2, centre.partner_a, centre.partner_b, topic)


def assert_the_day_is_counted(day: LivedDay, f: stats.Figures) -> None:
    e, fo, a = str(day.e.pk), str(day.f.pk), str(day.a.pk)
    d1, d2 = str(day.desk1.pk), str(day.desk2.pk)
    pa, pb = str(day.partner_a.pk), str(day.partner_b.pk)

    # Reception: visits by the theme they came for, hour of arrival (local) and channel.
    assert f.total("visits") == 10
    assert f.by("visits", "theme") == {e: 6, fo: 2, a: 2}
    assert f.by("visits", "hour") == {"9": 3, "10": 3, "11": 1, "14": 2, "16": 1}
    assert f.by("visits", "channel") == {"in_person": 7, "phone": 1, "video": 1, "chat": 1}
    assert f.by("profile_age", "v") == {"18-25": 1, "26-44": 1, "u18": 1, "-": 7}
    assert f.by("profile_situation", "v") == {"job_seeker": 1, "employed": 1, "student": 1, "-": 7}
    assert f.by("profile_area", "v") == {"town": 2, "metro": 1, "-": 7}
    # Minutes from arrival to the first call (a referral does not wait again), no-show included.
    assert f.by("wait_minutes", "m") == {"12": 1, "10": 1, "47": 1, "5": 2, "3": 1, "40": 1}
    assert f.by("visit_end", "how") == {
        "served": 6,
        "no_show": 1,
        "walked_out": 1,
        "by_themselves": 1,
        "closing": 1,
    }

    # Counselling: seven interviews (v2 twice), by desk, theme, partner; their minutes.
    assert f.total("interviews") == 7
    assert f.by("interviews", "desk") == {d1: 4, d2: 3}
    assert f.by("interviews", "theme") == {e: 3, fo: 2, a: 2}
    assert f.by("interviews", "partner") == {pa: 4, pb: 3}
    assert f.totals["interview_seconds"] == {
        key(desk=d1, partner=pa, theme=e): (20 + 29) * 60,
        key(desk=d1, partner=pa, theme=fo): (14 + 18) * 60,
        key(desk=d2, partner=pb, theme=e): 24 * 60,
        key(desk=d2, partner=pb, theme=a): (30 + 20) * 60,
    }
    # The walk to the desk: from the call (a recall does not move it) to the start.
    assert f.totals["walks"] == {
        key(desk=d1, partner=pa, theme=e): 2,
        key(desk=d1, partner=pa, theme=fo): 2,
        key(desk=d2, partner=pb, theme=e): 1,
        key(desk=d2, partner=pb, theme=a): 2,
    }
    assert f.totals["walk_seconds"] == {
        key(desk=d1, partner=pa, theme=e): 2 * 60,
        key(desk=d1, partner=pa, theme=fo): 2 * 60,
        key(desk=d2, partner=pb, theme=e): 60,
        key(desk=d2, partner=pb, theme=a): 3 * 60 + 60,
    }
    assert f.totals["outcomes"] == {
        key(code="information", partner=pa): 3,
        key(code="information", partner=pb): 1,
        key(code="resources", partner=pa): 1,
        key(code="referred_partner", partner=pa): 1,
        key(code="referred_desk", partner=pb): 1,
        key(code="come_back", partner=pb): 1,
        key(code="event", partner=pb): 1,
    }
    assert f.totals["referrals"] == {key(dst=fo, src=e): 1}
    assert f.totals["referrals_out"] == {key(kind="training"): 1}
    assert f.totals["out_of_order"] == {key(reason="accessibility"): 1}
    assert f.totals["topics"] == {key(topic=day.topic.pk): 1}

    assert reports.key_figures(f) == {
        "visits": 10,
        "interviews": 7,
        "interview_minutes": 22,  # 155 minutes / 7
        "walk_minutes": 1.3,  # 9 minutes / 7
        "median_wait": 10,  # 3 5 5 [10] 12 40 47
        "p90_wait": 40,
        "walk_outs": 3,
        "no_shows": 1,
        "referrals": 1,
        "referrals_out": 1,
        "out_of_order": 1,
        "events": 0,
        "event_registered": 0,
        "event_attended": 0,
        "no_show_rate": None,
    }


def test_it_counts_a_day_as_its_raw_rows(centre, settings):
    day = live_a_day(centre)
    assert raw_rows(centre.alpha) == (10, 7, 8)  # seven visitors called, v2 twice

    assert stats.aggregate_day(centre.alpha, DAY) == len(rows(centre.alpha)) > 0

    assert_the_day_is_counted(day, figures(centre.alpha))
    assert AggregatedDay.objects.filter(site=centre.alpha, day=DAY).exists()
    # Only that site-day has figures.
    assert not DailyStat.objects.filter(site=centre.beta).exists()
    assert set(DailyStat.objects.values_list("day", flat=True)) == {DAY}


def test_aggregating_a_day_again_gives_the_same_rows(centre, settings):
    settings.RAW_RETENTION_DAYS = 100_000  # DAY still has its raw rows: really aggregate again
    live_a_day(centre)
    count = stats.aggregate_day(centre.alpha, DAY)
    first = rows(centre.alpha)
    first_at = AggregatedDay.objects.get(site=centre.alpha, day=DAY).at

    assert stats.aggregate_day(centre.alpha, DAY) == count
    assert stats.aggregate_day(centre.alpha, DAY) == count

    assert rows(centre.alpha) == first
    assert AggregatedDay.objects.get(site=centre.alpha, day=DAY).at > first_at


def test_aggregating_again_replaces_the_day_with_its_late_changes(centre, settings):
    settings.RAW_RETENTION_DAYS = 100_000
    visit, _ = reception.check_in(
        site=centre.alpha, theme_id=theme(centre.alpha, "E").pk, now=at(9, 0)
    )
    stats.aggregate_day(centre.alpha, DAY)
    assert figures(centre.alpha).totals["visit_end"] == {}

    reception.mark_left(site=centre.alpha, visit_id=visit.pk, now=at(9, 30))
    stats.aggregate_day(centre.alpha, DAY)

    f = figures(centre.alpha)
    assert f.total("visits") == 1
    assert f.totals["visit_end"] == {key(how="walked_out"): 1}


def test_the_purge_deletes_raw_rows_and_keeps_every_figure(centre, settings):
    settings.RAW_RETENTION_DAYS = 5
    day = live_a_day(centre)
    stats.aggregate_day(centre.alpha, DAY)
    # The next day was never aggregated: the purge must aggregate it before deleting it.
    next_day = DAY + dt.timedelta(days=1)
    for minute in (0, 10, 20):
        reception.check_in(
            site=centre.alpha, theme_id=day.f.pk, now=at(10, minute, next_day), channel="phone"
        )
    # A week later, within the retention period of the purge below: kept.
    recent = DAY + dt.timedelta(days=7)
    reception.check_in(site=centre.alpha, theme_id=day.e.pk, now=at(10, 0, recent))
    # Every site is purged, each once its days are aggregated.
    reception.check_in(site=centre.beta, theme_id=theme(centre.beta, "E").pk, now=at(10, 0))
    before = rows(centre.alpha)

    deleted = stats.purge_raw(now=at(12, 0, DAY + dt.timedelta(days=10)))

    assert deleted > 0
    assert list(Visit.objects.values_list("local_date", flat=True)) == [recent]
    assert Interview.objects.count() == 0
    assert Call.objects.count() == 0
    # What DAY had is all there.
    assert [r for r in rows(centre.alpha) if r[0] == DAY] == before
    assert_the_day_is_counted(day, figures(centre.alpha))
    # The days nobody had aggregated were, before their raw rows went.
    later = figures(centre.alpha, next_day)
    assert later.total("visits") == 3
    assert later.by("visits", "channel") == {"phone": 3}
    assert figures(centre.beta).total("visits") == 1
    assert AggregatedDay.objects.filter(site=centre.alpha, day=next_day).exists()
    assert not AggregatedDay.objects.filter(day=recent).exists()

    # Aggregating a purged day again must not wipe its figures with an empty day.
    assert stats.aggregate_day(centre.alpha, DAY) == 0
    assert stats.aggregate_day(centre.alpha, next_day) == 0
    assert_the_day_is_counted(day, figures(centre.alpha))
    assert figures(centre.alpha, next_day).total("visits") == 3


def test_the_report_is_the_same_after_the_purge(centre, settings):
    settings.RAW_RETENTION_DAYS = 5
    live_a_day(centre)
    stats.aggregate_day(centre.alpha, DAY)
    before = report_without_timestamp(centre.alpha, MARCH)

    stats.purge_raw(now=at(12, 0, DAY + dt.timedelta(days=40)))

    assert raw_rows(centre.alpha) == (0, 0, 0)
    assert report_without_timestamp(centre.alpha, MARCH) == before
    assert before["figures"]["now"]["interviews"] == 7
    assert {p["name"]: p["interviews"] for p in before["partners"]} == {
        "Employment agency": 4,
        "Guidance centre": 3,
    }


@pytest.mark.parametrize(
    ("zone", "last_day"),
    [
        ("Europe/Paris", dt.date(2025, 3, 31)),  # summer time: local midnight is 22:00 UTC
        ("Europe/Paris", dt.date(2024, 12, 31)),  # and a new year
        ("America/Guadeloupe", dt.date(2025, 4, 30)),  # behind UTC: 23:30 local is 03:30 UTC
    ],
)
def test_a_visit_counts_in_the_local_month_it_happened(centre, zone, last_day):
    site = centre.alpha if zone == "Europe/Paris" else make_site("overseas", time_zone=zone)
    local = ZoneInfo(zone)
    first_day = last_day + dt.timedelta(days=1)
    counter = Counsellor(
        open_session(
            centre.counsellor_a, make_desk(site, "Desk 9", "E"), at(23, 0, last_day, local)
        )
    )
    late, _ = reception.check_in(
        site=site, theme_id=theme(site, "E").pk, now=at(23, 30, last_day, local)
    )
    counter.serve(
        at(23, 35, last_day, local), at(23, 40, last_day, local), at(23, 55, last_day, local), late
    )
    early, _ = reception.check_in(
        site=site, theme_id=theme(site, "E").pk, now=at(0, 30, first_day, local)
    )
    counter.serve(
        at(0, 35, first_day, local), at(0, 40, first_day, local), at(0, 55, first_day, local), early
    )
    assert late.local_date == last_day and early.local_date == first_day

    for day in (last_day, first_day):
        stats.aggregate_day(site, day)

    old = stats.read([site], *stats.month_bounds(last_day))
    new = stats.read([site], *stats.month_bounds(first_day))
    assert old.total("visits") == new.total("visits") == 1
    assert old.by("visits", "hour") == {"23": 1}
    assert new.by("visits", "hour") == {"0": 1}
    assert old.total("interviews") == new.total("interviews") == 1
    assert old.by("wait_minutes", "m") == new.by("wait_minutes", "m") == {"5": 1}
    assert old.total("interview_seconds") == new.total("interview_seconds") == 15 * 60


def test_the_nightly_task_aggregates_recent_days_and_purges_old_raw_rows(centre, settings):
    settings.RAW_RETENTION_DAYS = 30
    old, _ = reception.check_in(
        site=centre.alpha, theme_id=theme(centre.alpha, "E").pk, now=at(10, 0)
    )
    today, _ = reception.check_in(site=centre.alpha, theme_id=theme(centre.alpha, "F").pk)

    result = aggregate_and_purge.apply()

    assert result.successful()
    done = result.get()
    assert done["days"] == 2 * (stats.REAGGREGATE_DAYS + 1)  # Alpha and Beta, today included
    assert done["deleted"] >= 1
    assert list(Visit.objects.values_list("pk", flat=True)) == [today.pk]
    assert figures(centre.alpha, DAY).by("visits", "theme") == {str(old.theme_id): 1}
    assert figures(centre.alpha, today.local_date).by("visits", "theme") == {str(today.theme_id): 1}
    assert Counter(AggregatedDay.objects.values_list("site__slug", flat=True)) == {
        "alpha": stats.REAGGREGATE_DAYS + 2,
        "beta": stats.REAGGREGATE_DAYS + 1,
    }
