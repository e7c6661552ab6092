"""A site's public page in a real browser, on a phone (390×844) and a tablet (1024×768): nothing
wider than the screen, the themes on the first screen, the heat map whole. Screenshots land in
var/screenshots/ (artefacts, not assertions)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.sync_api import expect

from citedesmetiers.facts import key
from citedesmetiers.models import OpeningPeriod, Theme
from counselling import planning
from counselling.models import PlanMode
from figures.models import DailyStat
from reception import services as reception
from tests.browser import PHONE, TABLET, inside_viewport
from tests.counselling_fixtures import make_desk, open_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def a_real_week(centre) -> None:
    """Monday to Friday 9:00–12:30 and 13:30–17:30, Saturday morning; six themes, one served now,
    one planned later; eight weeks of figures, busy mornings, a few quiet cells."""
    alpha = centre.alpha
    alpha.opening_periods.all().delete()
    for weekday in range(5):
        OpeningPeriod.objects.create(
            site=alpha, weekday=weekday, opens=dt.time(9), closes=dt.time(12, 30)
        )
        OpeningPeriod.objects.create(
            site=alpha, weekday=weekday, opens=dt.time(13, 30), closes=dt.time(17, 30)
        )
    OpeningPeriod.objects.create(site=alpha, weekday=5, opens=dt.time(9), closes=dt.time(12))
    for order, (letter, name) in enumerate(
        [
            ("C", "Change career or develop at work"),
            ("O", "Choose a path after school"),
            ("W", "Work abroad: Europe, Canada and the rest of the world"),
        ],
        start=3,
    ):
        Theme.objects.create(site=alpha, letter=letter, name=name, order=order)
    open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E", "C"))
    for letter in ("E", "E", "C"):
        # "check in anyway": the test runs at any hour, open or not.
        reception.check_in(
            site=alpha, theme_id=alpha.themes.get(letter=letter).pk, override_hours=True
        )
    tomorrow = alpha.local_date() + dt.timedelta(days=1)
    planning.plan_session(
        site=alpha,
        desk_id=make_desk(alpha, "Desk 2", "F", "W").pk,
        partner_id=centre.partner_b.pk,
        theme_ids=list(alpha.themes.filter(letter__in=["F", "W"]).values_list("pk", flat=True)),
        mode=PlanMode.WALK_IN,
        weekday=tomorrow.weekday(),
        starts=dt.time(9),
        ends=dt.time(12),
        valid_from=tomorrow - dt.timedelta(days=7),
    )
    theme_id = alpha.themes.get(letter="E").pk
    today = alpha.local_date()
    rows = []
    for back in range(1, 57):
        day = today - dt.timedelta(days=back)
        if day.weekday() == 6:
            continue
        for hour in range(9, 18 if day.weekday() < 5 else 12):
            n = {9: 2, 10: 6, 11: 5, 14: 3, 15: 2}.get(hour, 1) * (2 if day.weekday() == 0 else 1)
            if day.weekday() == 5:
                # Saturdays: three visits at 9 in three weeks, not enough to be counted.
                n = 1 if hour == 9 and back <= 21 else 0
            if n:
                rows.append(
                    DailyStat(
                        site=alpha,
                        day=day,
                        source="reception",
                        metric="visits",
                        key=key(theme=theme_id, hour=hour, channel="in_person"),
                        value=n,
                    )
                )
    DailyStat.objects.bulk_create(rows)


def test_on_a_phone_the_page_fits_and_shows_the_themes_first(new_page, centre):
    a_real_week(centre)
    phone = new_page(PHONE)
    phone.goto("/s/alpha/")

    themes = phone.locator(".site-themes")
    expect(themes.locator("li")).to_have_count(6)
    assert inside_viewport(phone.get_by_role("heading", name="Your question, now"))
    assert inside_viewport(themes.locator("li").first)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # The heat map is whole on the phone: no scrolling sideways inside it either.
    assert phone.locator(".heat-scroll").evaluate("el => el.scrollWidth <= el.clientWidth")
    saturday = phone.locator(".heat-map tbody tr").first.locator("td").nth(5)
    expect(saturday).to_have_text("few")
    expect(phone.get_by_role("link", name="A4 poster (PDF)")).to_be_visible()
    for link in phone.locator("main a.button").all():
        assert link.bounding_box()["height"] >= 44

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    phone.screenshot(path=str(SCREENSHOTS / "site-page.png"), full_page=True)
    phone.screenshot(path=str(SCREENSHOTS / "site-page-first-screen.png"))
    assert phone.js_errors == []


def test_on_a_tablet_the_page_fits_too(new_page, centre):
    a_real_week(centre)
    tablet = new_page(TABLET)
    tablet.goto("/s/alpha/")

    assert inside_viewport(tablet.locator(".site-themes li").first)
    assert tablet.evaluate("document.documentElement.scrollWidth") <= TABLET["width"]
    tablet.screenshot(path=str(SCREENSHOTS / "site-page-1024x768.png"), full_page=True)
    assert tablet.js_errors == []
