"""Appointments' e-mails, reminder and purge: the confirmation (an .ics of the slot, the time in the
site's zone, a manage link of its own that opens the appointment), the video link only for video,
the move and cancellation e-mails; the reminder the day before, exactly once — run twice, in
parallel sweeps on PostgreSQL, and through a real Celery worker; the no-shows said and the contact
erased after APPOINTMENT_CONTACT_RETENTION_DAYS, the anonymous facts kept; and never a contact nor
a secret in the outbox's payloads."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
from zoneinfo import ZoneInfo

import pytest
from celery.signals import task_postrun
from django.core import mail
from django.db import connections
from django.utils import timezone, translation
from icalendar import Calendar

from appointments import emails, services, tasks
from appointments.models import Appointment, AppointmentKey
from citedesmetiers import outbox
from citedesmetiers.codes import grouped, new_code
from citedesmetiers.models import OutboxMessage, Partner, Theme
from counselling import planning
from counselling.models import PlanMode
from counselling.services import appointments
from tests.conftest import make_site
from tests.counselling_fixtures import (  # noqa: F401  (fixture)
    in_english,
    make_desk,
    theme,
)
from tests.events_fixtures import (
    fixture_after_commit,  # noqa: F401 (a fixture)
    fixture_eager_celery,  # noqa: F401 (a fixture)
)
from tests.threads import in_parallel, needs_postgresql

# The worker fixtures (`celery_app`, `celery_worker`) of Celery's own pytest plugin.
pytest_plugins = ("celery.contrib.pytest",)
pytestmark = pytest.mark.usefixtures("in_english")

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 3, 9)
TUESDAY = MONDAY + dt.timedelta(days=1)
THURSDAY = MONDAY + dt.timedelta(days=3)
ROOMS = "https://visio.example.org/cdm-{room}"
MANAGE_LABEL = "See, move or cancel my appointment:"
Status = Appointment.Status


def at(day: dt.date, hour: int, minute: int = 0, zone=PARIS) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)


def plan_appointments(site, desk, partner, *, weekdays=(1, 3)):
    """Desk 4 of `site` takes appointments for E on Tuesdays and Thursdays, 14:00–17:30 in the
    site's zone, in person, by phone and by video."""
    for weekday in weekdays:
        planning.plan_session(
            site=site,
            desk_id=desk.pk,
            partner_id=partner.pk,
            theme_ids=[theme(site, "E").pk],
            mode=PlanMode.APPOINTMENTS,
            weekday=weekday,
            starts=dt.time(14, 0),
            ends=dt.time(17, 30),
            valid_from=MONDAY,
            channels=["in_person", "phone", "video"],
        )


@pytest.fixture
def desk(centre):
    alpha = centre.alpha
    alpha.video_room_template = ROOMS
    alpha.save(update_fields=["video_room_template"])
    desk = make_desk(alpha, "Desk 4", "E", order=4)
    plan_appointments(alpha, desk, centre.partner_b)
    return desk


def book(centre, desk, starts, channel="in_person", now=None, **contact):
    """Book through the service, as the public page does, on the Monday morning before."""
    contact = contact or {"email": "zoe@example.org"}
    return appointments.book(
        site=desk.site,
        theme_id=theme(desk.site, "E").pk,
        channel=channel,
        desk_id=desk.pk,
        starts=starts,
        pseudonym="Zoé",
        now=now or at(MONDAY, 10),
        **contact,
    )


def html_of(message) -> str:
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def vevent_of(message):
    """The one VEVENT of the one .ics attached to the message."""
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == ("appointment.ics", "text/calendar")
    (vevent,) = Calendar.from_ical(content).walk("VEVENT")
    return vevent


def link_after(text: str, label: str) -> str:
    line = next(line for line in text.splitlines() if line.startswith(label))
    return line[len(label) :].strip()


def secret_in(message) -> str:
    """The secret of the manage link of a text e-mail (the link's last path segment)."""
    link = link_after(message.body, MANAGE_LABEL)
    assert link.startswith("https://cite.example.org/appointments/manage/")
    assert f'href="{link}"' in html_of(message)
    return link.rstrip("/").rsplit("/", 1)[1]


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = "https://cite.example.org"


