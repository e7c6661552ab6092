"""Roles are held at a place — a site, a Cité (all its sites and associated centres) or the whole
network — and every check asks "this role, here?": a counsellor at Alpha who organises events at
Beta is no organiser at Alpha."""

from __future__ import annotations

import datetime as dt

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from citedesmetiers.access import holds, partner_at, staff_sites
from citedesmetiers.models import Cite, Partner, Site, StaffMembership
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from events.models import Event
from tests.conftest import make_site, make_staff


def event_at(site: Site, title: str) -> Event:
    start = timezone.now() + dt.timedelta(days=3)
    return Event.objects.create(
        site=site, title=title, starts_at=start, ends_at=start + dt.timedelta(hours=2)
    )


@pytest.fixture
def bob_organises_at_beta(centre):
    grant_role(user=centre.counsellor_a, role=Role.EVENT_ORGANISER, site=centre.beta)
    return centre.counsellor_a


def test_a_role_held_at_one_site_is_not_held_at_another(centre, bob_organises_at_beta):
    bob = bob_organises_at_beta
    assert holds(bob, centre.beta, Role.EVENT_ORGANISER)
    assert not holds(bob, centre.alpha, Role.EVENT_ORGANISER)
    assert holds(bob, centre.alpha, Role.COUNSELLOR)
    assert not holds(bob, centre.beta, Role.COUNSELLOR)


def test_the_organiser_screen_is_the_site_where_the_role_is_held(
    centre, bob_organises_at_beta, login
):
    alpha_event = event_at(centre.alpha, "Alpha workshop")
    event_at(centre.beta, "Beta workshop")
    client = login(bob_organises_at_beta)
    client.post("/staff/site/", {"site": centre.alpha.pk})  # Alpha is his chosen site

    page = client.get("/events/manage/")
    assert page.status_code == 200
    assert page.wsgi_request.site == centre.beta
    assert "Beta workshop" in page.content.decode()
    assert "Alpha workshop" not in page.content.decode()
    # Alpha's events are not his to organise, whichever address he types.
    assert client.get(f"/events/manage/{alpha_event.pk}/edit/").status_code == 404
    before = Event.objects.get(pk=alpha_event.pk).status
    client.post(f"/events/manage/{alpha_event.pk}/publish/")
    assert Event.objects.get(pk=alpha_event.pk).status == before


def test_a_counsellor_at_one_site_gets_no_desk_at_the_other(centre, bob_organises_at_beta, login):
    client = login(bob_organises_at_beta)
    client.post("/staff/site/", {"site": centre.beta.pk})
    page = client.get("/desk/")
    assert page.status_code == 200
    assert page.wsgi_request.site == centre.alpha  # his desk is at Alpha, where he counsels


def test_a_membership_without_roles_opens_nothing(centre, login):
    somebody = make_staff("ivy@alpha.test", None, centre.alpha)
    assert staff_sites(somebody) == []
    assert login(somebody).get("/reception/").status_code == 403


@pytest.fixture
def nord(centre) -> Cite:
    """A Cité of Alpha and Beta; Gamma belongs to another."""
    cite = Cite.objects.create(slug="nord", name="Cité des métiers du Nord")
    Site.objects.filter(pk__in=[centre.alpha.pk, centre.beta.pk]).update(cite=cite)
    gamma = make_site("gamma")
    gamma.cite = Cite.objects.create(slug="sud", name="Cité des métiers du Sud")
    gamma.save()
    return cite


@pytest.fixture
def cite_manager(nord):
    user = make_staff("henri@nord.test", None, None, is_staff=True)
    grant_role(user=user, role=Role.MANAGER, cite=nord)
    TOTP.activate(user, generate_totp_secret())
    return user


def test_a_cite_manager_manages_every_site_of_the_cite_and_no_other(centre, nord, cite_manager):
    managed = {site.slug for site in staff_sites(cite_manager, Role.MANAGER)}
    assert managed == {"alpha", "beta"}
    gamma = Site.objects.get(slug="gamma")
    assert not holds(cite_manager, gamma, Role.MANAGER)


def test_a_cite_manager_reads_each_sites_dashboard_and_not_another_cites(
    centre, nord, cite_manager, login
):
    client = login(cite_manager)
    assert client.get("/manage/?site=alpha").status_code == 200
    assert client.get("/manage/?site=beta").status_code == 200
    assert client.get("/manage/?site=gamma").status_code == 403
    compared = client.get("/manage/?site=all").context["by_site"]
    assert [name for name, _figures in compared] == ["Site Alpha", "Site Beta"]


def test_a_site_moved_out_of_the_cite_leaves_its_managers_at_the_next_request(
    centre, nord, cite_manager, login
):
    client = login(cite_manager)
    assert client.get("/manage/?site=beta").status_code == 200
    beta = Site.objects.get(pk=centre.beta.pk)
    beta.cite = Cite.objects.get(slug="sud")
    beta.save()
    assert client.get("/manage/?site=beta").status_code == 403


def test_the_partner_of_a_site_membership_comes_before_the_cites_and_the_networks(centre, nord):
    alpha, beta = Site.objects.get(slug="alpha"), Site.objects.get(slug="beta")
    elsewhere = Partner.objects.create(name="Chamber", kind=Partner.Kind.CHAMBER)
    network = Partner.objects.create(name="Network body", kind=Partner.Kind.OTHER)
    zoe = make_staff("zoe@nord.test", None, None)
    grant_role(user=zoe, role=Role.COUNSELLOR, partner=network)
    assert partner_at(zoe, alpha) == network
    grant_role(user=zoe, role=Role.COUNSELLOR, cite=nord, partner=elsewhere)
    assert partner_at(zoe, alpha) == elsewhere
    grant_role(user=zoe, role=Role.COUNSELLOR, site=alpha, partner=centre.partner_b)
    assert partner_at(zoe, alpha) == centre.partner_b
    assert partner_at(zoe, beta) == elsewhere
    assert partner_at(zoe, Site.objects.get(slug="gamma")) == network


def test_a_membership_is_at_a_site_or_at_a_cite_never_both(centre, nord):
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffMembership.objects.create(user=centre.reception, cite=nord, site=centre.beta)


def test_a_promotion_to_manager_checks_two_factor_enrolment_again(centre, login, settings):
    settings.MFA_REQUIRED_FOR_DEMO = True
    client = login(centre.counsellor_a)
    assert client.get("/desk/").status_code == 200  # checked once: a counsellor needs no TOTP

    StaffMembership.objects.get(user=centre.counsellor_a).roles.add(
        Group.objects.get(name=Role.MANAGER.value)
    )

    response = client.get("/desk/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/2fa/totp/activate")


def test_the_partner_comes_from_the_membership_that_makes_a_counsellor(centre, nord):
    alpha = Site.objects.get(slug="alpha")
    chamber = Partner.objects.create(name="Chamber", kind=Partner.Kind.CHAMBER)
    zoe = make_staff("zoe@nord.test", None, None)
    grant_role(user=zoe, role=Role.RECEPTION, site=alpha, partner=chamber)  # not counselling
    grant_role(user=zoe, role=Role.COUNSELLOR, cite=nord, partner=centre.partner_b)
    assert partner_at(zoe, alpha) == centre.partner_b
