"""The administration, as each manager may use it: a site's manager sees and changes only their
site's objects and the staff working only there below manager; promotions, network-wide roles,
staff and superuser flags and passwords are superusers' only. Each row of the access matrix is
tried by a request, and a refused change must leave the database as it was."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command

from citedesmetiers import audit, outbox
from citedesmetiers.models import AuditEntry, Cite, Partner, Site, StaffMembership, Theme, User
from citedesmetiers.roles import ROLE_PERMISSIONS, Role
from citedesmetiers.services import grant_role
from tests.admin_forms import form_data
from tests.conftest import PASSWORD, make_staff


@pytest.fixture
def frank(mfa_enrolled, login):
    """Alpha's manager, in the administration."""
    return login(mfa_enrolled.manager)


@pytest.fixture
def root(mfa_enrolled):
    user = User.objects.create_superuser(email="root@network.test", password=PASSWORD)
    TOTP.activate(user, generate_totp_secret())
    return user


def role(name: Role) -> Group:
    return Group.objects.get(name=name.value)


def page_ids(response) -> set[int]:
    return {obj.pk for obj in response.context["cl"].result_list}


# --- what a site's manager sees -------------------------------------------------------------------


def test_a_manager_lists_only_her_sites(mfa_enrolled, frank):
    response = frank.get("/admin/citedesmetiers/site/")
    assert response.status_code == 200
    assert page_ids(response) == {mfa_enrolled.alpha.pk}


def test_a_manager_cannot_open_or_rename_another_site(mfa_enrolled, frank):
    beta = mfa_enrolled.beta
    assert frank.get(f"/admin/citedesmetiers/site/{beta.pk}/change/").status_code == 302
    alpha_page = frank.get(f"/admin/citedesmetiers/site/{mfa_enrolled.alpha.pk}/change/")
    data = form_data(alpha_page, "site_form", name="Renamed by Frank")
    frank.post(f"/admin/citedesmetiers/site/{beta.pk}/change/", data)
    assert Site.objects.get(pk=beta.pk).name == "Site Beta"


def test_a_manager_renames_her_own_site(mfa_enrolled, frank):
    alpha = mfa_enrolled.alpha
    page = frank.get(f"/admin/citedesmetiers/site/{alpha.pk}/change/")
    response = frank.post(
        f"/admin/citedesmetiers/site/{alpha.pk}/change/",
        form_data(page, "site_form", name="Site Alpha-Nord"),
    )
    assert response.status_code == 302, response.context["errors"]
    assert Site.objects.get(pk=alpha.pk).name == "Site Alpha-Nord"


def test_a_manager_sees_and_makes_themes_of_her_sites_only(mfa_enrolled, frank):
    response = frank.get("/admin/citedesmetiers/theme/")
    assert {t.site_id for t in response.context["cl"].result_list} == {mfa_enrolled.alpha.pk}
    beta_theme = Theme.objects.filter(site=mfa_enrolled.beta).first()
    assert frank.get(f"/admin/citedesmetiers/theme/{beta_theme.pk}/change/").status_code == 302
    frank.post(
        "/admin/citedesmetiers/theme/add/",
        {"site": mfa_enrolled.beta.pk, "name": "Planted", "letter": "P", "colour": "#123456"},
    )
    assert not Theme.objects.filter(name="Planted").exists()


def test_a_manager_lists_only_the_staff_who_work_only_below_her(mfa_enrolled, frank):
    response = frank.get("/admin/citedesmetiers/user/")
    emails = {u.email for u in response.context["cl"].result_list}
    assert emails == {
        "alice@alpha.test",
        "bob@alpha.test",
        "carol@alpha.test",
        "dan@alpha.test",
        "erin@alpha.test",
    }


@pytest.mark.parametrize("whom", ["beta_manager", "manager", "superuser"])
def test_a_manager_cannot_open_another_manager_herself_or_a_superuser(
    mfa_enrolled, frank, root, whom
):
    user = root if whom == "superuser" else getattr(mfa_enrolled, whom)
    assert frank.get(f"/admin/citedesmetiers/user/{user.pk}/change/").status_code == 302


def test_a_manager_cannot_deactivate_another_manager(mfa_enrolled, frank):
    grace = mfa_enrolled.beta_manager
    frank.post(
        f"/admin/citedesmetiers/user/{grace.pk}/change/",
        {"email": grace.email, "is_active": ""},
    )
    assert User.objects.get(pk=grace.pk).is_active