# --- the confirmation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "utc_hour"),
    [("Europe/Paris", "13:00"), ("America/Montreal", "19:00")],  # 14:00 there, in March 2026
)
def test_the_confirmation_gives_the_slot_in_the_site_zone_with_its_ics(
    centre, desk, after_commit, zone, utc_hour
):
    centre.alpha.time_zone = zone
    centre.alpha.save(update_fields=["time_zone"])
    local = ZoneInfo(zone)
    with after_commit():
        appointment, shown_once = book(
            centre, desk, at(TUESDAY, 14, zone=local), now=at(MONDAY, 10, zone=local)
        )

    (message,) = mail.outbox
    html = html_of(message)
    assert message.to == ["zoe@example.org"]
    assert message.subject == "Your appointment is booked: Find a job"
    for body in (message.body, html):
        assert "Site Alpha" in body
        assert "Find a job" in body
        assert f"Tuesday 10 March 2026, 14:00–14:45 ({zone})" in body
        assert utc_hour not in body
        assert "In person, at Site Alpha: give your booking code at reception" in body
        assert f"Booking code: {grouped(appointment.code)}" in body
        assert "deleted 1 day after it" in body
        assert "Zoé" not in body  # an address is never confirmed: no text of the booker's
        assert "visio.example.org" not in body
    vevent = vevent_of(message)
    assert str(vevent["SUMMARY"]) == "Appointment · Find a job"
    assert vevent.decoded("DTSTART") == appointment.starts
    assert vevent.decoded("DTEND") == appointment.ends
    assert str(vevent["LOCATION"]) == "Site Alpha"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert str(vevent["UID"]) == f"appointment-{appointment.pk}@citedesmetiers"

    # The e-mail's manage link is its own, and opens the appointment, as the page's still does.
    secret = secret_in(message)
    assert secret != shown_once
    assert appointments.by_secret(secret) == appointment
    assert appointments.by_secret(shown_once) == appointment
    assert str(vevent["URL"]).endswith(f"/appointments/manage/{secret}/")
    assert appointments.by_secret(secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None


def test_a_video_confirmation_carries_the_room_link(centre, desk, after_commit):
    with after_commit():
        appointment, _secret = book(centre, desk, at(TUESDAY, 14, 45), channel="video")

    (message,) = mail.outbox
    room_url = appointment.room_url
    assert room_url.startswith("https://visio.example.org/cdm-") and appointment.room in room_url
    assert f"join the counsellor at this address: {room_url}" in message.body
    assert f'<a href="{room_url}">' in html_of(message)
    assert str(vevent_of(message)["LOCATION"]) == room_url


def test_a_phone_appointment_is_never_e_mailed(centre, desk, after_commit):
    with after_commit():
        appointment, _secret = book(
            centre, desk, at(TUESDAY, 15, 30), channel="phone", phone="06 01 02 03 04"
        )
        appointments.cancel(appointment_id=appointment.pk, now=at(MONDAY, 11))

    assert mail.outbox == []
    assert not OutboxMessage.objects.exists()


def test_a_booking_made_in_french_is_confirmed_in_french(centre, desk):
    with translation.override("fr"):
        appointment, _secret = book(centre, desk, at(TUESDAY, 14))
    with translation.override("en"):  # the worker's language is not the visitor's
        outbox.drain()

    assert appointment.language == "fr"
    (message,) = mail.outbox
    assert "mardi 10 mars 2026, 14:00–14:45" in message.body


# --- moved, cancelled ---------------------------------------------------------------------------


def test_a_move_is_told_with_the_new_time_and_a_calendar_entry_replacing_the_old(
    centre, desk, after_commit
):
    with after_commit():
        appointment, _secret = book(centre, desk, at(TUESDAY, 14), channel="video")
    (confirmation,) = mail.outbox

    with after_commit():
        appointments.move(
            appointment_id=appointment.pk,
            desk_id=desk.pk,
            starts=at(THURSDAY, 16, 15),
            now=at(MONDAY, 12),
        )

    confirmation_entry = vevent_of(confirmation)
    (moved,) = mail.outbox[1:]
    assert moved.subject == "New time for your appointment: Find a job"
    assert "Thursday 12 March 2026, 16:15–17:00 (Europe/Paris)" in moved.body
    assert "Tuesday 10 March" not in moved.body
    assert appointment.room_url in moved.body
    entry = vevent_of(moved)
    assert entry.decoded("DTSTART") == at(THURSDAY, 16, 15)
    assert str(entry["UID"]) == str(confirmation_entry["UID"])
    assert int(entry["SEQUENCE"]) >= int(confirmation_entry["SEQUENCE"])
    assert appointments.by_secret(secret_in(moved)) == appointment
    # The link of the first e-mail still works: each e-mail has its own.
    assert appointments.by_secret(secret_in(confirmation)) == appointment


def test_a_cancellation_is_told_and_takes_the_entry_off_the_calendar(centre, desk, after_commit):
    with after_commit():
        appointment, _secret = book(centre, desk, at(TUESDAY, 14))
    (confirmation,) = mail.outbox

    with after_commit():
        appointments.cancel(appointment_id=appointment.pk, now=at(MONDAY, 12))

    (cancellation,) = mail.outbox[1:]
    assert cancellation.subject == "Appointment cancelled: Find a job"
    assert "your appointment below is cancelled" in cancellation.body
    assert "Tuesday 10 March 2026, 14:00–14:45" in cancellation.body
    assert MANAGE_LABEL not in cancellation.body  # nothing left to manage
    entry = vevent_of(cancellation)
    assert str(entry["STATUS"]) == "CANCELLED"
    assert str(entry["UID"]) == str(vevent_of(confirmation)["UID"])


def test_news_a_cancellation_made_moot_is_not_sent(centre, desk, after_commit):
    # Booked and cancelled before the outbox's drain: the visitor is told the cancellation only.
    with after_commit():
        appointment, _secret = book(centre, desk, at(TUESDAY, 14))
        appointments.cancel(appointment_id=appointment.pk, now=at(MONDAY, 11))

    assert [m.subject for m in mail.outbox] == ["Appointment cancelled: Find a job"]
    assert not AppointmentKey.objects.exists()  # and no link was made for nothing


def test_the_handler_skips_an_appointment_that_is_gone_or_a_kind_it_does_not_know(centre, desk):
    appointment, _secret = book(centre, desk, at(TUESDAY, 14))

    emails.deliver({"appointment": 10**12, "kind": "confirmation"})
    emails.deliver({"appointment": appointment.pk, "kind": "birthday"})

    assert mail.outbox == []


def test_a_newline_in_the_theme_does_not_stop_the_e_mail(centre, desk, after_commit):
    Theme.objects.filter(site=centre.alpha, letter="E").update(
        name="Find a job\r\nBcc: everyone@example.org"
    )
    with after_commit():
        book(centre, desk, at(TUESDAY, 14))

    (message,) = mail.outbox
    assert message.subject == "Your appointment is booked: Find a job Bcc: everyone@example.org"
    assert message.bcc == []


# --- the outbox's payloads ----------------------------------------------------------------------


def test_no_contact_nor_secret_is_ever_in_the_outbox(centre, desk, after_commit):
    with after_commit():
        first, first_secret = book(centre, desk, at(TUESDAY, 14), channel="video")
        second, second_secret = book(centre, desk, at(TUESDAY, 15, 30), email="Karim.B@example.org")
        appointments.move(
            appointment_id=first.pk, desk_id=desk.pk, starts=at(THURSDAY, 14), now=at(MONDAY, 11)
        )
        appointments.cancel(appointment_id=second.pk, now=at(MONDAY, 11))
        services.send_reminders(now=at(THURSDAY, 14, 5) - dt.timedelta(days=1))
    secrets_mailed = [secret_in(m) for m in mail.outbox if MANAGE_LABEL in m.body]

    rows = list(OutboxMessage.objects.order_by("pk"))
    assert [(row.name, row.payload) for row in rows] == [
        ("appointments.mail", {"appointment": first.pk, "kind": "confirmation"}),
        ("appointments.mail", {"appointment": second.pk, "kind": "confirmation"}),
        ("appointments.mail", {"appointment": first.pk, "kind": "moved"}),
        ("appointments.mail", {"appointment": second.pk, "kind": "cancelled"}),
        ("appointments.mail", {"appointment": first.pk, "kind": "reminder"}),
    ]
    assert len(mail.outbox) == 4  # the second's confirmation was moot by the time of the drain
    stored = json.dumps([row.payload for row in rows]) + "".join(row.last_error for row in rows)
    for personal in [
        "zoe@example.org",
        "karim.b@example.org",
        "Zoé",
        first.code,
        first.room,
        first_secret,
        second_secret,
        *secrets_mailed,
    ]:
        assert personal.lower() not in stored.lower()
    # Nor in the keys table: the links' digests only.
    digests = set(AppointmentKey.objects.values_list("digest", flat=True))
    assert digests == {hashlib.sha256(s.encode()).hexdigest() for s in secrets_mailed}


# --- the reminder -------------------------------------------------------------------------------


def test_the_reminder_gives_the_time_channel_code_and_room_once_the_day_before(
    centre, desk, after_commit
):
    with after_commit():
        appointment, _secret = book(centre, desk, at(TUESDAY, 16, 15), channel="video")
    mail.outbox.clear()

    with after_commit():
        assert services.send_reminders(now=at(MONDAY, 16, 14)) == 0
        assert services.send_reminders(now=at(MONDAY, 16, 15)) == 1
        assert services.send_reminders(now=at(MONDAY, 16, 25)) == 0
        assert services.send_reminders(now=at(TUESDAY, 9)) == 0

    (reminder,) = mail.outbox
    assert reminder.subject == "Reminder: Find a job, Tuesday 10 March at 16:15"
    for body in (reminder.body, html_of(reminder)):
        assert "this is a reminder of your appointment" in body
        assert "Tuesday 10 March 2026, 16:15–17:00 (Europe/Paris)" in body
        assert "By video call: at this time, join the counsellor" in body
        assert appointment.room_url in body
        assert f"Booking code: {grouped(appointment.code)}" in body
    assert reminder.attachments == []
    assert appointments.by_secret(secret_in(reminder)) == appointment
    appointment.refresh_from_db()
    assert appointment.reminded_at == at(MONDAY, 16, 15)


def test_only_booked_appointments_with_an_address_booked_before_the_day_are_reminded(
    centre, desk, after_commit
):
    with after_commit():
        nadia, _ = book(centre, desk, at(TUESDAY, 14), email="nadia@example.org")
        book(centre, desk, at(TUESDAY, 14, 45), channel="phone", phone="0601020304")
        karim, _ = book(centre, desk, at(TUESDAY, 15, 30), email="karim@example.org")
        appointments.cancel(appointment_id=karim.pk, now=at(MONDAY, 11))
        # Booked inside the day before: its confirmation has just told it everything.
        book(centre, desk, at(TUESDAY, 16, 15), email="lea@example.org", now=at(MONDAY, 17))
    mail.outbox.clear()

    with after_commit():
        assert services.send_reminders(now=at(MONDAY, 17, 30)) == 1

    assert [m.to for m in mail.outbox] == [["nadia@example.org"]]
    assert list(Appointment.objects.filter(reminded_at__isnull=False)) == [nadia]


def test_a_moved_appointment_is_reminded_again_for_its_new_day(centre, desk, after_commit):
    with after_commit():
        appointment, _ = book(centre, desk, at(TUESDAY, 14))
        services.send_reminders(now=at(MONDAY, 14))
        appointments.move(
            appointment_id=appointment.pk,
            desk_id=desk.pk,
            starts=at(THURSDAY, 14),
            now=at(MONDAY, 15),
        )
    mail.outbox.clear()

    with after_commit():
        assert services.send_reminders(now=at(TUESDAY, 14)) == 0
        assert services.send_reminders(now=at(THURSDAY, 14) - dt.timedelta(days=1)) == 1

    (reminder,) = mail.outbox
    assert "Thursday 12 March 2026, 14:00–14:45" in reminder.body


def test_the_reminder_keeps_the_wall_clock_across_a_dst_change(centre, after_commit):
    # Sunday 29 March 2026, 14:00 CEST (+2), the clocks having gone forward at 02:00: reminded
    # from Saturday 14:00 CET (+1), 13:00 UTC — 23 hours before, not 24.
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 5", "E", order=5)
    plan_appointments(alpha, desk, centre.partner_a, weekdays=(6,))
    sunday = dt.date(2026, 3, 29)
    with after_commit():
        book(centre, desk, at(sunday, 14), now=at(dt.date(2026, 3, 26), 10))
    mail.outbox.clear()
    first_due = dt.datetime(2026, 3, 28, 13, 0, tzinfo=dt.UTC)

    with after_commit():
        assert services.send_reminders(now=first_due - dt.timedelta(minutes=1)) == 0
        assert services.send_reminders(now=first_due) == 1

    assert len(mail.outbox) == 1


def test_beat_runs_the_reminder_sweep_every_few_minutes(settings):
    (entry,) = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "appointments.tasks.send_reminders"
    ]
    assert len(entry["schedule"].minute) >= 4


