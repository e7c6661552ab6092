"""The plan's coverage: per theme and hour of a weekday, the walk-in desks planned against the
visits of that weekday over the last 8 weeks, gaps flagged; as a page and an A4 landscape PDF."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader

from counselling import planning
from counselling.models import PlanMode
from figures.coverage import coverage
from figures.models import DailyStat
from tests.counselling_fixtures import in_english, make_desk, theme  # noqa: F401

pytestmark = pytest.mark.usefixtures("in_english")

TODAY = dt.date(2026, 3, 18)  # a Wednesday


def visits(site, day, letter, hour, n):
    DailyStat.objects.create(
        site=site,
        day=day,
        source="reception",
        metric="visits",
        key=f"channel=in_person|hour={hour}|theme={theme(site, letter).pk}",
        value=n,
    )


@pytest.fixture
def planned(centre):
    alpha = centre.alpha
    planning.plan_session(
        site=alpha,
        desk_id=make_desk(alpha, "Desk 1", "E").pk,
        partner_id=centre.partner_a.pk,
        theme_ids=[theme(alpha, "E").pk],
        mode=PlanMode.WALK_IN,
        weekday=4,  # Friday
        starts=dt.time(9, 30),
        ends=dt.time(11),
        valid_from=dt.date(2026, 1, 5),
    )
    for week in range(8):  # the 8 Fridays of the 8 whole weeks before this one
        friday = dt.date(2026, 1, 23) + dt.timedelta(weeks=week)
        visits(alpha, friday, "E", 10, 2)  # seen by the desk
        visits(alpha, friday, "E", 14, 1)  # no desk then
        visits(alpha, friday, "F", 9, 32)  # nobody for them
    visits(alpha, dt.date(2026, 3, 10), "E", 15, 50)  # a Tuesday: not Friday's
    visits(alpha, dt.date(2026, 1, 16), "E", 15, 50)  # a Friday before the 8 weeks
    return alpha


def test_desks_against_visits_per_theme_and_hour(planned):
    c = coverage(planned, 4, TODAY)
    assert c.day == dt.date(2026, 3, 20)
    assert (c.since, c.until) == (dt.date(2026, 1, 19), dt.date(2026, 3, 16))
    cells = {theme.letter: dict(zip(c.hours, row, strict=True)) for theme, row in c.rows}
    e, f = cells["E"], cells["F"]
    assert (e[9].desks, e[10].desks, e[11].desks) == (1, 1, 0)  # 9:30–11:00
    assert e[10].visits == 2 and not e[10].gap
    assert e[14].visits == 1 and e[14].gap  # visitors, no desk
    assert f[9].visits == 32 and f[9].gap
    assert e[15].visits == 0 and not e[15].gap
    assert c.gaps == 2


def test_the_page_and_its_print(mfa_enrolled, planned, login):
    client = login(mfa_enrolled.manager)
    page = client.get("/manage/coverage/?day=4").content.decode()
    assert "gap" in page and "Find a job" in page
    assert client.get("/manage/coverage/?day=9").status_code == 200  # unknown: today's weekday
    response = client.get("/manage/coverage.pdf?day=4")
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    box = reader.pages[0].mediabox
    assert box.width > box.height  # landscape
    assert "E · Find" in reader.pages[0].extract_text()
