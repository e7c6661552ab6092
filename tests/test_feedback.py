"""Three-tap feedback on the visitor's phone: once the visit is over, at most one answer per
visit token, within 24 hours, keyed to site, day, theme and partners — never a counsellor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from feedback import services
from feedback.models import FeedbackAnswer, FeedbackClaim, FeedbackHelp
from reception import services as reception
from tests.counselling_fixtures import in_english, queue_visit  # noqa: F401 (a fixture)
from tests.feedback_fixtures import ANSWERS, served_visit
from tests.threads import in_parallel

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture(autouse=True)
def _alpha_speaks_english(centre):
    """Visitors' pages speak their visit's language, by default the site's."""
    centre.alpha.language = "en"
    centre.alpha.save(update_fields=["language"])


def url(visit) -> str:
    return f"/t/{visit.token}/feedback/"


def test_it_shows_the_questions_once_the_visit_is_over(centre, client):
    visit = served_visit(centre.alpha, centre.counsellor_a)

    page = client.get(url(visit)).content.decode()

    assert "Did you get what you came for?" in page
    assert page.count('type="radio"') == 9
    assert "<legend>" in page
    assert "<textarea" not in page and 'type="text"' not in page


def test_the_visitors_page_offers_the_questions_once_the_visit_is_over(centre, client):
    done = served_visit(centre.alpha, centre.counsellor_a)
    waiting = queue_visit(centre.alpha, "E")

    assert url(waiting) not in client.get(f"/t/{waiting.token}/").content.decode()
    page = client.get(f"/t/{done.token}/").content.decode()
    # Loaded into the page by htmx, and a plain link without JavaScript.
    assert f'hx-get="{url(done)}?lang=en"' in page
    assert f'href="{url(done)}?lang=en"' in page


def test_three_taps_are_recorded_with_site_day_theme_and_partner(centre, client):
    visit = served_visit(centre.alpha, centre.counsellor_a)

    response = client.post(url(visit), ANSWERS)

    assert response.status_code == 302
    answer = FeedbackAnswer.objects.get()
    assert (answer.site, answer.day, answer.source) == (centre.alpha, visit.local_date, "phone")
    assert answer.theme == visit.first_theme
    assert list(answer.partners.all()) == [centre.partner_a]
    assert (answer.got_what, answer.wait, answer.recommend) == ("yes", "long", "yes")
    assert list(FeedbackHelp.objects.values_list("code", flat=True)) == ["shorter_wait"]
    assert "Thank you!" in client.get(response.url).content.decode()


