"""Appointments' anonymous daily facts, by the day of their slot: how many by theme, channel and
what became of them (booked, attended, did not come, cancelled), and how many days ahead they
were booked (summed, for a mean lead time)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from citedesmetiers.clock import local_day_bounds
from citedesmetiers.facts import Fact, facts_from, key
from citedesmetiers.models import Site

from .models import Appointment


def daily_facts(site: Site, day: dt.date) -> list[Fact]:
    start, end = local_day_bounds(site.zone, day)
    counts, lead_days = Counter(), Counter()
    for theme, channel, status, starts, booked in Appointment.objects.filter(
        site=site, starts__gte=start, starts__lt=end
    ).values_list("theme_id", "channel", "status", "starts", "booked_at"):
        k = key(theme=theme, channel=channel, status=status)
        counts[k] += 1
        lead_days[k] += max(0, (starts - booked).days)
    return facts_from("appointments", counts) + facts_from("appointment_lead_days", lead_days)
