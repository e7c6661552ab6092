"""The plan of Alpha that the tests of a counsellor's own plan and calendar read (Plan)."""

from __future__ import annotations

import datetime as dt

from counselling import planning
from counselling.models import PlanException, PlanMode
from reception.models import Channel
from tests.counselling_fixtures import make_desk, theme


def t(hour: int) -> dt.time:
    return dt.time(hour)


class Plan:
    """Alpha's plan, from today: Bob (counsellor_a, partner A) at Desk 1 on the weekday of
    tomorrow, 10–12, walk-in, and on the weekday after, 9–10, appointments by phone or video; an
    extra session of his in three days at Desk 2, 14–15. Carol (counsellor_b) at Desk 2 while
    Bob is at Desk 1; a session planned for nobody by name; partner A absent in eight days."""

    def __init__(self, centre):
        alpha = centre.alpha
        self.today = alpha.local_date()
        self.desk_1 = make_desk(alpha, "Desk 1", "E", "F", order=1)
        self.desk_2 = make_desk(alpha, "Desk 2", "E", "A", order=2)
        start = self.today - dt.timedelta(days=7)

        def weekly(desk, partner, days_ahead, starts, ends, **fields):
            return planning.plan_session(
                site=alpha,
                desk_id=desk.pk,
                partner_id=partner.pk,
                theme_ids=fields.pop("theme_ids", [theme(alpha, "E").pk]),
                mode=fields.pop("mode", PlanMode.WALK_IN),
                weekday=self.day(days_ahead).weekday(),
                starts=t(starts),
                ends=t(ends),
                valid_from=start,
                **fields,
            )

        bob, carol = centre.counsellor_a, centre.counsellor_b
        self.walk_in = weekly(
            self.desk_1,
            centre.partner_a,
            1,
            10,
            12,
            counsellor_id=bob.pk,
            theme_ids=[theme(alpha, "E").pk, theme(alpha, "F").pk],
        )
        self.appointments = weekly(
            self.desk_1,
            centre.partner_a,
            2,
            9,
            10,
            counsellor_id=bob.pk,
            mode=PlanMode.APPOINTMENTS,
            channels=[Channel.PHONE, Channel.VIDEO],
        )
        self.carols = weekly(self.desk_2, centre.partner_b, 1, 10, 12, counsellor_id=carol.pk)
        self.nobodys = weekly(self.desk_2, centre.partner_a, 2, 9, 10)
        self.extra = planning.add_exception(
            site=alpha,
            day=self.day(3),
            kind=PlanException.Kind.EXTRA_SESSION,
            desk_id=self.desk_2.pk,
            partner_id=centre.partner_a.pk,
            theme_ids=[theme(alpha, "A").pk],
            mode=PlanMode.WALK_IN,
            counsellor_id=bob.pk,
            starts=t(14),
            ends=t(15),
        )
        self.absent = self.day(8)
        planning.add_exception(
            site=alpha,
            day=self.absent,
            kind=PlanException.Kind.PARTNER_ABSENT,
            partner_id=centre.partner_a.pk,
        )

    def day(self, days_ahead: int) -> dt.date:
        return self.today + dt.timedelta(days=days_ahead)

    def every_week(self, days_ahead: int, weeks: int) -> list[dt.date]:
        return [self.day(days_ahead + 7 * week) for week in range(weeks)]
