"""Eight reception tablets log in to one shared account at the same moment, each with the right
password: all eight are let in. Wrong passwords still fill the limit."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from citedesmetiers.roles import Role
from tests.conftest import PASSWORD, make_staff
from tests.threads import in_parallel

TABLETS = 8


@pytest.mark.django_db(transaction=True)
def test_eight_tablets_log_in_to_one_account_at_once(centre, settings):
    # A real password hash: checking it takes long enough for the eight logins to overlap.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    make_staff("tablets@alpha.test", Role.RECEPTION, centre.alpha)

    def tablet(_i: int) -> int:
        return (
            Client()
            .post(reverse("account_login"), {"login": "tablets@alpha.test", "password": PASSWORD})
            .status_code
        )

    answers = in_parallel(TABLETS, tablet)

    assert answers == [302] * TABLETS


def test_wrong_passwords_still_fill_the_limit(centre, client):
    for _ in range(5):
        client.post(reverse("account_login"), {"login": "bob@alpha.test", "password": "wrong"})
    response = client.post(
        reverse("account_login"), {"login": "bob@alpha.test", "password": PASSWORD}
    )
    assert not response.wsgi_request.user.is_authenticated


def test_right_passwords_do_not_count(centre):
    for _ in range(12):
        client = Client()
        response = client.post(
            reverse("account_login"), {"login": "bob@alpha.test", "password": PASSWORD}
        )
        assert response.status_code == 302