def test_htmx_gets_the_thank_you_in_place(centre, client):
    visit = served_visit(centre.alpha, centre.counsellor_a)

    response = client.post(url(visit), {"wait": "fine"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    page = response.content.decode()
    assert page.startswith('\n<section id="feedback"') or page.lstrip().startswith("<section")
    assert "Thank you!" in page and "<html" not in page


def test_htmx_gets_a_refusal_in_place_too(centre, client):
    visit = served_visit(centre.alpha, centre.counsellor_a)

    response = client.post(url(visit), {}, headers={"HX-Request": "true"})

    assert response.status_code == 200  # htmx swaps only a 2xx answer in
    assert "Tap at least one answer" in response.content.decode()
    assert not FeedbackAnswer.objects.exists()


def test_an_answer_cannot_be_given_twice(centre, client):
    visit = served_visit(centre.alpha, centre.counsellor_a)
    client.post(url(visit), ANSWERS)

    response = client.post(url(visit), {"got_what": "no"})

    assert response.status_code == 409
    assert "already recorded" in response.content.decode()
    assert FeedbackAnswer.objects.get().got_what == "yes"


def test_nothing_is_recorded_before_the_visit_is_over(centre, client):
    visit = queue_visit(centre.alpha, "E")

    response = client.post(url(visit), ANSWERS)

    assert response.status_code == 409
    assert "once your visit is over" in response.content.decode()
    assert not FeedbackAnswer.objects.exists() and not FeedbackClaim.objects.exists()


def test_a_ticket_missed_at_a_desk_may_still_come_back_so_it_is_not_over(centre, client):
    visit = queue_visit(centre.alpha, "E")
    reception.mark_left(site=centre.alpha, visit_id=visit.pk)

    assert client.post(url(visit), ANSWERS).status_code == 409
    # A visitor who left the queue from their phone is gone for good: their say counts too.
    other = queue_visit(centre.alpha, "E")
    reception.leave_queue(token=other.token)
    assert client.post(url(other), ANSWERS).status_code == 302


def test_nothing_is_recorded_24_hours_after_the_end(centre, client):
    visit = served_visit(
        centre.alpha, centre.counsellor_a, at=timezone.now() - dt.timedelta(days=2)
    )

    assert "for 24 hours after the visit" in client.get(url(visit)).content.decode()
    response = client.post(url(visit), ANSWERS)

    assert response.status_code == 409
    assert not FeedbackAnswer.objects.exists()


def test_the_window_is_24_hours_from_the_end_of_the_visit(centre):
    visit = served_visit(centre.alpha, centre.counsellor_a)
    end = visit.ended_at

    with pytest.raises(services.TooLate):
        services.answer_visit(
            token=visit.token,
            answers=services.Answers(wait="fine"),
            now=end + dt.timedelta(hours=24, seconds=1),
        )
    services.answer_visit(
        token=visit.token, answers=services.Answers(wait="fine"), now=end + dt.timedelta(hours=24)
    )
    assert FeedbackAnswer.objects.count() == 1


def test_an_empty_or_malformed_form_is_refused_with_a_message(centre, client):
    visit = served_visit(centre.alpha, centre.counsellor_a)

    empty = client.post(url(visit), {})
    wrong = client.post(url(visit), {"got_what": "maybe-not", "wait": "fine"})

    assert empty.status_code == 400
    assert "Tap at least one answer" in empty.content.decode()
    assert wrong.status_code == 400
    assert 'value="fine"' in wrong.content.decode()
    assert not FeedbackAnswer.objects.exists() and not FeedbackClaim.objects.exists()


def test_an_unknown_token_is_a_404(client, db):
    assert client.get("/t/not-a-ticket/feedback/").status_code == 404
    assert client.post("/t/not-a-ticket/feedback/", ANSWERS).status_code == 404


def test_the_questions_speak_the_visitors_language(centre, client):
    visit = served_visit(centre.alpha, centre.counsellor_a)

    page = client.get(url(visit) + "?lang=fr").content.decode()

    assert "Avez-vous trouvé ce que vous cherchiez" in page


def test_the_answer_does_not_point_to_the_visit(centre):
    visit = served_visit(centre.alpha, centre.counsellor_a)

    services.answer_visit(token=visit.token, answers=services.Answers(got_what="yes"))

    claim = FeedbackClaim.objects.get()
    assert visit.token not in claim.visit_digest
    answer = FeedbackAnswer.objects.values().get()
    assert visit.token not in str(answer) and str(visit.pk) not in {
        str(v) for v in answer.values()
    } - {
        str(answer["site_id"]),
        str(answer["theme_id"]),
    }


@pytest.mark.skipif(connection.vendor != "postgresql", reason="Races need PostgreSQL.")
@pytest.mark.django_db(transaction=True)
def test_two_tabs_at_once_give_one_answer(centre):
    visit = served_visit(centre.alpha, centre.counsellor_a)

    def send(i: int) -> str:
        try:
            services.answer_visit(token=visit.token, answers=services.Answers(wait="fine"))
        except services.AlreadyAnswered:
            return "refused"
        return "recorded"

    results = in_parallel(4, send)

    assert sorted(results) == ["recorded", "refused", "refused", "refused"]
    assert FeedbackAnswer.objects.count() == 1 and FeedbackClaim.objects.count() == 1
