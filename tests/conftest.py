"""Personas shared by every test: two sites, one staff member per role at site Alpha, a manager
of site Beta (who must not see Alpha), and anonymous visitors (who never log in)."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches

from citedesmetiers.models import OpeningPeriod, Partner, Site, StaffMembership, Theme, User
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from tests.browser import PASSWORD, browser, new_page  # noqa: F401  (fixtures)


def pytest_configure(config):
    """Each xdist worker keys the cache its own way: two workers' databases give the same
    primary keys to different users, and a role cached for one must never answer the other.
    Processes a test starts (real Celery workers) inherit the prefix."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    prefix = f"{django_settings.CACHE_KEY_PREFIX}-{worker}"
    os.environ["CACHE_KEY_PREFIX"] = prefix
    for alias, conf in django_settings.CACHES.items():
        conf["KEY_PREFIX"] = prefix if alias == "default" else f"{prefix}-{alias}"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache(request, settings, django_db_blocker):
    # Rate limits and live-screen counters live in the cache; each test starts from nothing.
    # The database cache is rolled back with a `db` test's transaction, but a transactional
    # test's flush leaves its table (no model owns it): emptied after such a test.
    shared = "DatabaseCache" not in settings.CACHES["default"]["BACKEND"]
    if shared:
        cache.clear()
    caches["live"].clear()  # the change marks, and the waits the screens showed (files here)
    yield
    if shared:
        cache.clear()
    elif _transactional(request):
        with django_db_blocker.unblock():
            cache.clear()


def _transactional(request) -> bool:
    marker = request.node.get_closest_marker("django_db")
    return (
        "transactional_db" in request.fixturenames
        or "live_server" in request.fixturenames
        or bool(marker and (marker.kwargs.get("transaction") or marker.args[:1] == (True,)))
    )


def make_site(slug: str, *, time_zone: str = "Europe/Paris", always_open: bool = True) -> Site:
    site = Site.objects.create(slug=slug, name=f"Site {slug.title()}", time_zone=time_zone)
    if always_open:
        for weekday in range(7):
            OpeningPeriod.objects.create(
                site=site, weekday=weekday, opens=dt.time(0, 0), closes=dt.time(23, 59, 59)
            )
    for order, (letter, name) in enumerate(
        [("E", "Find a job"), ("F", "Find a training"), ("A", "Create a business")]
    ):
        Theme.objects.create(site=site, letter=letter, name=name, order=order)
    return site


def make_staff(
    email: str, role: Role | None, site: Site | None, partner: Partner | None = None, **extra
) -> User:
    """A staff member holding `role` at `site` (across the network when `site` is None)."""
    user = User.objects.create_user(email=email, password=PASSWORD, **extra)
    if role is not None:
        grant_role(user=user, role=role, site=site, partner=partner)
    elif site is not None:
        StaffMembership.objects.create(user=user, site=site, partner=partner)
    return user


@dataclass
class Centre:
    alpha: Site
    beta: Site
    partner_a: Partner
    partner_b: Partner
    reception: User
    counsellor_a: User
    counsellor_b: User
    officer: User
    organiser: User
    manager: User
    beta_manager: User

    def persona(self, name: str) -> User | None:
        return None if name == "anonymous" else getattr(self, name)


@pytest.fixture
def centre(db) -> Centre:
    alpha, beta = make_site("alpha"), make_site("beta")
    partner_a = Partner.objects.create(name="Employment agency", kind=Partner.Kind.EMPLOYMENT)
    partner_b = Partner.objects.create(name="Guidance centre", kind=Partner.Kind.GUIDANCE)
    return Centre(
        alpha=alpha,
        beta=beta,
        partner_a=partner_a,
        partner_b=partner_b,
        reception=make_staff("alice@alpha.test", Role.RECEPTION, alpha),
        counsellor_a=make_staff("bob@alpha.test", Role.COUNSELLOR, alpha, partner_a),
        counsellor_b=make_staff("carol@alpha.test", Role.COUNSELLOR, alpha, partner_b),
        officer=make_staff("dan@alpha.test", Role.INFORMATION_OFFICER, alpha, is_staff=True),
        organiser=make_staff("erin@alpha.test", Role.EVENT_ORGANISER, alpha, is_staff=True),
        # Managers with MFA already enrolled are made by tests that need them; these two are
        # spared enrolment by the `mfa_enrolled` fixture below.
        manager=make_staff("frank@alpha.test", Role.MANAGER, alpha, is_staff=True),
        beta_manager=make_staff("grace@beta.test", Role.MANAGER, beta, is_staff=True),
    )


@pytest.fixture
def mfa_enrolled(centre):
    """Give the two managers a TOTP authenticator, as enrolment would."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    for user in (centre.manager, centre.beta_manager):
        TOTP.activate(user, generate_totp_secret())
    assert Authenticator.objects.filter(type=Authenticator.Type.TOTP).count() == 2
    return centre


@pytest.fixture
def login(client):
    """Log a persona in (or stay anonymous) with the Django test client."""

    def _login(user: User | None):
        client.logout()
        if user is not None:
            client.force_login(user, backend="citedesmetiers.auth_backends.ModelBackend")
        return client

    return _login
