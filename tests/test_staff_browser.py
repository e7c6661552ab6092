"""Each role logs in through the real login form and lands on its own screen."""

import pytest
from playwright.sync_api import expect

from tests.browser import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANDINGS = [
    ("reception", "/reception/", "h1"),
    ("counsellor_a", "/desk/", "h1"),
    ("officer", "/catalogue/staff/", "h1"),
    ("organiser", "/events/manage/", "h1"),
]


@pytest.mark.parametrize(("persona", "path", "heading"), LANDINGS)
def test_each_role_lands_on_its_screen(new_page, centre, persona, path, heading):
    user = centre.persona(persona)
    page = new_page()
    log_in(page, user.email)
    assert page.url.endswith(path) or path in page.url, page.url
    expect(page.locator(heading).first).to_be_visible()
    assert page.js_errors == []


def test_a_manager_is_sent_to_two_factor_enrolment(new_page, centre):
    page = new_page()
    log_in(page, centre.manager.email)
    page.goto("/reception/")
    # Enrolment first: allauth asks for the password again before showing the TOTP secret.
    assert "/accounts/" in page.url
    assert "/reception/" not in page.url.split("?")[0]
    assert page.js_errors == []


def test_an_enrolled_manager_lands_on_the_screen_menu(new_page, mfa_enrolled):
    import time

    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
    from allauth.mfa.utils import decrypt

    page = new_page()
    log_in(page, mfa_enrolled.manager.email)
    assert "/accounts/2fa/authenticate/" in page.url
    stored = Authenticator.objects.get(user=mfa_enrolled.manager, type="totp").data["secret"]
    secret = decrypt(stored)
    page.fill("input[name=code]", format_hotp_value(hotp_value(secret, int(time.time()) // 30)))
    page.locator("input[name=code]").press("Enter")
    page.wait_for_load_state()
    assert page.url.endswith("/staff/")
    expect(page.get_by_role("link", name="Reception")).to_be_visible()
    assert page.js_errors == []
