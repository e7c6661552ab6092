"""Staff log in with e-mail and password; no public sign-up; managers must use TOTP."""

import re

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from django.core import mail
from django.urls import reverse

from citedesmetiers.models import User
from tests.conftest import PASSWORD

DEMO = "demo-password"


def totp_code(secret: str, offset: int = 0) -> str:
    import time

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def test_it_logs_a_counsellor_in_and_out(client, centre):
    response = client.post(
        reverse("account_login"), {"login": "bob@alpha.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("staff_home")
    assert client.get(reverse("staff_home")).wsgi_request.user == centre.counsellor_a
    client.post(reverse("account_logout"))
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated


def test_it_refuses_a_wrong_password(client, centre):
    response = client.post(reverse("account_login"), {"login": "bob@alpha.test", "password": "no"})
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_it_throttles_repeated_failed_logins(client, centre):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "bob@alpha.test", "password": "wrong"})
    response = client.post(
        reverse("account_login"), {"login": "bob@alpha.test", "password": PASSWORD}
    )
    # Even the right password is refused while the account is throttled.
    assert not response.wsgi_request.user.is_authenticated
    assert response.status_code in (200, 429)


def test_there_is_no_public_sign_up(client, db):
    response = client.post(
        reverse("account_signup"),
        {"email": "mallory@example.org", "password1": "x" * 20, "password2": "x" * 20},
    )

    assert not User.objects.filter(email="mallory@example.org").exists()
    assert response.status_code == 200
    assert "signup_closed" in response.templates[0].name or "closed" in response.content.decode()


def test_it_resets_a_password_by_email(client, centre):
    client.post(reverse("account_reset_password"), {"email": "bob@alpha.test"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/key/\S+/)", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    response = client.get(link.group(1), follow=True)
    form_url = response.redirect_chain[-1][0] if response.redirect_chain else link.group(1)
    response = client.post(
        form_url, {"password1": "a new long passphrase 42", "password2": "a new long passphrase 42"}
    )
    assert response.status_code == 302
    centre.counsellor_a.refresh_from_db()
    assert centre.counsellor_a.check_password("a new long passphrase 42")


def test_the_admin_login_goes_through_allauth(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


@pytest.mark.django_db
def test_a_manager_must_enrol_in_totp_then_logs_in_with_a_code(client, centre):
    client.post(reverse("account_login"), {"login": "frank@alpha.test", "password": PASSWORD})
    # Whatever the manager opens, they are sent to enrolment first.
    response = client.get(reverse("staff_home"))
    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")

    # allauth asks for the password once more before changing the second factor.
    response = client.get(reverse("mfa_activate_totp"))
    assert response.url.startswith(reverse("account_reauthenticate"))
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert client.get(reverse("mfa_activate_totp")).status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=centre.manager, type="totp").exists()
    # Enrolled: the manager reaches their menu of screens.
    assert client.get(reverse("staff_home")).status_code == 200

    client.post(reverse("account_logout"))
    response = client.post(
        reverse("account_login"), {"login": "frank@alpha.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert not client.get(reverse("home")).wsgi_request.user.is_authenticated
    # The next step's code is accepted too (MFA_TOTP_TOLERANCE): a code typed as its step ends
    # reaches the server in the next one.
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret, offset=1)})
    assert response.status_code == 302
    assert client.get(reverse("home")).wsgi_request.user == centre.manager


def test_demo_managers_are_spared_mfa_only_when_configured(client, db, settings):
    from django.core.management import call_command

    call_command("seed_demo", "--i-know-this-resets-passwords")
    settings.MFA_REQUIRED_FOR_DEMO = False
    client.post(
        reverse("account_login"), {"login": "manager@demo.test", "password": "demo-password"}
    )
    assert client.get(reverse("staff_home")).status_code == 200

    client.logout()
    settings.MFA_REQUIRED_FOR_DEMO = True
    client.post(
        reverse("account_login"), {"login": "manager@demo.test", "password": "demo-password"}
    )
    assert client.get(reverse("staff_home")).url == reverse("mfa_activate_totp")


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_login_page_offers_no_sign_up_but_the_password_reset(client, db, language):
    response = client.get(reverse("account_login"), headers={"accept-language": language})

    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("account_signup") not in page
    assert "sign up" not in page.lower()
    assert "enregistrer" not in page  # allauth's French "please sign up first"
    assert f'href="{reverse("account_reset_password")}"' in page
    assert 'name="login"' in page and 'name="password"' in page
    explained = {
        "en": "No account yet? Staff accounts are made by a manager of your site.",
        "fr": "Pas encore de compte\u00a0? Les comptes du personnel sont créés par un ou une "
        "responsable de votre site.",
    }
    assert explained[language] in page
