"""Counselling's anonymous daily facts: interviews by desk, theme and partner, durations, walks
to the desk, topics, outcomes, referrals between desks and out, out-of-order calls; the desks'
time (planned, and how the sittings spent it)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db.models import Q
from django.utils import timezone

from citedesmetiers.clock import local_day_bounds
from citedesmetiers.facts import Fact, facts_from, key
from citedesmetiers.models import Site
from reception.models import Call, Channel

from .desk_time import desk_times
from .models import MAX_INTERVIEW, DeskSession, Interview, Outcome, plan_between


def daily_facts(site: Site, day: dt.date) -> list[Fact]:
    start, end = local_day_bounds(site.zone, day)
    interviews = Interview.objects.filter(
        desk__site=site, started_at__gte=start, started_at__lt=end
    )
    counts, seconds, untimed = Counter(), Counter(), Counter()
    partners_met: dict[int, set[int]] = {}
    walks, walk_seconds = Counter(), Counter()
    for i in interviews.values_list(
        "desk_id",
        "theme_id",
        "partner_id",
        "channel",
        "called_at",
        "started_at",
        "ended_at",
        "ended_by_day_close",
        "visit_id",
        named=True,
    ):
        if i.partner_id:
            partners_met.setdefault(i.visit_id, set()).add(i.partner_id)
        k = key(desk=i.desk_id, theme=i.theme_id, partner=i.partner_id or 0)
        counts[k] += 1
        length = i.ended_at - i.started_at if i.ended_at else None
        if length is not None and not i.ended_by_day_close and length < MAX_INTERVIEW:
            seconds[k] += int(length.total_seconds())
        else:  # running, ended by the day close or left running: no length to trust
            untimed[k] += 1
        if i.channel == Channel.IN_PERSON and i.called_at and i.called_at <= i.started_at:
            # From the call to the start: the walk to the desk (remote visitors do not walk).
            walks[k] += 1
            walk_seconds[k] += int((i.started_at - i.called_at).total_seconds())
    topics = Counter(
        key(topic=topic)
        for topic in interviews.filter(topics__isnull=False).values_list("topics", flat=True)
    )
    outcomes, referrals, referred_out = Counter(), Counter(), Counter()
    for code, partner, theme, to_theme, kind in Outcome.objects.filter(
        interview__in=interviews
    ).values_list(
        "code",
        "interview__partner_id",
        "interview__theme_id",
        "referred_theme_id",
        "partner_kind",
    ):
        outcomes[key(code=code, partner=partner or 0)] += 1
        if code == Outcome.Code.REFERRED_DESK:
            referrals[key(src=theme, dst=to_theme)] += 1
        elif code == Outcome.Code.REFERRED_PARTNER:
            referred_out[key(kind=kind)] += 1
    out_of_order = Counter(
        key(reason=reason)
        for reason in Call.objects.filter(site=site, at__gte=start, at__lt=end)
        .exclude(out_of_order="")
        .values_list("out_of_order", flat=True)
    )
    return (
        facts_from("interviews", counts)
        + facts_from("interview_seconds", seconds)
        + facts_from("interviews_untimed", untimed)
        + facts_from("walks", walks)
        + facts_from("walk_seconds", walk_seconds)
        + facts_from("topics", topics)
        + facts_from("outcomes", outcomes)
        + facts_from("referrals", referrals)
        + facts_from("referrals_out", referred_out)
        + facts_from("out_of_order", out_of_order)
        # How many partner institutions each visitor met that day (3: three or more).
        + facts_from(
            "visit_partners", Counter(key(n=min(len(p), 3)) for p in partners_met.values())
        )
        + _desk_time_facts(site, day, start, end)
    )


def _desk_time_facts(site: Site, day: dt.date, start: dt.datetime, end: dt.datetime) -> list[Fact]:
    """Seconds the plan gave each desk and partner (by mode), the day's sittings, and their
    seconds by part: serving, paused, idle with nobody waiting, idle while visitors waited."""
    planned = Counter()
    for o in plan_between(site, day, day)[day]:
        planned[key(desk=o.desk_id, partner=o.partner_id, mode=o.mode)] += int(
            (o.ends - o.starts).total_seconds()
        )
    sessions = list(
        DeskSession.objects.filter(desk__site=site, opened_at__lt=end)
        .filter(Q(closed_at__isnull=True) | Q(closed_at__gt=start))
        .select_related("desk")
        .prefetch_related("themes", "desk__themes")
    )
    sittings, seconds = Counter(), Counter()
    times = desk_times(sessions, (start, min(end, timezone.now())))
    for session in sessions:
        sittings[key(desk=session.desk_id, partner=session.partner_id or 0)] += 1
        for part, n in times[session.pk].parts().items():
            seconds[key(desk=session.desk_id, partner=session.partner_id or 0, part=part)] += n
    return (
        facts_from("planned_seconds", planned)
        + facts_from("sittings", sittings)
        + facts_from("desk_seconds", seconds)
    )
