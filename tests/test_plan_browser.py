"""The presence plan in a real browser on a 1024×768 tablet: Frank, manager at Alpha, adds a
weekly session through the form and finds it in the week, which fits the screen's width; a
counsellor's desk chooser proposes the plan's desk with the plan's themes ticked.
The screenshot lands in var/screenshots/ (an artefact for the README, not an assertion)."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from playwright.sync_api import expect

from citedesmetiers.models import Partner
from counselling import planning
from counselling.models import PlanException, PlanMode, PlannedSession
from tests.browser import TABLET, inside_viewport, log_in
from tests.counselling_fixtures import make_desk, theme

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def log_in_with_totp(page, user) -> None:
    log_in(page, user.email)
    secret = decrypt(Authenticator.objects.get(user=user, type="totp").data["secret"])
    page.fill("input[name=code]", format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_load_state()


def a_busy_week(centre, monday: dt.date) -> list:
    """Six desks and four partners over the week, an appointments afternoon and a holiday."""
    alpha = centre.alpha
    desks = [make_desk(alpha, f"Desk {n}", "E", "F", "A", order=n) for n in range(1, 7)]
    partners = [
        centre.partner_a,
        centre.partner_b,
        Partner.objects.create(name="Chamber of commerce and industry", kind="chamber"),
        Partner.objects.create(name="Business-creation association", kind="business_creation"),
    ]
    letters = ["E", "F", "A"]
    for weekday in range(5):
        for n, desk in enumerate(desks[:4]):
            morning = n % 2 == 0
            planning.plan_session(
                site=alpha,
                desk_id=desk.pk,
                partner_id=partners[(weekday + n) % 4].pk,
                theme_ids=[theme(alpha, letter).pk for letter in letters[: 1 + n % 3]],
                mode=PlanMode.WALK_IN,
                weekday=weekday,
                starts=dt.time(9, 30) if morning else dt.time(13, 30),
                ends=dt.time(12, 30) if morning else dt.time(17, 0),
                valid_from=monday,
            )
    for weekday in (1, 3):
        planning.plan_session(
            site=alpha,
            desk_id=desks[5].pk,
            partner_id=partners[1].pk,
            theme_ids=[theme(alpha, "F").pk],
            mode=PlanMode.APPOINTMENTS,
            channels=["phone", "video"],
            weekday=weekday,
            starts=dt.time(14),
            ends=dt.time(17),
            valid_from=monday,
            counsellor_id=centre.counsellor_b.pk,
        )
    planning.add_exception(
        site=alpha,
        day=monday + dt.timedelta(days=2),
        kind=PlanException.Kind.PARTNER_ABSENT,
        partner_id=partners[2].pk,
        label="Staff training",
    )
    planning.add_exception(
        site=alpha,
        day=monday + dt.timedelta(days=4),
        kind=PlanException.Kind.PUBLIC_HOLIDAY,
        label="Bank holiday",
    )
    return desks


def test_a_manager_adds_a_weekly_session_and_sees_it_in_the_week(new_page, mfa_enrolled):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    centre = mfa_enrolled
    today = centre.alpha.local_date()
    monday = today - dt.timedelta(days=today.weekday())
    desks = a_busy_week(centre, monday)
    page = new_page()
    log_in_with_totp(page, centre.manager)

    page.goto("/manage/")
    page.get_by_role("link", name="Presence plan").click()
    page.wait_for_load_state()
    add = page.get_by_role("link", name="Add a session")
    assert inside_viewport(add)
    add.click()
    page.wait_for_load_state()

    page.get_by_label("Day of the week").select_option(label="Saturday")
    page.get_by_label(re.compile(r"^Starts at")).fill("10:00")
    page.get_by_label(re.compile(r"^Ends at")).fill("12:30")
    page.get_by_label(re.compile(r"^Desk")).select_option(label="Desk 5")
    page.get_by_label(re.compile(r"^Partner")).select_option(label="Guidance centre")
    page.get_by_label("Create a business").check()
    page.get_by_label("Find a job").check()
    page.screenshot(path=str(SCREENSHOTS / "planning-add-session.png"), full_page=True)
    page.get_by_role("button", name="Add to the plan").click()
    page.wait_for_load_state()

    session = PlannedSession.objects.get(weekday=5)
    assert (session.desk, session.valid_from, session.mode) == (desks[4], monday, PlanMode.WALK_IN)
    expect(page.locator(".message.success")).to_contain_text("Desk 5 is planned every Saturday")
    saturday = page.locator(".plan-day").nth(5)
    expect(saturday.get_by_role("heading")).to_contain_text("Saturday")
    expect(saturday.locator(".plan-session")).to_contain_text("10:00–12:30")
    expect(saturday.locator(".plan-session")).to_contain_text("Desk 5")
    assert page.locator(".plan-day").count() == 6  # nothing on Sunday: Monday to Saturday
    assert page.evaluate("document.documentElement.scrollWidth") <= 1024
    assert inside_viewport(page.get_by_role("link", name="Add a session"))
    page.screenshot(path=str(SCREENSHOTS / "planning-week.png"), full_page=True)
    assert page.js_errors == []


def test_the_desk_chooser_ticks_the_plans_themes_on_a_tablet(new_page, centre):
    """Bob's partner has Desk 3 all day for Find a job only: on the desk tablet it comes first,
    with that theme ticked; he ticks Create a business too and opens it."""
    alpha = centre.alpha
    for n in (1, 2, 4, 5, 6):
        make_desk(alpha, f"Desk {n}", "E", "F", "A", order=n)
    planned = make_desk(alpha, "Desk 3", "E", "F", "A", order=3)
    planning.plan_session(
        site=alpha,
        desk_id=planned.pk,
        partner_id=centre.partner_a.pk,
        theme_ids=[theme(alpha, "E").pk],
        mode=PlanMode.WALK_IN,
        weekday=alpha.local_date().weekday(),
        starts=dt.time(0),
        ends=dt.time(23, 59),
        valid_from=alpha.local_date(),
    )
    page = new_page(TABLET)
    log_in(page, centre.counsellor_a.email)
    page.goto("/desk/")
    first = page.locator(".desk-tile").first
    expect(first.locator("strong")).to_have_text("Desk 3")
    themes = first.get_by_role("group", name="Themes to serve (as planned)")
    expect(themes.get_by_label("Find a job")).to_be_checked()
    expect(themes.get_by_label("Find a training")).not_to_be_checked()
    expect(themes.get_by_label("Create a business")).not_to_be_checked()
    opening = first.get_by_role("button", name="Open Desk 3")
    assert inside_viewport(opening)
    for label in themes.locator("label").all():
        assert label.bounding_box()["height"] >= 44
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "desk-chooser.png"))
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    themes.get_by_label("Create a business").check()
    opening.click()
    expect(page.locator("h1")).to_contain_text("Desk 3")
    session = planned.sessions.get()
    assert {t.letter for t in session.themes.all()} == {"E", "A"}
    assert not session.outside_plan
    assert page.js_errors == []