# --- exactly once, with two sweeps at once ------------------------------------------------------


def make_appointment(site, desk, partner, starts, *, email="", phone="", **extra) -> Appointment:
    """A booking as the service leaves it, written directly (for times around the real clock)."""
    contact = email or phone
    fields = {
        "site": site,
        "theme": theme(site, "E"),
        "desk": desk,
        "partner": partner,
        "channel": "in_person",
        "starts": starts,
        "ends": starts + dt.timedelta(minutes=45),
        "code": new_code(),
        "manage_digest": hashlib.sha256(secrets.token_bytes(16)).hexdigest(),
        "pseudonym": "Zoé",
        "phone": phone,
        "email": email,
        "contact_digest": hashlib.sha256(contact.encode()).hexdigest() if contact else "",
        "booked_at": starts - dt.timedelta(days=5),
        "language": "en",
        **extra,
    }
    return Appointment.objects.create(**fields)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("sweeps", [2, 4])
def test_sweeps_running_at_the_same_time_send_one_reminder_each(eager_celery, sweeps):
    site = make_site("alpha")
    desk = make_desk(site, "Desk 4", "E")
    partner = Partner.objects.create(name="Guidance centre", kind=Partner.Kind.GUIDANCE)
    starts = dt.datetime(2027, 5, 11, 12, 0, tzinfo=dt.UTC)
    for n in range(30):
        make_appointment(
            site, desk, partner, starts + dt.timedelta(minutes=n), email=f"v{n}@example.org"
        )

    results = in_parallel(
        sweeps, lambda i: services.send_reminders(now=starts - dt.timedelta(hours=20))
    )

    assert sum(results) == 30
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"v{n}@example.org" for n in range(30))
    assert OutboxMessage.objects.count() == 30


