"""Every address of the desk is a row of the access matrix (tests/test_access.py)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.urls import get_resolver, resolve

from tests.test_access import ACCESS, Placeholders, build


def test_every_counselling_address_is_in_the_access_matrix(mfa_enrolled):
    values = Placeholders(mfa_enrolled)
    covered = {resolve(urlsplit(build(t, values)).path).view_name for t, _m, _e in ACCESS}
    names = {
        f"{name}:{p.name}"
        for name in ("counselling", "reception_appointments")
        for p in get_resolver().namespace_dict[name][1].url_patterns
    }

    assert names - covered == set()
