"""The exit kiosk's feedback (`/feedback/<site-slug>/kiosk/`): set up by reception or a manager of
the site, answers keyed to the site and day only, limited per terminal."""

from __future__ import annotations

import pytest

from feedback import views
from feedback.models import FeedbackAnswer
from tests.counselling_fixtures import in_english  # noqa: F401 (a fixture)
from tests.feedback_fixtures import ANSWERS

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture(autouse=True)
def _alpha_speaks_english(centre):
    """Visitors' pages speak their visit's language, by default the site's."""
    centre.alpha.language = "en"
    centre.alpha.save(update_fields=["language"])


KIOSK = "/feedback/alpha/kiosk/"


@pytest.fixture
def kiosk(centre, client):
    """A browser set up as Alpha's feedback kiosk by Alice (reception), who is then logged out."""
    client.force_login(centre.reception, backend="citedesmetiers.auth_backends.ModelBackend")
    response = client.post(KIOSK + "setup/")
    assert response.status_code == 302 and response.url == KIOSK
    return client


def test_an_ordinary_browser_gets_the_set_up_page_and_cannot_answer(centre, client):
    page = client.get(KIOSK)
    assert page.status_code == 200
    assert "Reception or a manager of the site sets a terminal up" in page.content.decode()

    assert client.post(KIOSK, ANSWERS).status_code == 403
    assert not FeedbackAnswer.objects.exists()


def test_staff_of_the_site_set_the_kiosk_up_and_are_logged_out_of_it(centre, kiosk):
    assert "_auth_user_id" not in kiosk.session
    page = kiosk.get(KIOSK).content.decode()
    assert "Did you get what you came for?" in page
    assert "Log out" not in page


def test_a_visitor_taps_and_the_kiosk_thanks_then_starts_again(centre, kiosk):
    response = kiosk.post(KIOSK, ANSWERS)

    assert response.status_code == 302 and response.url == KIOSK + "?thanks=1"
    answer = FeedbackAnswer.objects.get()
    assert (answer.site, answer.source, answer.theme) == (centre.alpha, "kiosk", None)
    assert answer.day == centre.alpha.local_date()
    assert not answer.partners.exists()
    thanks = kiosk.get(response.url).content.decode()
    assert "Thank you!" in thanks
    assert f'data-feedback-home="{KIOSK}"' in thanks
    assert f'data-feedback-after="{views.KIOSK_THANKS_SECONDS}"' in thanks
    assert f'href="{KIOSK}">Next person' in thanks  # without JavaScript


def test_a_kiosk_of_one_site_is_not_the_kiosk_of_another(centre, kiosk):
    assert kiosk.post("/feedback/beta/kiosk/", ANSWERS).status_code == 403
    assert not FeedbackAnswer.objects.exists()


def test_a_counsellor_or_another_sites_manager_cannot_set_a_kiosk_up(mfa_enrolled, login):
    for persona in (mfa_enrolled.counsellor_a, mfa_enrolled.beta_manager):
        assert login(persona).post(KIOSK + "setup/").status_code == 403
    assert login(None).post(KIOSK + "setup/").status_code == 302  # to the login page


def test_a_terminal_is_limited_per_hour_and_nothing_is_stored_beyond(centre, kiosk, settings):
    for _ in range(views.KIOSK_ANSWERS_PER_HOUR):
        assert kiosk.post(KIOSK, {"wait": "fine"}).status_code == 302

    refused = kiosk.post(KIOSK, {"wait": "fine"})

    assert refused.status_code == 429
    assert "cannot take more answers for now" in refused.content.decode()
    assert FeedbackAnswer.objects.count() == views.KIOSK_ANSWERS_PER_HOUR


def test_an_empty_answer_is_refused_with_a_message(centre, kiosk):
    response = kiosk.post(KIOSK, {})

    assert response.status_code == 400
    assert "Tap at least one answer" in response.content.decode()
    assert not FeedbackAnswer.objects.exists()


def test_an_unknown_site_is_a_404(client, db):
    assert client.get("/feedback/nowhere/kiosk/").status_code == 404