# --- through a real Celery worker ---------------------------------------------------------------


@pytest.fixture(scope="session")
def celery_config():
    return {
        "broker_url": "memory://",
        "result_backend": "cache+memory://",
        "broker_transport_options": {"polling_interval": 0.05},
    }


@pytest.fixture(scope="session")
def celery_includes():
    # Imported before the worker starts, so it knows the tasks however the tests are selected.
    return ("appointments.tasks", "citedesmetiers.tasks", "events.tasks", "figures.tasks")


@pytest.fixture
def mails_done():
    """`wait(n)` blocks until the worker's drains of the outbox have sent n e-mails (woken after
    each task, not a sleep). Also closes the worker thread's connections after each task, so the
    test database can be flushed and dropped."""
    condition = threading.Condition()

    def on_postrun(sender=None, **kwargs):
        connections.close_all()
        with condition:
            condition.notify_all()

    task_postrun.connect(on_postrun, weak=False)

    def wait(count: int, timeout: float = 10) -> bool:
        with condition:
            return condition.wait_for(lambda: len(mail.outbox) >= count, timeout=timeout)

    yield wait
    task_postrun.disconnect(on_postrun)


@pytest.mark.django_db(transaction=True)
def test_the_reminder_task_runs_through_a_real_worker(
    celery_app, celery_worker, mails_done, centre
):
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 4", "E")
    tomorrow = (timezone.now() + dt.timedelta(hours=23)).replace(microsecond=0)
    # Each is due (its slot starts within a day), but for Jade's, in three days.
    for minutes, email, extra in [
        (0, "nadia@example.org", {}),
        (10, "karim@example.org", {"channel": "video", "room": "r" * 24}),
        (20, "", {"phone": "0601020304", "channel": "phone"}),
        (30, "tom@example.org", {"status": Status.CANCELLED}),
        # Booked inside the day before: the confirmation was the reminder.
        (40, "ines@example.org", {"booked_at": timezone.now() - dt.timedelta(minutes=10)}),
        (60 * 24 * 3, "jade@example.org", {}),
    ]:
        make_appointment(
            alpha,
            desk,
            centre.partner_b,
            tomorrow + dt.timedelta(minutes=minutes),
            email=email,
            **extra,
        )

    result = celery_app.send_task("appointments.tasks.send_reminders")

    assert result.get(timeout=10) == 2
    # The e-mails are sent by the outbox's drain, which the sweep's commits asked for.
    assert mails_done(2), "the worker did not send the two reminders"
    assert sorted(m.to[0] for m in mail.outbox) == ["karim@example.org", "nadia@example.org"]
    assert all(m.subject.startswith("Reminder: Find a job") for m in mail.outbox)
    reminded = Appointment.objects.filter(reminded_at__isnull=False)
    assert sorted(reminded.values_list("email", flat=True)) == [
        "karim@example.org",
        "nadia@example.org",
    ]
    assert abs(reminded.first().reminded_at - timezone.now()) < dt.timedelta(minutes=1)

    # A second run through the worker finds nothing left to send.
    assert celery_app.send_task("appointments.tasks.send_reminders").get(timeout=10) == 0
    assert len(mail.outbox) == 2


