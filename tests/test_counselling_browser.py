"""Two counsellors in two browsers press "Call next" together; the waiting-room screen shows both
calls with the right desks. Real login form, real server, real commits."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from counselling.models import Interview
from reception.models import Call, Visit
from tests.browser import PHONE, TABLET, log_in
from tests.counselling_fixtures import make_desk, make_topic, open_session, queue_visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def sit_at(page, user, desk) -> None:
    log_in(page, user.email)
    page.goto("/desk/")
    page.get_by_role("button", name=f"Open {desk.name}").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(desk.name)


def test_two_counsellors_calling_together_get_different_tickets_shown_with_their_desks(
    new_page, centre, settings
):
    settings.LIVE_POLL_SECONDS = 1
    alpha = centre.alpha
    desks = [make_desk(alpha, "Desk 1", "E", order=1), make_desk(alpha, "Desk 2", "E", order=2)]
    for name in ("CV and cover letter", "Interview practice", "Job boards"):
        make_topic(alpha, "E", name)
    visits = [queue_visit(alpha, "E"), queue_visit(alpha, "E")]

    display = new_page()
    display.goto("/display/alpha/")
    expect(display.locator("li.call")).to_have_count(0)

    bob, carol = new_page(TABLET), new_page(TABLET)
    sit_at(bob, centre.counsellor_a, desks[0])
    sit_at(carol, centre.counsellor_b, desks[1])

    # Both press at (nearly) the same instant: neither click waits for its page to load.
    for page in (bob, carol):
        page.get_by_role("button", name="Call next").click(no_wait_after=True)
    codes = []
    for page in (bob, carol):
        code = page.locator(".big-code")
        expect(code).to_be_visible()
        codes.append(code.inner_text().strip())

    assert sorted(codes) == sorted(visit.code for visit in visits)
    assert Call.objects.count() == 2
    for code, desk in zip(codes, desks, strict=True):
        called = Visit.objects.get(pk__in=[v.pk for v in visits], number=int(code[-3:]))
        assert called.desk == desk
        # The screen shows the ticket with the desk that called it (and nobody's name).
        expect(display.locator("li.call", has_text=code)).to_contain_text(desk.name, timeout=2500)
    board = display.locator("#board").inner_text()
    assert centre.partner_a.name not in board and centre.partner_b.name not in board

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    bob.screenshot(path=str(SCREENSHOTS / "desk-called.png"))

    bob.get_by_role("button", name="Start the interview").click()
    expect(bob.get_by_role("button", name="Finish the interview")).to_be_visible()
    bob.get_by_text("Interview practice").click()
    bob.get_by_text("resources suggested").click()
    bob.evaluate("window.scrollTo(0, 0)")
    bob.screenshot(path=str(SCREENSHOTS / "desk-interview.png"))

    bob.get_by_role("button", name="Finish the interview").click()
    expect(bob.locator(".messages")).to_contain_text("Interview recorded.")
    interview = Interview.objects.get(desk=desks[0])
    assert interview.ended_at is not None
    assert [t.name for t in interview.topics.all()] == ["Interview practice"]
    assert list(interview.outcomes.values_list("code", flat=True)) == ["resources"]

    for page in (display, bob, carol):
        assert page.js_errors == []


def test_finish_and_call_next_shows_the_next_ticket_at_the_desk_and_on_the_screen(
    new_page, centre, settings
):
    settings.LIVE_POLL_SECONDS = 1
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 1", "E", order=1)
    first, second = queue_visit(alpha, "E"), queue_visit(alpha, "E")

    display = new_page()
    display.goto("/display/alpha/")
    bob = new_page(TABLET)
    sit_at(bob, centre.counsellor_a, desk)
    bob.get_by_role("button", name="Call next").click()
    expect(bob.locator(".big-code")).to_have_text(first.code)
    bob.get_by_role("button", name="Start the interview").click()
    bob.get_by_text("information given").click()

    bob.get_by_role("button", name="Finish and call next").click()

    expect(bob.locator(".messages")).to_contain_text(
        f"Interview recorded. Ticket {second.code} is called."
    )
    expect(bob.locator(".big-code")).to_have_text(second.code)
    expect(bob.get_by_role("button", name="Start the interview")).to_be_visible()
    expect(display.locator("li.call", has_text=second.code)).to_contain_text(
        desk.name, timeout=2500
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Visit.Status.DONE, Visit.Status.CALLED)
    assert list(Interview.objects.get(visit=first).outcomes.values_list("code", flat=True)) == [
        "information"
    ]
    for page in (display, bob):
        assert page.js_errors == []


def test_a_visitor_referred_on_is_marked_in_the_ticket_list_that_fits_a_phone(new_page, centre):
    """Bob's desk serves jobs and training; Carol's serves training. Bob refers a visitor to
    training with "finish and call next", double-clicked: the visitor is left to Carol, marked
    in Bob's list, whose reason menu and button fit a phone's width."""
    alpha = centre.alpha
    mixed = make_desk(alpha, "Desk 1", "E", "F", order=1)
    open_session(centre.counsellor_b, make_desk(alpha, "Desk 2", "F", order=2))
    visit = queue_visit(alpha, "E")
    bob = new_page(PHONE)
    sit_at(bob, centre.counsellor_a, mixed)
    bob.get_by_role("button", name="Call next").click()
    bob.get_by_role("button", name="Start the interview").click()
    bob.get_by_text("referred to another desk").click()
    bob.select_option("#id_refer_theme", label="Find a training")
    bob.select_option("#id_referral_reason", index=1)

    bob.get_by_role("button", name="Finish and call next").dblclick()

    expect(bob.locator(".messages")).to_contain_text("Only visitors you referred on are waiting")
    bob.get_by_text("Call a specific ticket").click()
    row = bob.locator(".ticket-row", has_text=visit.code)
    expect(row.locator(".badge")).to_have_text("referred on by you")
    assert bob.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    visit.refresh_from_db()
    assert visit.status == Visit.Status.WAITING
    assert Call.objects.count() == 1
    assert bob.js_errors == []
