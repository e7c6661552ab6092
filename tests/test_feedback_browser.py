"""Three-tap feedback in a real browser: on the visitor's phone (390×844) once the visit is over,
the questions come into the page and three taps and "Send" give the thank-you in place; at the
exit kiosk (1024×768) the questions and their button fit the first screen, and the thank-you
gives way to the questions for the next person by itself. Screenshots in var/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from feedback import views
from feedback.models import FeedbackAnswer
from tests.browser import PHONE, TABLET, inside_viewport, log_in
from tests.feedback_fixtures import served_visit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "var" / "screenshots"


def test_three_taps_on_the_phone_once_the_visit_is_over(new_page, centre):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    visit = served_visit(centre.alpha, centre.counsellor_a)
    phone = new_page(PHONE)

    phone.goto(f"/t/{visit.token}/?lang=en")

    questions = phone.locator("#feedback form")
    expect(questions).to_be_visible()  # loaded into the page by htmx
    group = phone.get_by_role("group", name="Did you get what you came for?")
    expect(group).to_be_visible()
    assert inside_viewport(group)
    phone.screenshot(path=SCREENSHOTS / "feedback-phone.png")
    for name in ("Did you get what you came for?", "The wait was…", "Would you recommend"):
        choices = phone.get_by_role("group", name=name).locator("label")
        assert all(box["height"] >= 44 for box in (c.bounding_box() for c in choices.all()))
    phone.get_by_role("group", name="Did you get what you came for?").get_by_label("partly").check()
    phone.get_by_role("group", name="The wait was…").get_by_label("long", exact=True).check()
    phone.get_by_role("group", name="Would you recommend").get_by_label("yes").check()
    phone.get_by_role("button", name="Send my answers").click()

    expect(phone.locator("#feedback")).to_contain_text("Thank you!")
    assert phone.url.endswith(f"/t/{visit.token}/?lang=en")  # in place: no new page
    answer = FeedbackAnswer.objects.get()
    assert (answer.got_what, answer.wait, answer.recommend) == ("partly", "long", "yes")
    assert phone.js_errors == []


def test_the_feedback_page_of_the_phone_fits_its_first_screen(new_page, centre):
    visit = served_visit(centre.alpha, centre.counsellor_a)
    phone = new_page(PHONE)

    phone.goto(f"/t/{visit.token}/feedback/?lang=en")

    send = phone.get_by_role("button", name="Send my answers")
    expect(send).to_be_visible()
    assert inside_viewport(send)
    phone.screenshot(path=SCREENSHOTS / "feedback-phone-page.png")


def test_the_kiosk_takes_three_taps_and_starts_again_by_itself(new_page, centre, monkeypatch):
    monkeypatch.setattr(views, "KIOSK_THANKS_SECONDS", 1)
    kiosk = new_page(TABLET)
    log_in(kiosk, centre.reception.email)
    kiosk.goto("/feedback/alpha/kiosk/?lang=en")
    kiosk.get_by_role("button", name="Use this browser as the feedback kiosk").click()
    kiosk.wait_for_url("**/feedback/alpha/kiosk/")
    kiosk.goto("/feedback/alpha/kiosk/?lang=en")

    send = kiosk.get_by_role("button", name="Send my answers")
    expect(send).to_be_visible()
    assert inside_viewport(send)
    assert kiosk.get_by_role("link", name="Log out").count() == 0
    for label in kiosk.locator(".feedback-question label").all():
        assert label.bounding_box()["height"] >= 44
    kiosk.screenshot(path=SCREENSHOTS / "feedback-kiosk.png")
    kiosk.get_by_role("group", name="Did you get what you came for?").get_by_label("yes").check()
    kiosk.get_by_role("group", name="The wait was…").get_by_label("fine").check()
    send.click()

    expect(kiosk.get_by_role("status")).to_contain_text("Your answers are recorded")
    kiosk.screenshot(path=SCREENSHOTS / "feedback-kiosk-thanks.png")
    assert FeedbackAnswer.objects.get().source == "kiosk"
    # Back to the questions for the next person, in the site's language, with nothing ticked.
    kiosk.wait_for_url("**/feedback/alpha/kiosk/", timeout=10_000)
    expect(kiosk.locator("input:checked")).to_have_count(0)
    expect(kiosk.locator("form.feedback-form")).to_be_visible()
    assert kiosk.js_errors == []