# --- no-shows and the purge ---------------------------------------------------------------------

NOW = dt.datetime(2026, 6, 20, 12, 0, tzinfo=PARIS)


@pytest.fixture
def past(centre):
    """Desk 4's appointments of every kind, around NOW: by the slot's end, how long ago."""
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 4", "E")

    def made(ended_ago: dt.timedelta, **extra) -> Appointment:
        starts = NOW - ended_ago - dt.timedelta(minutes=45)
        return make_appointment(alpha, desk, centre.partner_b, starts, **extra)

    return made


def anonymous_facts(appointment: Appointment) -> tuple:
    return tuple(
        getattr(appointment, field)
        for field in (
            "site_id",
            "theme_id",
            "desk_id",
            "partner_id",
            "channel",
            "starts",
            "ends",
            "code",
            "booked_at",
            "booked_by_staff",
            "checked_in_at",
            "cancelled_at",
        )
    )


def test_the_no_shows_are_said_once_their_slot_has_ended(past):
    day = dt.timedelta(days=1)
    absent = past(dt.timedelta(minutes=1), email="a@example.org")
    came = past(day, email="b@example.org", status=Status.ATTENDED)
    gone = past(day, email="c@example.org", status=Status.CANCELLED)
    waiting = past(dt.timedelta(minutes=5), email="d@example.org", checked_in_at=NOW - day / 24)
    coming = past(-dt.timedelta(hours=2), email="e@example.org")  # ends in two hours

    assert services.mark_no_shows(now=NOW) == 1
    assert services.mark_no_shows(now=NOW) == 0

    statuses = dict(Appointment.objects.values_list("pk", "status"))
    assert statuses == {
        absent.pk: Status.NO_SHOW,
        came.pk: Status.ATTENDED,
        gone.pk: Status.CANCELLED,
        waiting.pk: Status.BOOKED,  # on site, checked in: the desk can still call them
        coming.pk: Status.BOOKED,
    }


