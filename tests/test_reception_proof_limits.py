"""A proof of attendance is checked at /verify/ for a year, not for ever, and not by a script
reading codes by the thousand: typing is limited per address, per network and for everyone, and
still works when nothing can count (a proof names nobody)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from citedesmetiers import limits
from citedesmetiers.cache import CacheUnavailable
from reception import services, views
from reception.models import ProofOfAttendance
from reception.proof import forget_old_proofs, proof_code
from tests.conftest import make_site


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def site(db):
    return make_site("alpha")


def slip(site, arrived: dt.datetime) -> str:
    visit, _ = services.check_in(site=site, theme_id=site.themes.first().pk, now=arrived)
    return proof_code(visit)


def test_typing_codes_is_limited_per_address(site, client, monkeypatch):
    monkeypatch.setitem(views.VERIFY_LIMITS, "per_address", 2)
    code = slip(site, timezone.now())
    for _ in range(2):
        assert client.get("/verify/", {"code": "WRONG-CODE"}).status_code == 404

    refused = client.get("/verify/", {"code": code})

    assert refused.status_code == 429
    assert "Too many codes were checked from here" in refused.content.decode()
    # Someone else, elsewhere, is not held back.
    assert client.get("/verify/", {"code": code}, REMOTE_ADDR="10.9.8.7").status_code == 200


def test_the_empty_form_is_not_counted(site, client, monkeypatch):
    monkeypatch.setitem(views.VERIFY_LIMITS, "per_address", 1)
    for _ in range(3):
        assert client.get("/verify/").status_code == 200
    assert client.get("/verify/", {"code": slip(site, timezone.now())}).status_code == 200


def test_without_a_cache_to_count_a_proof_is_still_checked(site, client, monkeypatch):
    def down(*args, **kwargs):
        raise CacheUnavailable

    monkeypatch.setattr(limits, "count_hits", down)

    response = client.get("/verify/", {"code": slip(site, timezone.now())})

    assert response.status_code == 200
    assert "This proof is genuine" in response.content.decode()


def test_codes_older_than_the_retention_are_forgotten(site, client, settings):
    settings.PROOF_RETENTION_DAYS = 30
    now = timezone.now()
    old = slip(site, now - dt.timedelta(days=31))
    recent = slip(site, now - dt.timedelta(days=29))

    assert forget_old_proofs(now=now) == 1

    assert ProofOfAttendance.objects.count() == 1
    assert client.get(f"/verify/{old}/").status_code == 404
    assert client.get(f"/verify/{recent}/").status_code == 200