@pytest.mark.parametrize("whom", ["reception", "superuser"])
def test_a_manager_never_sets_a_password(mfa_enrolled, frank, root, whom):
    user = root if whom == "superuser" else mfa_enrolled.reception
    url = f"/admin/citedesmetiers/user/{user.pk}/password/"
    assert frank.get(url).status_code in (302, 403)
    frank.post(url, {"password1": "taken over 12345", "password2": "taken over 12345"})
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_a_managers_form_has_no_flags_and_no_password(mfa_enrolled, frank):
    page = frank.get(f"/admin/citedesmetiers/user/{mfa_enrolled.reception.pk}/change/")
    fields = set(page.context["adminform"].form.fields)
    assert {"is_staff", "is_superuser", "password", "groups", "user_permissions"} & fields == set()
    assert "/password/" not in page.content.decode()


def test_flags_posted_by_a_manager_are_ignored(mfa_enrolled, frank):
    alice = mfa_enrolled.reception
    page = frank.get(f"/admin/citedesmetiers/user/{alice.pk}/change/")
    data = form_data(page, "user_form", is_staff="on", is_superuser="on", first_name="Alice")
    response = frank.post(f"/admin/citedesmetiers/user/{alice.pk}/change/", data)
    assert response.status_code == 302, response.context["errors"]
    alice = User.objects.get(pk=alice.pk)
    assert alice.first_name == "Alice"
    assert not alice.is_staff and not alice.is_superuser


# --- memberships and roles ------------------------------------------------------------------------


def test_a_manager_cannot_give_herself_another_site(mfa_enrolled, frank):
    frank.post(
        "/admin/citedesmetiers/staffmembership/add/",
        {
            "user": mfa_enrolled.manager.pk,
            "site": mfa_enrolled.beta.pk,
            "roles": [role(Role.MANAGER).pk],
        },
    )
    frank.post(
        "/admin/citedesmetiers/staffmembership/add/",
        {"user": mfa_enrolled.reception.pk, "site": mfa_enrolled.beta.pk},
    )
    assert (
        not StaffMembership.objects.filter(site=mfa_enrolled.beta)
        .exclude(user=mfa_enrolled.beta_manager)
        .exists()
    )


def test_a_manager_cannot_make_anyone_a_manager_or_network_staff(mfa_enrolled, frank):
    alice = mfa_enrolled.reception
    membership = StaffMembership.objects.get(user=alice)
    url = f"/admin/citedesmetiers/staffmembership/{membership.pk}/change/"
    page = frank.get(url)
    assert page.status_code == 200
    frank.post(url, form_data(page, "staffmembership_form", roles=[role(Role.MANAGER).pk]))
    frank.post(url, form_data(page, "staffmembership_form", site=""))
    membership = StaffMembership.objects.get(pk=membership.pk)
    assert set(membership.roles.values_list("name", flat=True)) == {"reception"}
    assert membership.site_id == mfa_enrolled.alpha.pk


def test_a_manager_gives_a_role_at_her_site_and_it_is_audited(mfa_enrolled, frank):
    alice = mfa_enrolled.reception
    membership = StaffMembership.objects.get(user=alice)
    url = f"/admin/citedesmetiers/staffmembership/{membership.pk}/change/"
    page = frank.get(url)
    response = frank.post(
        url,
        form_data(
            page, "staffmembership_form", roles=[role(Role.RECEPTION).pk, role(Role.COUNSELLOR).pk]
        ),
    )
    assert response.status_code == 302, response.context["errors"]
    assert set(membership.roles.values_list("name", flat=True)) == {"reception", "counsellor"}
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.subject) == (
        mfa_enrolled.manager,
        AuditEntry.Action.ROLE_GIVEN,
        "alice@alpha.test",
    )
    assert entry.detail == "counsellor @ Site Alpha"
    assert entry.site == mfa_enrolled.alpha


