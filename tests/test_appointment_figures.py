"""Appointments in the figures: the day close rolls them into anonymous daily figures (theme,
channel, what became of them, lead time) and the monthly report gives them by channel and theme
with their no-show rate."""

from __future__ import annotations

import datetime as dt

import pytest

from appointments.models import Appointment
from figures import reports
from figures.models import DailyStat
from figures.stats import aggregate_day
from tests.counselling_fixtures import in_english, make_desk, theme  # noqa: F401

pytestmark = pytest.mark.usefixtures("in_english")


def make(site, desk, partner, status, channel, starts, n):
    Appointment.objects.create(
        site=site,
        theme=theme(site, "E"),
        desk=desk,
        partner=partner,
        channel=channel,
        starts=starts,
        ends=starts + dt.timedelta(minutes=45),
        status=status,
        code=f"FIG{n:05d}",
        manage_digest=f"{n:064d}",
        booked_at=starts - dt.timedelta(days=3),
    )


def test_the_report_gives_appointments_by_channel_and_theme_with_no_shows(centre):
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 4", "E")
    partner = centre.partner_a
    day = dt.date(2026, 3, 10)
    at = dt.datetime.combine(day, dt.time(14), tzinfo=alpha.zone)
    statuses = ["attended"] * 3 + ["no_show"] + ["cancelled"] * 2
    for n, status in enumerate(statuses):
        make(alpha, desk, partner, status, "phone", at + dt.timedelta(minutes=45 * n), n)
    make(alpha, desk, partner, "attended", "in_person", at - dt.timedelta(hours=3), 99)

    aggregate_day(alpha, day)

    facts = dict(
        DailyStat.objects.filter(site=alpha, metric="appointments").values_list("key", "value")
    )
    e = theme(alpha, "E").pk
    assert facts[f"channel=phone|status=attended|theme={e}"] == 3
    assert facts[f"channel=phone|status=cancelled|theme={e}"] == 2
    lead = DailyStat.objects.get(
        site=alpha, metric="appointment_lead_days", key=f"channel=phone|status=no_show|theme={e}"
    )
    assert lead.value == 3
    assert not DailyStat.objects.filter(key__contains="pseudonym").exists()

    rows = reports.build(alpha, dt.date(2026, 3, 1))["appointments"]
    assert rows == [
        {
            "channel": "in person",
            "theme": "Find a job",
            "booked": 1,
            "cancelled": 0,
            "attended": 1,
            "no_show": 0,
            "no_show_rate": 0,
        },
        {
            "channel": "phone",
            "theme": "Find a job",
            "booked": 4,
            "cancelled": 2,
            "attended": 3,
            "no_show": 1,
            "no_show_rate": 25,
        },
    ]
