"""Two counsellors in two browsers press "Call next" together; the waiting-room screen shows both
calls with the right desks. Real login form, real server, real commits."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from counselling.models import Interview
from reception.models import Call, Visit
from resources.models import Resource
from tests.browser import PHONE, TABLET, inside_viewport, log_in
from tests.counselling_fixtures import make_desk, make_topic, open_session, queue_visit, refresh

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
    expect(display.locator("[data-call-id]")).to_have_count(0)

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
        expect(display.locator("[data-call-id]", has_text=code)).to_contain_text(
            desk.name, timeout=2500
        )
    board = display.locator("main.board").inner_text()
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
    expect(display.locator("[data-call-id]", has_text=second.code)).to_contain_text(
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


# --- the desk at its real size (a 1024x768 tablet or PC) ------------------------------------------


def _all_inside_viewport(page, selector: str) -> list[bool]:
    buttons = page.locator(selector)
    expect(buttons.first).to_be_visible()
    return [inside_viewport(button) for button in buttons.all()]


@pytest.mark.parametrize("locale", ["en-GB", "fr-FR"])
def test_the_desk_actions_stay_in_view_at_tablet_size_through_an_interview(
    new_page, centre, locale
):
    """Calling, then during the interview with topics ticked, a referral being chosen and the
    take-away search open with its results: the actions never need a scroll (in French too,
    whose labels are longer)."""
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 1", "E", "F", order=1)
    for name in ("CV and cover letter", "Interview practice", "Job boards", "Rights", "Salary"):
        make_topic(alpha, "E", name)
    for n in range(12):
        Resource.objects.create(title=f"Réussir son entretien {n}", kind=Resource.Kind.BOOK)
    queue_visit(alpha, "E")
    for _ in range(4):
        queue_visit(alpha, "F")
    bob = new_page(TABLET, locale=locale)
    log_in(bob, centre.counsellor_a.email)
    bob.goto("/desk/")
    bob.locator(f"form[action='/desk/open/{desk.pk}/'] button").click()
    bob.locator(".call-next").click()

    # Called: start, call again, did not come, back to the queue.
    assert _all_inside_viewport(bob, ".desk-actions button") == [True] * 4
    bob.screenshot(path=str(SCREENSHOTS / f"desk-called-{locale}.png"))
    bob.locator(".desk-actions form[action='/desk/start/'] button").click()

    finish = ".desk-actions button[form=finish-form]"  # finish, and finish and call next
    assert _all_inside_viewport(bob, finish) == [True, True]
    # The answer's #visit-<id> does not scroll the desk's header away.
    assert "#visit-" in bob.url
    assert bob.evaluate("window.scrollY") == 0
    for pill in bob.locator(".coding .pill").all()[:4]:
        pill.click()
    bob.locator("input[value=referred_desk]").check()
    expect(bob.locator("#id_refer_theme")).to_be_visible()  # the referral's menus show now
    assert bob.locator("#id_refer_theme option").first.inner_text() == "—"
    bob.locator(".take-away-search summary").first.click()
    bob.locator("#take-away-q").fill("entretien")
    expect(bob.locator("#take-away-results .ticket-row")).to_have_count(8)
    assert _all_inside_viewport(bob, finish) == [True, True]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    bob.screenshot(path=str(SCREENSHOTS / f"desk-interview-{locale}.png"))
    # Still there at the end of the page: the bar sticks to the bottom of the window.
    bob.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    assert _all_inside_viewport(bob, finish) == [True, True]
    # The search field shows its whole placeholder.
    field = bob.locator("#take-away-q")
    assert field.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert bob.js_errors == []


def test_the_take_away_search_is_folded_until_used_and_works_without_javascript(
    browser, live_server, centre
):
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 1", "E", order=1)
    guide = Resource.objects.create(title="Réussir son entretien", kind=Resource.Kind.BOOK)
    visit = queue_visit(alpha, "E")
    context = browser.new_context(
        viewport=TABLET, locale="en-GB", base_url=live_server.url, java_script_enabled=False
    )
    try:
        bob = context.new_page()
        log_in(bob, centre.counsellor_a.email)
        bob.goto("/desk/")
        bob.get_by_role("button", name=f"Open {desk.name}").click()
        bob.get_by_role("button", name="Call next").click()
        bob.get_by_role("button", name="Start the interview").click()
        search = bob.get_by_label("Search the catalogue")
        expect(search).to_be_hidden()  # folded
        bob.get_by_text("Add a document").click()
        search.fill("entretien")
        search.press("Enter")
        bob.get_by_role("button", name=f"Add {guide.title} to the list").click()
        # Back on the same search, still open, to add the next document.
        expect(
            bob.get_by_role("button", name=f"Remove {guide.title} from the list")
        ).to_be_visible()
        expect(search).to_have_value("entretien")
        expect(bob.get_by_role("button", name=f"Add {guide.title} to the list")).to_be_visible()
        assert inside_viewport(bob.get_by_role("button", name="Finish the interview"))
        bob.get_by_role("button", name="Finish and call next").click()
        expect(bob.locator(".messages")).to_contain_text("Interview recorded.")
    finally:
        context.close()
    assert refresh(visit).status == Visit.Status.DONE
    assert [item.resource for item in visit.take_away.all()] == [guide]


def test_the_desk_that_calls_a_referred_visitor_says_who_referred_them_and_why(new_page, centre):
    alpha = centre.alpha
    jobs = make_desk(alpha, "Desk 1", "E", order=1)
    training = make_desk(alpha, "Desk 2", "F", order=2)
    visit = queue_visit(alpha, "E")
    bob, carol = new_page(TABLET), new_page(TABLET, locale="fr-FR")
    sit_at(bob, centre.counsellor_a, jobs)
    bob.get_by_role("button", name="Call next").click()
    bob.get_by_role("button", name="Start the interview").click()
    bob.get_by_text("referred to another desk").click()
    bob.select_option("#id_refer_theme", label="Find a training")
    bob.select_option("#id_referral_reason", label="a more specialised question")
    bob.get_by_role("button", name="Finish the interview").click()
    expect(bob.locator(".messages")).to_contain_text("Interview recorded.")

    log_in(carol, centre.counsellor_b.email)
    carol.goto("/desk/")
    carol.locator(f"form[action='/desk/open/{training.pk}/'] button").click()
    carol.locator(".call-next").click()
    expect(carol.locator(".big-code")).to_have_text(visit.code)
    note = carol.locator(".referral-note")
    expect(note).to_contain_text("Personne orientée par Desk 1 depuis le thème E")
    expect(note).to_contain_text("Motif\u00a0: une question plus spécialisée")
    assert inside_viewport(note)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    carol.screenshot(path=str(SCREENSHOTS / "desk-called-referred-fr.png"))
    # Still there once the interview has begun.
    carol.locator(".desk-actions form[action='/desk/start/'] button").click()
    expect(carol.locator(".referral-note")).to_contain_text("Desk 1")
    assert centre.partner_a.name not in note.inner_text()
    for page in (bob, carol):
        assert page.js_errors == []


def test_adding_to_the_take_away_list_keeps_what_is_ticked_in_the_coding_form(new_page, centre):
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 1", "E", order=1)
    make_topic(alpha, "E", "Interview practice")
    guide = Resource.objects.create(title="Réussir son entretien", kind=Resource.Kind.BOOK)
    visit = queue_visit(alpha, "E")
    bob = new_page(TABLET)
    sit_at(bob, centre.counsellor_a, desk)
    bob.get_by_role("button", name="Call next").click()
    bob.get_by_role("button", name="Start the interview").click()
    bob.get_by_text("Interview practice").click()
    bob.get_by_text("resources suggested").click()
    bob.get_by_text("Add a document").click()
    bob.get_by_label("Search the catalogue").fill("entretien")

    bob.get_by_role("button", name=f"Add {guide.title} to the list").click()
    remove = bob.get_by_role("button", name=f"Remove {guide.title} from the list")
    expect(remove).to_be_visible()
    # Only the list was redrawn: the ticks stay, the search stays open on its words.
    expect(bob.get_by_label("Interview practice")).to_be_checked()
    expect(bob.get_by_label("resources suggested")).to_be_checked()
    expect(bob.get_by_label("Search the catalogue")).to_have_value("entretien")
    assert [item.resource for item in visit.take_away.all()] == [guide]

    remove.click()
    expect(remove).to_have_count(0)
    expect(bob.get_by_label("Interview practice")).to_be_checked()
    assert not visit.take_away.exists()
    bob.get_by_role("button", name="Finish the interview").click()
    expect(bob.locator(".messages")).to_contain_text("Interview recorded.")
    outcomes = Interview.objects.get(visit=visit).outcomes.values_list("code", flat=True)
    assert list(outcomes) == ["resources"]
    assert bob.js_errors == []
