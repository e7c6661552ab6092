import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from appointments.models import Appointment
from citedesmetiers.models import OpeningPeriod, Partner, Site, StaffMembership, Theme, User
from citedesmetiers.roles import Role
from counselling.models import PlanMode, PlannedSession, sessions_on
from events.models import Registration


def snapshot() -> dict:
    return {
        "sites": list(Site.objects.values_list("slug", "name", "time_zone")),
        "themes": list(Theme.objects.values_list("site__slug", "letter", "name", "order")),
        "partners": list(Partner.objects.order_by("name").values_list("name", "kind")),
        "hours": list(OpeningPeriod.objects.values_list("weekday", "opens", "closes")),
        "staff": sorted(
            User.objects.values_list(
                "email", "memberships__roles__name", "memberships__partner__name"
            )
        ),
        "memberships": StaffMembership.objects.count(),
        "bookings": sorted(Appointment.objects.values_list("pseudonym", "channel", "starts")),
        "plan": sorted(
            PlannedSession.objects.values_list("desk__name", "weekday", "starts", "mode")
        ),
    }


def test_it_seeds_the_demo_and_a_second_run_changes_nothing(db):
    call_command("seed_demo", "--i-know-this-resets-passwords")
    first = snapshot()
    passwords = dict(User.objects.values_list("email", "password"))
    call_command("seed_demo", "--i-know-this-resets-passwords")
    assert snapshot() == first
    assert dict(User.objects.values_list("email", "password")) == passwords

    assert first["sites"] == [("demo", "Cité des métiers — démo", "Europe/Paris")]
    assert len(first["themes"]) == 6
    assert len(first["partners"]) == 5
    emails = {email for email, _role, _partner in first["staff"]}
    assert {
        "reception@demo.test",
        "counsellor1@demo.test",
        "counsellor2@demo.test",
        "librarian@demo.test",
        "organiser@demo.test",
        "manager@demo.test",
    } <= emails
    manager = User.objects.get(email="manager@demo.test")
    assert manager.check_password("demo-password")
    assert manager.has_role(Role.MANAGER)
    # Counsellors come from different partner institutions.
    partners = {p for e, _r, p in first["staff"] if e.startswith("counsellor")}
    assert len(partners) >= 2


def test_the_demo_has_a_weeks_plan_with_an_appointments_desk(db):
    call_command("seed_demo", "--i-know-this-resets-passwords")
    site = Site.objects.get(slug="demo")
    plan = PlannedSession.objects.filter(site=site)
    assert plan.order_by().values("desk").distinct().count() == 6
    assert plan.order_by().values("partner").distinct().count() == 4
    appointments = plan.filter(mode=PlanMode.APPOINTMENTS)
    assert sorted(appointments.values_list("weekday", flat=True)) == [1, 3]
    assert {tuple(p.channels) for p in appointments} == {("phone", "video")}
    # A few bookings of the appointment desk, by phone and video, with their contact only.
    booked = Appointment.objects.filter(site=site, status="booked")
    assert {a.channel for a in booked} == {"phone", "video"} and booked.count() == 3
    assert all(bool(a.phone) != bool(a.email) for a in booked)
    # It holds from the week it is seeded, today included (a Sunday plans nothing).
    today = site.local_date()
    assert len(sessions_on(site, today)) == plan.filter(weekday=today.weekday()).count()


def test_the_demo_events_have_addresses_ahead_and_none_in_the_past(db):
    call_command("seed_demo", "--i-know-this-resets-passwords")

    now = timezone.now()
    ahead = Registration.objects.filter(event__starts_at__gt=now)
    past = Registration.objects.filter(event__ends_at__lt=now)
    # Someone to send confirmations, reminders and changes to in `make run`'s console…
    assert ahead.exclude(email="").exists()
    assert all(
        email.endswith("@example.org") and email.isascii()
        for email in ahead.exclude(email="").values_list("email", flat=True)
    )
    # …and no contact data left from events the purge has passed over.
    assert past.exists()
    assert not past.exclude(email="").exists()


def test_it_refuses_to_reset_passwords_on_a_real_server(db, settings):
    # DEBUG is off in the tests, as on a production server.
    assert settings.DEBUG is False
    manager = User.objects.create_user(email="manager@demo.test", password="a real secret")

    with pytest.raises(CommandError) as refusal:
        call_command("seed_demo")

    message = str(refusal.value)
    assert "DEBUG is off" in message and "--i-know-this-resets-passwords" in message
    assert "8 demo accounts" in message
    manager.refresh_from_db()
    assert manager.check_password("a real secret")
    assert not Site.objects.filter(slug="demo").exists()


def test_it_runs_with_debug_on_or_with_the_flag(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=io.StringIO())
    settings.DEBUG = False
    call_command("seed_demo", "--i-know-this-resets-passwords", stdout=io.StringIO())

    assert User.objects.get(email="manager@demo.test").check_password("demo-password")