def test_the_purge_erases_the_contact_after_the_retention_and_keeps_the_facts(
    centre, past, settings
):
    settings.APPOINTMENT_CONTACT_RETENTION_DAYS = 1
    day = dt.timedelta(days=1)
    old = [
        past(day, email="a@example.org"),
        past(day * 3, phone="0601020304", channel="phone", status=Status.ATTENDED),
        past(day * 2, email="c@example.org", status=Status.CANCELLED),
        past(day * 2, email="d@example.org", status=Status.NO_SHOW, channel="video", room="x"),
    ]
    recent = past(day - dt.timedelta(minutes=1), email="e@example.org")
    key = secrets.token_urlsafe(24)
    AppointmentKey.objects.create(
        appointment=old[0], digest=hashlib.sha256(key.encode()).hexdigest()
    )
    before = {a.pk: (anonymous_facts(a), a.status, a.room) for a in Appointment.objects.all()}
    assert appointments.by_secret(key) == old[0]
    emails.queue(old[0], emails.MailKind.REMINDER)  # waiting in the outbox when the purge comes

    assert services.purge_contacts(now=NOW) == 4

    for appointment in old:
        appointment.refresh_from_db()
        assert (appointment.pseudonym, appointment.phone, appointment.email) == ("", "", "")
        assert appointment.contact_digest == ""
        assert appointment.contact_erased_at == NOW
    recent.refresh_from_db()
    assert (recent.pseudonym, recent.email, recent.contact_erased_at) == (
        "Zoé",
        "e@example.org",
        None,
    )
    assert recent.contact_digest != ""
    after = {a.pk: (anonymous_facts(a), a.status, a.room) for a in Appointment.objects.all()}
    assert after == before
    # Every link to an erased appointment stops working: the e-mails' and the booking's own.
    assert appointments.by_secret(key) is None
    assert not AppointmentKey.objects.exists()
    assert len(set(Appointment.objects.values_list("manage_digest", flat=True))) == 5
    # The e-mail that was still waiting in the outbox has nobody left to go to.
    assert outbox.drain() == 1
    assert mail.outbox == []


