"""A site with appointment hours every day, for the public booking pages (which run on the real
clock): Alpha's Desk 4 takes appointments for theme E every afternoon, 14:00–17:30, in person,
by phone and by video (Alpha has a video room address). `book_one` books the first phone slot,
as a visitor would, and gives its manage secret."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from citedesmetiers.models import Site, Theme
from counselling import planning
from counselling.models import Desk, PlanMode
from counselling.services import appointments
from tests.counselling_fixtures import make_desk, theme

CHANNELS = ("in_person", "phone", "video")


@dataclass
class Planned:
    site: Site
    theme: Theme
    desk: Desk  # the appointments desk


def plan_appointments(centre, *, channels=CHANNELS) -> Planned:
    alpha = centre.alpha
    alpha.video_room_template = "https://visio.example.org/cdm-{room}"
    alpha.save(update_fields=["video_room_template"])
    desk = make_desk(alpha, "Desk 4", "E", order=4)
    e = theme(alpha, "E")
    week_ago = alpha.local_date() - dt.timedelta(days=7)
    for weekday in range(7):
        planning.plan_session(
            site=alpha,
            desk_id=desk.pk,
            partner_id=centre.partner_b.pk,
            theme_ids=[e.pk],
            mode=PlanMode.APPOINTMENTS,
            weekday=weekday,
            starts=dt.time(14),
            ends=dt.time(17, 30),
            valid_from=week_ago,
            channels=list(channels),
        )
    return Planned(site=alpha, theme=e, desk=desk)


def slot_param(slot) -> str:
    """How the pages write a slot in their addresses (counselling.booking_views.slot_value)."""
    return f"{slot.desk_id}_{slot.starts.astimezone(dt.UTC):%Y-%m-%dT%H:%MZ}"


def free_slots(planned: Planned, channel: str | None = None):
    return appointments.slots(planned.site, planned.theme, channel=channel)


def book_one(planned: Planned) -> str:
    slot = free_slots(planned, "phone")[0]
    _appointment, secret = appointments.book(
        site=planned.site,
        theme_id=planned.theme.pk,
        channel="phone",
        desk_id=slot.desk_id,
        starts=slot.starts,
        pseudonym="Sam",
        phone="0601020304",
    )
    return secret