def test_a_manager_adds_an_account_without_a_password_and_a_reset_mail_goes(
    mfa_enrolled, frank, django_capture_on_commit_callbacks
):
    page = frank.get("/admin/citedesmetiers/user/add/")
    assert "password1" not in page.context["adminform"].form.fields
    data = form_data(
        page,
        "user_form",
        email="new@alpha.test",
        first_name="Nell",
        **{
            "memberships-0-site": str(mfa_enrolled.alpha.pk),
            "memberships-0-roles": [str(role(Role.COUNSELLOR).pk)],
            "memberships-0-partner": str(mfa_enrolled.partner_a.pk),
        },
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = frank.post("/admin/citedesmetiers/user/add/", data)
    assert response.status_code == 302, response.context["errors"]
    nell = User.objects.get(email="new@alpha.test")
    assert not nell.has_usable_password()
    assert [m.to for m in mail.outbox] == [["new@alpha.test"]]
    assert re.search(r"/accounts/password/reset/key/", mail.outbox[0].body)
    assert AuditEntry.objects.filter(subject="new@alpha.test", action="role_given").count() == 1


def test_a_new_account_needs_a_role_at_one_of_her_sites(mfa_enrolled, frank):
    page = frank.get("/admin/citedesmetiers/user/add/")
    response = frank.post(
        "/admin/citedesmetiers/user/add/",
        form_data(page, "user_form", email="orphan@alpha.test"),
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="orphan@alpha.test").exists()


def test_staff_shared_with_another_site_keep_their_account_fields(mfa_enrolled, frank):
    bob = mfa_enrolled.counsellor_a
    grant_role(user=bob, role=Role.COUNSELLOR, site=mfa_enrolled.beta)
    page = frank.get(f"/admin/citedesmetiers/user/{bob.pk}/change/")
    assert page.status_code == 200
    frank.post(
        f"/admin/citedesmetiers/user/{bob.pk}/change/",
        form_data(page, "user_form", email="stolen@evil.test", is_active=None),
    )
    bob = User.objects.get(pk=bob.pk)
    assert bob.email == "bob@alpha.test"
    assert bob.is_active
    # His Beta membership is not hers to see.
    assert StaffMembership.objects.filter(user=bob, site=mfa_enrolled.beta).exists()
    shown = {f.instance.site_id for f in page.context["inline_admin_formsets"][0].formset.forms}
    assert mfa_enrolled.beta.pk not in shown


def test_a_manager_sends_a_password_reset_instead(mfa_enrolled, frank):
    alice = mfa_enrolled.reception
    response = frank.post(
        "/admin/citedesmetiers/user/",
        {
            "action": "send_password_reset",
            "_selected_action": [alice.pk, mfa_enrolled.beta_manager.pk],
        },
    )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [["alice@alpha.test"]]


# --- partners, Cités, the audit log ---------------------------------------------------------------


def test_a_partner_shared_with_another_site_is_not_hers_to_rename(mfa_enrolled, frank):
    shared = mfa_enrolled.partner_a
    grant_role(
        user=mfa_enrolled.beta_manager, role=Role.COUNSELLOR, site=mfa_enrolled.beta, partner=shared
    )
    mine = mfa_enrolled.partner_b  # only Carol, at Alpha
    for partner, expected in ((shared, "Employment agency"), (mine, "Guidance centre (Nord)")):
        frank.post(
            f"/admin/citedesmetiers/partner/{partner.pk}/change/",
            {"name": "Guidance centre (Nord)", "kind": partner.kind, "active": "on"},
        )
        assert Partner.objects.get(pk=partner.pk).name == expected


def test_a_cite_manager_manages_every_site_of_her_cite(mfa_enrolled, login):
    nord = Cite.objects.create(slug="nord", name="Nord")
    Site.objects.filter(pk=mfa_enrolled.alpha.pk).update(cite=nord)
    henri = make_staff("henri@nord.test", None, None, is_staff=True)
    grant_role(user=henri, role=Role.MANAGER, cite=nord)
    TOTP.activate(henri, generate_totp_secret())
    client = login(henri)

    assert page_ids(client.get("/admin/citedesmetiers/site/")) == {mfa_enrolled.alpha.pk}
    assert page_ids(client.get("/admin/citedesmetiers/cite/")) == {nord.pk}
    # A Cité manager may add a site, into her Cité only.
    other = Cite.objects.create(slug="sud", name="Sud")
    client.post(
        "/admin/citedesmetiers/site/add/",
        {"slug": "elsewhere", "name": "Elsewhere", "kind": "site", "cite": other.pk},
    )
    assert not Site.objects.filter(slug="elsewhere").exists()


def test_a_site_manager_adds_no_site(mfa_enrolled, frank):
    assert frank.get("/admin/citedesmetiers/site/add/").status_code == 403


def test_the_audit_log_shows_a_manager_her_places_only(mfa_enrolled, frank):
    audit.record(actor=None, action="export", subject="registrants", site=mfa_enrolled.alpha)
    audit.record(actor=None, action="export", subject="registrants", site=mfa_enrolled.beta)
    response = frank.get("/admin/citedesmetiers/auditentry/")
    assert {e.site_id for e in response.context["cl"].result_list} == {mfa_enrolled.alpha.pk}
    entry = AuditEntry.objects.filter(site=mfa_enrolled.alpha).get()
    assert frank.post(f"/admin/citedesmetiers/auditentry/{entry.pk}/delete/", {"post": "yes"})
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_a_superuser_still_does_everything(mfa_enrolled, root, login):
    client = login(root)
    grace = mfa_enrolled.beta_manager
    page = client.get(f"/admin/citedesmetiers/user/{grace.pk}/change/")
    assert page.status_code == 200
    assert "is_superuser" in page.context["adminform"].form.fields
    response = client.post(
        f"/admin/citedesmetiers/user/{grace.pk}/password/",
        {"password1": "a brand new passphrase", "password2": "a brand new passphrase"},
    )
    assert response.status_code == 302
    assert User.objects.get(pk=grace.pk).check_password("a brand new passphrase")


def test_a_cite_manager_manages_staff_who_also_work_at_one_of_its_sites(mfa_enrolled, login):
    nord = Cite.objects.create(slug="nord", name="Nord")
    Site.objects.filter(pk=mfa_enrolled.alpha.pk).update(cite=nord)
    henri = make_staff("henri@nord.test", None, None, is_staff=True)
    grant_role(user=henri, role=Role.MANAGER, cite=nord)
    TOTP.activate(henri, generate_totp_secret())
    bob = mfa_enrolled.counsellor_a  # a counsellor at Alpha…
    grant_role(user=bob, role=Role.RECEPTION, cite=nord)  # …and at reception across the Cité

    response = login(henri).get("/admin/citedesmetiers/user/")

    assert bob.pk in page_ids(response)


def test_an_accounts_flags_changed_are_logged_where_its_managers_read_them(
    mfa_enrolled, root, login
):
    alice = mfa_enrolled.reception
    client = login(root)
    page = client.get(f"/admin/citedesmetiers/user/{alice.pk}/change/")
    client.post(
        f"/admin/citedesmetiers/user/{alice.pk}/change/",
        form_data(page, "user_form", is_active=None),
    )
    entry = AuditEntry.objects.get(action="account_changed")
    assert (entry.subject, entry.detail, entry.site) == (
        "alice@alpha.test",
        "is_active=False",
        mfa_enrolled.alpha,
    )
    frank = login(mfa_enrolled.manager).get("/admin/citedesmetiers/auditentry/")
    assert entry.pk in page_ids(frank)


def test_a_network_manager_reads_the_entries_of_no_place(mfa_enrolled, login):
    nina = make_staff("nina@network.test", Role.MANAGER, None, is_staff=True)
    TOTP.activate(nina, generate_totp_secret())
    entry = audit.record(actor=None, action="export", subject="figures: visits_by_theme")
    assert entry.pk in page_ids(login(nina).get("/admin/citedesmetiers/auditentry/"))
    assert entry.pk not in page_ids(
        login(mfa_enrolled.manager).get("/admin/citedesmetiers/auditentry/")
    )


def test_the_outbox_is_read_by_superusers_only(mfa_enrolled, root, frank, login):
    outbox.enqueue("events.mail", {"registration": 1, "kind": "confirmed"})
    assert frank.get("/admin/citedesmetiers/outboxmessage/").status_code == 403
    assert login(root).get("/admin/citedesmetiers/outboxmessage/").status_code == 200


def groups_permissions() -> dict[str, set[str]]:
    return {
        group.name: {
            f"{app_label}.{codename}"
            for app_label, codename in group.permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        for group in Group.objects.all()
    }


EXPECTED_PERMISSIONS = {role.value: set(names) for role, names in ROLE_PERMISSIONS.items()}


def test_each_roles_group_has_exactly_its_admin_permissions(db):
    assert groups_permissions() == EXPECTED_PERMISSIONS


def test_the_groups_get_their_permissions_again_after_a_flush(transactional_db):
    """The flush that ends a transactional test sends post_migrate again, app by app: the
    groups get their permissions once every app's exist."""
    call_command("flush", interactive=False, verbosity=0)
    assert groups_permissions() == EXPECTED_PERMISSIONS