def test_the_purge_starts_exactly_the_configured_days_after_the_slot(past, settings):
    settings.APPOINTMENT_CONTACT_RETENTION_DAYS = 2
    appointment = past(dt.timedelta(days=2), email="a@example.org")

    assert services.purge_contacts(now=NOW - dt.timedelta(minutes=1)) == 0
    assert services.purge_contacts(now=NOW) == 1
    assert services.purge_contacts(now=NOW + dt.timedelta(days=1)) == 0
    appointment.refresh_from_db()
    assert appointment.email == "" and appointment.contact_erased_at == NOW


def test_after_the_purge_the_same_contact_can_book_the_theme_again(centre, desk):
    book(centre, desk, at(TUESDAY, 14))  # and did not come
    assert services.purge_contacts(now=at(THURSDAY, 14)) == 1

    again, _ = book(centre, desk, at(TUESDAY + dt.timedelta(days=7), 14), now=at(THURSDAY, 15))

    assert again.email == "zoe@example.org"


def test_the_hourly_task_says_the_no_shows_and_purges(centre):
    # The task reads the clock: rows around the real now.
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 5", "E")
    now = timezone.now()
    old = make_appointment(
        alpha, desk, centre.partner_b, now - dt.timedelta(days=3), email="a@example.org"
    )
    ended = make_appointment(
        alpha, desk, centre.partner_b, now - dt.timedelta(hours=2), email="b@example.org"
    )

    assert tasks.purge_contacts.apply().get() == 1
    assert tasks.purge_contacts.apply().get() == 0

    old.refresh_from_db()
    ended.refresh_from_db()
    assert (old.status, old.email) == (Status.NO_SHOW, "")
    assert (ended.status, ended.email) == (Status.NO_SHOW, "b@example.org")


def test_beat_runs_the_purge_beside_the_events_one(settings):
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert "events-purge-contacts" in schedule
    (entry,) = [
        entry for entry in schedule.values() if entry["task"] == "appointments.tasks.purge_contacts"
    ]
    assert len(entry["schedule"].hour) == 24  # hourly: erased within the hour it is due
