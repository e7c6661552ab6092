"""Every e-mail goes out in the language of the person who registered or booked, whatever the
language of the request, the worker or the project that sends it: each path (a workshop's
confirmation, its address check, the waiting list and its promotion, the reminder, a change and a
cancellation; an appointment's confirmation, move, cancellation and reminder) is run for a
registrant in Italian or Spanish, through the outbox and eager Celery tasks, in a process that
speaks English."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.translation import gettext

from appointments import services as appointment_services
from appointments.models import Appointment
from counselling import planning
from counselling.models import PlanMode
from counselling.services import appointments
from events import services
from events.models import Registration
from tests.counselling_fixtures import make_desk, theme
from tests.events_fixtures import (
    fixture_after_commit,  # noqa: F401 (a fixture)
    fixture_eager_celery,  # noqa: F401 (a fixture)
    fixture_in_english,  # noqa: F401 (a fixture)
    fixture_no_check,  # noqa: F401 (a fixture)
    make_event,
)

pytestmark = pytest.mark.usefixtures("in_english")

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 3, 9)
TUESDAY = MONDAY + dt.timedelta(days=1)
THURSDAY = MONDAY + dt.timedelta(days=3)


def in_language(language: str, msgid: str, **values) -> str:
    """`msgid` as the catalogue of `language` says it, checked to be translated there."""
    with translation.override(language):
        text = gettext(msgid)
    assert text != msgid, f"{msgid!r} has no {language} translation"
    return text % values


def html_of(message) -> str:
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def assert_in(language: str, message, subject: str, *english_sentences: str) -> None:
    """The message has the subject of `language`, declares it, and none of the English text."""
    assert message.subject == subject
    assert f'<html lang="{language}">' in html_of(message)
    for text in (message.subject, message.body, html_of(message)):
        for sentence in english_sentences:
            assert sentence.lower() not in text.lower()


def register(event, pseudonym: str, email: str, language: str, **extra) -> Registration:
    registration, created = services.register(
        event_id=event.pk, pseudonym=pseudonym, email=email, language=language, **extra
    )
    assert created
    return registration


def to(address: str) -> list:
    return [message for message in mail.outbox if message.to == [address]]


# --- events -------------------------------------------------------------------------------------


def test_a_confirmation_goes_out_in_italian(centre, after_commit):
    event = make_event(centre.alpha, title="Atelier CV", capacity=5)

    with after_commit():
        register(event, "Giulia", "giulia@example.org", "it")

    (message,) = mail.outbox
    subject = in_language("it", "Your place is booked: %(title)s", title="Atelier CV")
    assert_in("it", message, subject, "Your place is booked", "See or cancel my registration")


def test_the_address_check_goes_out_in_spanish(centre, after_commit):
    event = make_event(centre.alpha, title="Atelier CV", confirm_by_email=True)

    with after_commit():
        register(event, "Lucía", "lucia@example.org", "es")

    (message,) = mail.outbox
    subject = in_language("es", "Please confirm your registration: %(title)s", title="Atelier CV")
    assert_in("es", message, subject, "please confirm your registration")


def test_the_waiting_list_and_its_promotion_go_out_in_each_ones_language(centre, after_commit):
    event = make_event(centre.alpha, title="Atelier CV", capacity=1)
    with after_commit():
        holder = register(event, "Nadia", "nadia@example.org", "it")
        register(event, "Lucía", "lucia@example.org", "es")
    (waiting,) = to("lucia@example.org")
    subject = in_language("es", "You are on the waiting list: %(title)s", title="Atelier CV")
    assert_in("es", waiting, subject, "the event is full")

    with after_commit():
        services.cancel_registration(registration_id=holder.pk)

    promoted = to("lucia@example.org")[1]
    subject = in_language("es", "A place is now yours: %(title)s", title="Atelier CV")
    assert_in("es", promoted, subject, "a place has freed up")


def test_the_reminder_goes_out_in_italian(centre, after_commit):
    start = dt.datetime(2027, 5, 10, 14, 0, tzinfo=PARIS)
    event = make_event(centre.alpha, title="Atelier CV", starts_at=start)
    with after_commit():
        register(event, "Giulia", "giulia@example.org", "it", now=start - dt.timedelta(days=20))
    mail.outbox.clear()

    with after_commit():
        assert services.send_reminders(now=start - dt.timedelta(days=2)) == 1

    (message,) = mail.outbox
    subject = in_language("it", "Reminder: %(title)s", title="Atelier CV")
    assert_in("it", message, subject, "this is a reminder")


def test_a_change_and_a_cancellation_go_out_in_spanish(centre, after_commit):
    event = make_event(centre.alpha, title="Atelier CV", place="Salle 1")
    with after_commit():
        register(event, "Lucía", "lucia@example.org", "es")
    mail.outbox.clear()

    with after_commit():
        services.update_event(event_id=event.pk, details={"place": "Salle 4"})
    with after_commit():
        services.cancel_event(event_id=event.pk)

    changed, cancelled = mail.outbox
    subject = in_language("es", "New date or place: %(title)s", title="Atelier CV")
    assert_in("es", changed, subject, "has changed date, time or place")
    subject = in_language("es", "Cancelled: %(title)s", title="Atelier CV")
    assert_in("es", cancelled, subject, "this event is cancelled")


def test_a_registration_from_the_visitors_phone_is_in_the_visits_language(
    centre, client, after_commit, no_check
):
    """The phone page's links carry its language (?lang=): the page they open and the
    registration made there speak it, though the browser asks for English."""
    event = make_event(centre.alpha, title="Atelier CV", capacity=5)

    page = client.get(
        reverse("events:detail", args=[event.pk]) + "?lang=it", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert '<html lang="it">' in page.content.decode()
    with after_commit():
        client.post(
            reverse("events:register", args=[event.pk]),
            {"pseudonym": "Giulia", "email": "giulia@example.org", "website": ""},
            HTTP_ACCEPT_LANGUAGE="en",
        )

    assert Registration.objects.get().language == "it"
    (message,) = mail.outbox
    subject = in_language("it", "Your place is booked: %(title)s", title="Atelier CV")
    assert_in("it", message, subject, "Your place is booked")


# --- appointments -------------------------------------------------------------------------------


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


@pytest.fixture
def desk(centre):
    desk = make_desk(centre.alpha, "Desk 4", "E", order=4)
    for weekday in (1, 3):
        planning.plan_session(
            site=centre.alpha,
            desk_id=desk.pk,
            partner_id=centre.partner_b.pk,
            theme_ids=[theme(centre.alpha, "E").pk],
            mode=PlanMode.APPOINTMENTS,
            weekday=weekday,
            starts=dt.time(14, 0),
            ends=dt.time(17, 30),
            valid_from=MONDAY,
            channels=["in_person", "phone", "video"],
        )
    centre.alpha.video_room_template = "https://visio.example.org/cdm-{room}"
    centre.alpha.save(update_fields=["video_room_template"])
    return desk


def book(desk, language: str, starts: dt.datetime):
    """Booked on the public page in `language` (the request's language then)."""
    with translation.override(language):
        appointment, _secret = appointments.book(
            site=desk.site,
            theme_id=theme(desk.site, "E").pk,
            channel="in_person",
            desk_id=desk.pk,
            starts=starts,
            pseudonym="Zoé",
            email="zoe@example.org",
            now=at(MONDAY, 10),
        )
    assert appointment.language == language
    return appointment


def test_an_appointment_is_confirmed_and_cancelled_in_spanish(centre, desk, after_commit):
    with after_commit():
        appointment = book(desk, "es", at(TUESDAY, 14))
    with after_commit():
        appointments.cancel(appointment_id=appointment.pk, now=at(MONDAY, 12))

    confirmation, cancellation = mail.outbox
    subject = in_language("es", "Your appointment is booked: %(theme)s", theme="Find a job")
    assert_in("es", confirmation, subject, "Your appointment is booked", "Booking code")
    subject = in_language("es", "Appointment cancelled: %(theme)s", theme="Find a job")
    assert_in("es", cancellation, subject, "Appointment cancelled")


def test_an_appointment_is_moved_and_reminded_in_italian(centre, desk, after_commit):
    with after_commit():
        appointment = book(desk, "it", at(TUESDAY, 14))
    with after_commit():
        appointments.move(
            appointment_id=appointment.pk,
            desk_id=desk.pk,
            starts=at(THURSDAY, 16, 15),
            now=at(MONDAY, 12),
        )
    with after_commit():
        assert appointment_services.send_reminders(now=at(THURSDAY - dt.timedelta(days=1), 16, 15))

    _confirmation, moved, reminder = mail.outbox
    subject = in_language("it", "New time for your appointment: %(theme)s", theme="Find a job")
    assert_in("it", moved, subject, "New time for your appointment")
    with translation.override("it"):
        day = dateformat.format(at(THURSDAY, 16, 15), "l j F")  # "giovedì 12 marzo"
    subject = in_language(
        "it",
        "Reminder: %(theme)s, %(day)s at %(time)s",
        theme="Find a job",
        day=day,
        time="16:15",
    )
    assert_in("it", reminder, subject, "this is a reminder of your appointment")


def staff_books_by_video(client, site, language: str):
    e = theme(site, "E")
    slot = appointments.slots(site, e, channel="video")[0]
    return client.post(
        "/reception/appointments/book/",
        {
            "theme": e.pk,
            "channel": "video",
            "slot": f"{slot.desk_id}@{slot.starts.isoformat()}",
            "pseudonym": "Lucía",
            "email": "lucia@example.org",
            "language": language,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )


def test_reception_books_for_someone_in_their_language_not_its_own(
    centre, desk, client, after_commit
):
    client.force_login(centre.reception, backend="citedesmetiers.auth_backends.ModelBackend")
    page = client.get(
        f"/reception/appointments/?theme={theme(centre.alpha, 'E').pk}&channel=video",
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert '<option value="es" lang="es">Español</option>' in page

    with after_commit():
        staff_books_by_video(client, centre.alpha, "es")

    (message,) = mail.outbox
    subject = in_language("es", "Your appointment is booked: %(theme)s", theme="Find a job")
    assert_in("es", message, subject, "Your appointment is booked")


@pytest.mark.parametrize("code", ["xx", "es-ES", "e" * 50])
def test_reception_cannot_book_in_a_language_not_offered(centre, desk, client, after_commit, code):
    client.force_login(centre.reception, backend="citedesmetiers.auth_backends.ModelBackend")

    with after_commit():
        response = staff_books_by_video(client, centre.alpha, code)

    followed = client.get(response.url, HTTP_ACCEPT_LANGUAGE="en")
    assert [str(m) for m in followed.context["messages"]] == ["This language is not offered."]
    assert not Appointment.objects.exists()
    assert mail.outbox == []
