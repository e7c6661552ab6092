"""The e-mails of registrations: every kind in text and HTML, in the registrant's language (French
or English), with the event's time in the time zone of the event's site; the .ics attached where
the place is booked; and the links in them work."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import formats, timezone, translation
from icalendar import Calendar

from events import emails, services
from events.models import Registration
from events.tasks import send_registration_mail
from tests.events_fixtures import (
    fixture_after_commit,  # noqa: F401 (a fixture)
    fixture_eager_celery,  # noqa: F401 (a fixture)
    fixture_in_english,  # noqa: F401 (a fixture)
    link_after,
    make_event,
    path_of,
    register,
    sent,
)

pytestmark = pytest.mark.usefixtures("in_english")

PARIS = ZoneInfo("Europe/Paris")
KINDS = [
    "pending",
    "confirmed",
    "waiting",
    "promoted",
    "reminder",
    "event_changed",
    "event_cancelled",
]
# For a confirmed registration (the changed and cancelled e-mails carry one only for a place held).
WITH_CALENDAR = {"confirmed", "promoted", "reminder", "event_changed", "event_cancelled"}
# A sentence of each English body: a French e-mail must not contain it.
ENGLISH = {
    "pending": "please confirm your registration",
    "confirmed": "your place is booked",
    "waiting": "the event is full",
    "promoted": "a place has freed up",
    "reminder": "this is a reminder",
    "event_changed": "has changed date, time or place",
    "event_cancelled": "this event is cancelled",
}


@pytest.fixture
def montreal_event(centre):
    """An event of a site in Montreal, at 15:00 UTC (10:00 or 11:00 there, 16:00 or 17:00 in
    Paris), three weeks ahead."""
    centre.beta.time_zone = "America/Montreal"
    centre.beta.save(update_fields=["time_zone"])
    starts = (timezone.now() + dt.timedelta(days=21)).replace(
        hour=15, minute=0, second=0, microsecond=0, tzinfo=dt.UTC
    )
    return make_event(
        centre.beta, title="Job dating : hôtellerie", starts_at=starts, place="Salle 4"
    )


def local_date(event, language: str) -> str:
    local = event.starts_at.astimezone(event.site.zone)
    with translation.override(language):
        return formats.date_format(local, "l j F Y")


def local_times(event) -> str:
    zone = event.site.zone
    return f"{event.starts_at.astimezone(zone):%H:%M}–{event.ends_at.astimezone(zone):%H:%M}"


def html_of(message) -> str:
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def calendars_in(message) -> list[Calendar]:
    return [
        Calendar.from_ical(content)
        for filename, content, mimetype in message.attachments
        if mimetype == "text/calendar" and filename.endswith(".ics")
    ]


@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_email_renders_in_text_and_html_in_the_site_time_zone(
    montreal_event, settings, kind, language
):
    settings.SITE_URL = "https://cite.example.org"
    registration = Registration.objects.create(
        event=montreal_event,
        status=Registration.Status.CONFIRMED,
        pseudonym="Zoé",
        email="zoe@example.org",
        email_confirmed_at=timezone.now(),
        language=language,
    )

    emails.send(registration, kind)

    (message,) = mail.outbox
    html = html_of(message)
    assert message.to == ["zoe@example.org"]
    assert "Job dating : hôtellerie" in message.subject
    for body in (message.body, html):
        assert "Zoé" in body
        assert "Job dating : hôtellerie" in body
        assert "Salle 4" in body
        assert local_date(montreal_event, language) in body
        assert local_times(montreal_event) in body
        paris = montreal_event.starts_at.astimezone(PARIS)
        assert f"{paris:%H:%M}–" not in body
        assert "https://cite.example.org/events/" in body
    if language == "fr":
        for text in (message.subject, message.body, html):
            assert ENGLISH[kind] not in text.lower(), f"the {kind} e-mail is not in French"
    else:
        assert ENGLISH[kind] in message.body.lower()
    calendars = calendars_in(message)
    if kind in WITH_CALENDAR:
        (calendar,) = calendars
        (vevent,) = calendar.walk("VEVENT")
        assert str(vevent["SUMMARY"]) == "Job dating : hôtellerie"
        assert vevent.decoded("DTSTART") == montreal_event.starts_at
    else:
        assert calendars == []


@pytest.mark.parametrize("kind", KINDS)
def test_no_email_greets_by_a_pseudonym_the_address_did_not_confirm(montreal_event, kind):
    # Whoever types an address chooses the pseudonym: "Hello <their text>" must never be what
    # we send to a stranger.
    registration = Registration.objects.create(
        event=montreal_event,
        status=Registration.Status.CONFIRMED,
        pseudonym="Buy cheap pills at spam.example",
        email="zoe@example.org",
        language="en",
    )

    emails.send(registration, kind)

    (message,) = mail.outbox
    for text in (message.subject, message.body, html_of(message)):
        assert "spam.example" not in text
    assert ENGLISH[kind] in message.body.lower()


def test_a_newline_in_the_title_does_not_stop_the_emails(montreal_event):
    montreal_event.title = "Job dating\r\nBcc: everyone@example.org"
    montreal_event.save(update_fields=["title"])
    registration = Registration.objects.create(
        event=montreal_event, status=Registration.Status.CONFIRMED, email="zoe@example.org"
    )

    emails.send(registration, "reminder")

    (message,) = mail.outbox
    assert message.subject.endswith("Job dating Bcc: everyone@example.org")
    assert message.to == ["zoe@example.org"] and message.bcc == []


@pytest.mark.parametrize(
    ("status", "says"),
    [
        (Registration.Status.WAITING, "still on the waiting list"),
        (Registration.Status.PENDING, "waits for you to confirm it"),
    ],
)
def test_a_change_told_to_someone_without_a_place_carries_no_calendar(montreal_event, status, says):
    registration = Registration.objects.create(
        event=montreal_event, status=status, pseudonym="Zoé", email="zoe@example.org", language="en"
    )

    emails.send(registration, "event_changed")

    (message,) = mail.outbox
    assert calendars_in(message) == []
    assert says in message.body
    assert "You keep your place" not in message.body


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_html_email_declares_its_language(montreal_event, language):
    # Screen readers and mail clients read the page's language from <html lang>.
    registration = Registration.objects.create(
        event=montreal_event,
        status=Registration.Status.CONFIRMED,
        pseudonym="Zoé",
        email="zoe@example.org",
        language=language,
    )

    emails.send(registration, "reminder")

    assert f'<html lang="{language}">' in html_of(mail.outbox[0])


def test_the_french_emails_speak_french_dates(montreal_event):
    registration = Registration.objects.create(
        event=montreal_event,
        status=Registration.Status.CONFIRMED,
        pseudonym="Zoé",
        email="zoe@example.org",
        language="fr",
    )

    emails.send(registration, "confirmed")

    local = montreal_event.starts_at.astimezone(montreal_event.site.zone)
    months = [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ]
    assert f"{local.day} {months[local.month - 1]} {local.year}" in mail.outbox[0].body


def test_a_pseudonym_is_escaped_in_html_and_kept_in_text(montreal_event):
    registration = Registration.objects.create(
        event=montreal_event,
        status=Registration.Status.CONFIRMED,
        pseudonym="<b>Zoé</b> & co",
        email="zoe@example.org",
        email_confirmed_at=timezone.now(),
        language="en",
    )

    emails.send(registration, "confirmed")

    (message,) = mail.outbox
    assert "<b>Zoé</b> & co" in message.body
    assert "&lt;b&gt;Zoé&lt;/b&gt; &amp; co" in html_of(message)
    assert "<b>Zoé</b>" not in html_of(message)


def test_nothing_is_sent_without_an_address_or_for_an_unknown_kind(montreal_event):
    registration = Registration.objects.create(
        event=montreal_event, status=Registration.Status.CONFIRMED, pseudonym="Zoé", email=""
    )

    emails.send(registration, "confirmed")
    registration.email = "zoe@example.org"
    emails.send(registration, "birthday")

    assert mail.outbox == []


def test_the_mail_task_skips_a_registration_that_is_gone(db, eager_celery):

    send_registration_mail.delay(987654, "confirmed")

    assert mail.outbox == []


# --- the links of the e-mails, followed ---------------------------------------------------------


def test_the_cancel_link_of_the_confirmation_cancels_the_place(centre, client, after_commit):
    event = make_event(centre.alpha, capacity=1)
    with after_commit():
        nadia = register(event, "Nadia", "nadia@example.org")
        register(event, "Karim", "karim@example.org")
    (confirmation,) = sent("confirmed", to="nadia@example.org")

    link = link_after(confirmation.body, "See or cancel my registration:")
    assert f'href="{link}"' in html_of(confirmation)
    page = client.get(path_of(link))
    assert page.status_code == 200
    assert "Your place is booked." in page.content.decode()

    with after_commit():
        response = client.post(path_of(link) + "cancel/", follow=True)

    assert "Your registration is cancelled." in response.content.decode()
    nadia.refresh_from_db()
    assert nadia.status == Registration.Status.CANCELLED
    # Karim, waiting, got the place and was told once.
    assert len(sent("promoted", to="karim@example.org")) == 1
    (promotion,) = sent("promoted")
    assert calendars_in(promotion)


def test_the_confirm_link_of_the_pending_email_books_the_place(centre, client, after_commit):
    event = make_event(centre.alpha, capacity=1, confirm_by_email=True)
    with after_commit():
        nadia = register(event, "Nadia", "nadia@example.org")
    (pending,) = sent("pending")
    assert calendars_in(pending) == []

    link = link_after(pending.body, "Confirm my registration:")
    assert f'href="{link}"' in html_of(pending)
    page = client.get(path_of(link))
    assert page.status_code == 200
    nadia.refresh_from_db()
    assert nadia.status == Registration.Status.PENDING  # a GET (a mail scanner) changes nothing

    with after_commit():
        client.post(path_of(link))

    nadia.refresh_from_db()
    assert nadia.status == Registration.Status.CONFIRMED
    (confirmation,) = sent("confirmed")
    # The address is confirmed now: the e-mails greet her by her name.
    assert confirmation.body.startswith("Site Alpha\n\nHello Nadia,")
    assert "See or cancel my registration:" in confirmation.body
    (calendar,) = calendars_in(confirmation)
    (vevent,) = calendar.walk("VEVENT")
    assert vevent.decoded("DTSTART") == event.starts_at


def test_cancelling_an_event_tells_everyone_registered_once(centre, after_commit):
    event = make_event(centre.alpha, capacity=1, confirm_by_email=True)
    with after_commit():
        nadia = register(event, "Nadia", "nadia@example.org")
        services.confirm_email(registration_id=nadia.pk)
        karim = register(event, "Karim", "karim@example.org")
        services.confirm_email(registration_id=karim.pk)  # waiting
        register(event, "Tom", "tom@example.org")  # pending
        register(event, "Léa", source=Registration.Source.ON_THE_SPOT)  # no address
        gone = register(event, "Inès", "ines@example.org")
        services.cancel_registration(registration_id=gone.pk)
    mail.outbox.clear()

    with after_commit():
        told = services.cancel_event(event_id=event.pk)

    assert told == 3
    assert sorted(m.to[0] for m in sent("event_cancelled")) == [
        "karim@example.org",
        "nadia@example.org",
        "tom@example.org",
    ]
    assert len(mail.outbox) == 3


def test_the_link_of_the_cancellation_email_leads_to_a_page(centre, client, after_commit):
    event = make_event(centre.alpha)
    with after_commit():
        register(event, "Nadia", "nadia@example.org")
        services.cancel_event(event_id=event.pk)
    (cancellation,) = sent("event_cancelled")
    links = [word for word in cancellation.body.split() if word.startswith("http")]
    assert links

    for link in links:
        assert client.get(path_of(link)).status_code == 200, link
