"""The public booking pages (counselling.booking_views): each step as a visitor sees it, every
malformed or stale choice sent back a step with a message, the booking's refusals (nothing
written), the limits and honeypot of the event registration, and the appointment's page at its
secret link: cancel (twice), move, a tampered link. The phone, end to end, is in
tests/test_booking_browser.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation

from appointments.models import Appointment
from counselling import planning
from counselling.booking_views import _when
from counselling.services import appointments
from events import guard
from tests.booking_fixtures import free_slots, plan_appointments, slot_param
from tests.counselling_fixtures import in_english  # noqa: F401  (fixture)
from tests.test_appointment_screens import soon, today_plan  # noqa: F401  (fixture)
from tests.test_events_guard import solution  # what the browser's script sends

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture(autouse=True)
def _no_check(settings):
    # The automatic check has tests of its own below; elsewhere it would only get in the way.
    settings.EVENT_CHALLENGE_DIFFICULTY = 0


@pytest.fixture
def planned(centre):
    return plan_appointments(centre)


def start_url(**query) -> str:
    url = reverse("booking:start", args=["alpha"])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def post_booking(client, planned, slot, channel="phone", address="203.0.113.5", **fields):
    data = {
        "theme": planned.theme.pk,
        "channel": channel,
        "slot": slot_param(slot),
        "pseudonym": "Zoé",
        "phone": "06 01 02 03 04" if channel == "phone" else "",
        "email": "zoe@example.org" if channel != "phone" else "",
        "website": "",
        **fields,
    }
    return client.post(reverse("booking:book", args=["alpha"]), data, REMOTE_ADDR=address)


def booked_secret(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    prefix = "/appointments/manage/"
    assert response.url.startswith(prefix)
    return response.url[len(prefix) :].rstrip("/")


# --- the steps ------------------------------------------------------------------------------------


def test_step_one_lists_only_the_themes_with_free_slots(client, planned):
    page = client.get(start_url())

    assert page.status_code == 200
    text = page.content.decode()
    assert "Find a job" in text  # E has appointment hours
    assert "Find a training" not in text and "Create a business" not in text
    assert f'href="?theme={planned.theme.pk}"' in text
    assert "Step 1 of 4" in text


def test_without_appointment_hours_the_page_says_to_come_without(client, centre):
    page = client.get(start_url()).content.decode()

    assert "No appointment hours are planned for now; come without appointment:" in page
    assert "Monday" in page and "00:00–23:59" in page  # the site's opening hours


def test_an_unknown_or_inactive_site_is_not_found(client, planned):
    assert client.get(reverse("booking:start", args=["nowhere"])).status_code == 404
    planned.site.active = False
    planned.site.save()
    assert client.get(start_url()).status_code == 404


def test_step_two_offers_the_channels_of_the_themes_slots(client, planned, centre):
    page = client.get(start_url(theme=planned.theme.pk)).content.decode()

    assert "Step 2 of 4" in page
    for name in ("In person", "By phone", "By video"):
        assert name in page
    assert "A counsellor calls you at your time" in page
    # Without a video room address, no video.
    planned.site.video_room_template = ""
    planned.site.save()
    page = client.get(start_url(theme=planned.theme.pk)).content.decode()
    assert "By phone" in page and "By video" not in page


def test_step_three_shows_the_free_times_by_day_in_the_sites_zone(client, planned):
    first = free_slots(planned, "phone")[0]
    appointments.book(
        site=planned.site,
        theme_id=planned.theme.pk,
        channel="phone",
        desk_id=first.desk_id,
        starts=first.starts,
        pseudonym="Sam",
        phone="0611111111",
    )
    page = client.get(start_url(theme=planned.theme.pk, channel="phone")).content.decode()

    assert "Step 3 of 4" in page
    assert "Times at Site Alpha (Europe/Paris)." in page
    assert slot_param(first) not in page  # taken
    second = free_slots(planned, "phone")[0]
    assert slot_param(second) in page
    local = timezone.localtime(second.starts, planned.site.zone)
    assert f'<span class="slot-time">{local:%H:%M}</span>' in page
    assert local.strftime("%A") in page  # grouped under its day


def test_step_four_is_the_form_with_what_the_contact_is_for_and_when_it_goes(
    client, planned, settings
):
    settings.APPOINTMENT_CONTACT_RETENTION_DAYS = 2
    slot = free_slots(planned, "phone")[0]
    page = client.get(
        start_url(theme=planned.theme.pk, channel="phone", slot=slot_param(slot))
    ).content.decode()

    assert "Step 4 of 4" in page
    assert 'name="phone"' in page and 'name="email"' not in page
    assert "It is used only for the counsellor" in page
    erased = planned.site.local_date(slot.starts) + dt.timedelta(days=2)
    assert f"It is erased on {erased:%A} {erased.day} {erased:%B %Y}." in page
    assert 'class="honeypot"' in page
    assert "data-challenge" not in page  # nobody has booked from here yet


def test_in_person_asks_for_one_contact_of_either_kind(client, planned):
    slot = free_slots(planned, "in_person")[0]
    page = client.get(
        start_url(theme=planned.theme.pk, channel="in_person", slot=slot_param(slot))
    ).content.decode()
    assert 'name="phone"' in page and 'name="email"' in page
    assert "One way to reach you: a phone number or an e-mail address" in page


E, F = "{E}", "{F}"  # Alpha's theme with appointment hours, and one without


@pytest.mark.parametrize(
    "query, back_to, message",
    [
        ({"theme": "999999"}, set(), "This theme has no appointment to offer"),
        ({"theme": "x" * 5000}, set(), "This theme has no appointment to offer"),
        ({"theme": F}, set(), "This theme has no appointment to offer"),
        ({"theme": E, "channel": "chat"}, {"theme"}, "This way of meeting is not offered"),
        ({"theme": E, "channel": "phone", "slot": "nonsense"}, {"theme", "channel"}, "Choose one"),
        (
            {"theme": E, "channel": "phone", "slot": "4_2026-03-10T14:00"},
            {"theme", "channel"},
            "Choose one",
        ),
        (
            {"theme": E, "channel": "phone", "slot": "4_2020-03-10T13:00Z"},
            {"theme", "channel"},
            "This time has passed",
        ),
    ],
)
def test_a_choice_that_does_not_hold_goes_back_a_step_with_a_message(
    client, planned, query, back_to, message
):
    ids = {"{E}": planned.theme.pk, "{F}": planned.site.themes.get(letter="F").pk}
    query = {name: ids.get(value, value) for name, value in query.items()}

    response = client.get(start_url(**query))

    assert response.status_code == 302
    kept = dict(p.split("=") for p in response.url.partition("?")[2].split("&") if p)
    assert set(kept) == back_to
    assert any(message in m for m in messages_of(response))
    assert client.get(response.url).status_code == 200


def test_a_slot_on_a_closed_day_or_outside_appointment_hours_is_not_offered(client, planned):
    slot = free_slots(planned, "phone")[-1]
    day = planned.site.local_date(slot.starts)
    outside = timezone.localtime(slot.starts, planned.site.zone).replace(hour=10, minute=0)
    planning.add_exception(site=planned.site, day=day, kind="site_closed")

    for starts in (slot.starts, outside):
        value = f"{planned.desk.pk}_{starts.astimezone(dt.UTC):%Y-%m-%dT%H:%MZ}"
        response = client.get(start_url(theme=planned.theme.pk, channel="phone", slot=value))
        assert response.status_code == 302
        assert "slot=" not in response.url
        assert any("This time is not free or not offered" in m for m in messages_of(response))
        posted = post_booking(client, planned, type(slot)(planned.desk.pk, 0, starts, starts, ()))
        assert posted.status_code == 400
        assert "Choose one of the times offered." in posted.content.decode()
    assert not Appointment.objects.exists()


# --- booking --------------------------------------------------------------------------------------


def test_a_phone_booking_lands_on_its_confirmation(client, planned):
    slot = free_slots(planned, "phone")[0]

    secret = booked_secret(post_booking(client, planned, slot))

    appointment = Appointment.objects.get()
    assert (appointment.channel, appointment.phone, appointment.email) == (
        "phone",
        "0601020304",
        "",
    )
    assert (appointment.desk_id, appointment.starts) == (slot.desk_id, slot.starts)
    response = client.get(reverse("booking:manage", args=[secret]))
    # A page at a secret link: kept by no cache, and its address sent to no other site.
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "same-origin"
    page = response.content.decode()
    assert "Your appointment is booked" in page
    assert "Find a job" in page and "By phone" in page
    code = appointment.code
    assert f"{code[:4]}-{code[4:]}" in page
    local = timezone.localtime(slot.starts, planned.site.zone)
    assert f"{local:%H:%M}–" in page
    assert "Desk 4" not in page  # the desk is for on-site visitors
    erased = planned.site.local_date(slot.starts) + dt.timedelta(days=1)
    assert f"Your contact is erased on {erased:%A} {erased.day} {erased:%B %Y}." in page


def test_a_video_booking_says_the_link_comes_by_email_and_in_person_names_the_desk(client, planned):
    video = free_slots(planned, "video")[0]
    page = client.get(
        reverse(
            "booking:manage",
            args=[booked_secret(post_booking(client, planned, video, channel="video"))],
        )
    ).content.decode()
    assert "You will receive the link of the video call by e-mail." in page

    on_site = free_slots(planned, "in_person")[0]
    page = client.get(
        reverse(
            "booking:manage",
            args=[
                booked_secret(
                    post_booking(
                        client, planned, on_site, channel="in_person", email="kim@example.org"
                    )
                )
            ],
        )
    ).content.decode()
    assert "Desk 4" in page and "give this code at reception" in page


@pytest.mark.parametrize(
    "channel, fields, message",
    [
        ("phone", {"phone": "call me"}, "This is not a phone number."),
        ("in_person", {"email": "not an address"}, "This is not an e-mail address."),
        ("in_person", {"email": "", "phone": ""}, "Give one way to reach you"),
        (
            "in_person",
            {"email": "zoe@example.org", "phone": "0601020304"},
            "Give one way to reach you",
        ),
        ("phone", {"phone": "", "email": "zoe@example.org"}, "needs the number to call"),
        ("video", {"email": ""}, "needs an e-mail address for the link"),
        ("phone", {"pseudonym": " "}, "Give a first name or a pseudonym."),
    ],
)
def test_a_refused_booking_shows_the_form_again_with_the_input_kept(
    client, planned, channel, fields, message
):
    slot = free_slots(planned, channel)[0]

    response = post_booking(client, planned, slot, channel=channel, **fields)

    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    if "pseudonym" not in fields:
        assert 'value="Zoé"' in page
    shown = {"phone": ["phone"], "video": ["email"], "in_person": ["phone", "email"]}[channel]
    for name in shown:
        if fields.get(name, "").strip():
            assert f'value="{fields[name]}"' in page
    assert not Appointment.objects.exists()


@pytest.mark.parametrize(
    "channel, fields, field, extra",
    [
        ("phone", {"phone": "call me"}, "phone", "contact-use"),
        ("video", {"email": ""}, "email", "contact-use"),
        ("in_person", {"email": "not an address"}, "email", "contact-use"),
        ("phone", {"pseudonym": " "}, "pseudonym", "id_pseudonym_helptext"),
    ],
)
def test_a_refused_field_carries_its_message_for_screen_readers(
    client, planned, channel, fields, field, extra
):
    slot = free_slots(planned, channel)[0]

    page = post_booking(client, planned, slot, channel=channel, **fields).content.decode()

    widget = re.search(rf'<input[^>]*name="{field}"[^>]*>', page).group(0)
    described = re.search(r'aria-describedby="([^"]+)"', widget).group(1).split()
    assert f"id_{field}_error" in described and extra in described
    assert 'aria-invalid="true"' in widget
    assert f'id="id_{field}_error"' in page
    for described_id in described:
        assert f'id="{described_id}"' in page
    assert f'href="#id_{field}"' in page  # the summary at the top links to it


def test_a_filled_honeypot_books_nothing(client, planned):
    slot = free_slots(planned, "phone")[0]

    response = post_booking(client, planned, slot, website="http://spam.example")

    assert response.status_code == 400
    assert "Your booking could not be recorded." in response.content.decode()
    assert not Appointment.objects.exists()


def test_a_posted_theme_or_channel_not_offered_books_nothing(client, planned):
    slot = free_slots(planned, "phone")[0]
    other_theme = planned.site.themes.get(letter="F")

    for fields in ({"theme": other_theme.pk}, {"theme": "x"}, {"channel": "chat"}):
        response = post_booking(client, planned, slot, **fields)
        assert response.status_code == 302
        assert messages_of(response)
    past = type(slot)(slot.desk_id, 0, slot.starts - dt.timedelta(days=30), slot.ends, ())
    response = post_booking(client, planned, past)
    assert response.status_code == 302 and "slot=" not in response.url
    assert any("This time has passed" in m for m in messages_of(response))
    assert not Appointment.objects.exists()


def test_a_slot_taken_meanwhile_is_refused_on_the_form(client, planned):
    slot = free_slots(planned, "phone")[0]
    booked_secret(post_booking(client, planned, slot, phone="0611111111"))

    response = post_booking(client, planned, slot, phone="0622222222")

    assert response.status_code == 400
    page = response.content.decode()
    assert "This time has just been taken: choose another one." in page
    assert "Choose another time" in page
    assert Appointment.objects.count() == 1


def test_the_rate_limit_of_registrations_holds_for_bookings(client, planned, settings):
    settings.EVENT_REGISTRATIONS_PER_HOUR = 2
    free = free_slots(planned, "phone")
    for n in range(2):
        booked_secret(post_booking(client, planned, free[n], phone=f"061111111{n}"))

    refused = post_booking(client, planned, free[2], phone="0622222222")
    neighbour = post_booking(client, planned, free[2], phone="0633333333", address="198.51.100.7")

    assert refused.status_code == 429
    assert "Too many bookings from this connection." in refused.content.decode()
    assert Appointment.objects.filter(phone="0622222222").exists() is False
    booked_secret(neighbour)
    assert Appointment.objects.count() == 3


def test_a_network_that_booked_a_few_times_gets_the_check(client, planned, settings):
    settings.EVENT_CHALLENGE_DIFFICULTY = 2000
    settings.EVENT_CHALLENGE_AFTER = 2
    free = free_slots(planned, "phone")
    for n in range(2):
        booked_secret(post_booking(client, planned, free[n], phone=f"061111111{n}"))
    form_url = start_url(theme=planned.theme.pk, channel="phone", slot=slot_param(free[2]))

    page = client.get(form_url, REMOTE_ADDR="203.0.113.9").content.decode()
    without = post_booking(client, planned, free[2], phone="0622222222", address="203.0.113.9")

    assert "data-challenge=" in page
    assert "or book at the reception of Site Alpha" in page
    assert without.status_code == 400
    assert "Your booking is not sent yet" in without.content.decode()
    assert Appointment.objects.count() == 2
    # A challenge made for an event's form does not pass here.
    for_an_event = solution(guard.new_challenge(1))
    refused = post_booking(
        client, planned, free[2], phone="0622222222", address="203.0.113.9", altcha=for_an_event
    )
    assert refused.status_code == 400
    booking = solution(guard.new_challenge(f"booking:{planned.site.pk}"))
    booked_secret(
        post_booking(
            client, planned, free[2], phone="0622222222", address="203.0.113.9", altcha=booking
        )
    )
    assert Appointment.objects.count() == 3


# --- the appointment's page -----------------------------------------------------------------------


def test_a_tampered_or_unknown_link_is_not_found(client, planned):
    secret = booked_secret(post_booking(client, planned, free_slots(planned, "phone")[0]))
    for wrong in (secret[:-1] + ("A" if secret[-1] != "A" else "B"), "x", "A" * 200):
        for name in ("booking:manage", "booking:move", "booking:calendar"):
            response = client.get(reverse(name, args=[wrong]))
            assert response.status_code == 404
            assert "This link is not valid" in response.content.decode()
        assert client.post(reverse("booking:cancel", args=[wrong])).status_code == 404
    assert Appointment.objects.get().status == "booked"


def test_the_page_gives_the_appointment_for_a_calendar(client, planned):
    slot = free_slots(planned, "phone")[0]
    secret = booked_secret(post_booking(client, planned, slot))
    page = client.get(reverse("booking:manage", args=[secret])).content.decode()
    address = reverse("booking:calendar", args=[secret])
    assert f'href="{address}"' in page

    response = client.get(address)
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"].startswith("max-age=0")  # a secret page: kept nowhere
    text = response.content.decode()
    appointment = Appointment.objects.get()
    assert f"UID:appointment-{appointment.pk}@citedesmetiers" in text
    assert f"DTSTART:{slot.starts.astimezone(dt.UTC):%Y%m%dT%H%M%SZ}" in text
    assert secret in text.replace("\r\n ", "")  # the manage link, for the calendar's entry
    assert "STATUS:CANCELLED" not in text
    client.post(reverse("booking:cancel", args=[secret]))
    # Cancelled: the same file takes the entry off the calendar it was added to.
    assert "STATUS:CANCELLED" in client.get(address).content.decode()


def test_cancel_then_cancel_again(client, planned):
    secret = booked_secret(post_booking(client, planned, free_slots(planned, "phone")[0]))
    cancel = reverse("booking:cancel", args=[secret])

    first = client.post(cancel, follow=True)
    appointment = Appointment.objects.get()
    cancelled_at = appointment.cancelled_at
    again = client.post(cancel, follow=True)

    assert "This appointment is cancelled" in first.content.decode()
    assert "Cancel the appointment" not in first.content.decode()
    assert "This appointment is already cancelled." in again.content.decode()
    appointment.refresh_from_db()
    assert (appointment.status, appointment.cancelled_at) == ("cancelled", cancelled_at)
    # Moving a cancelled appointment is refused too.
    response = client.get(reverse("booking:move", args=[secret]))
    assert response.status_code == 302
    assert any("can no longer be moved" in m for m in messages_of(response))


def test_move_to_another_slot_of_the_same_theme_and_channel(client, planned):
    free = free_slots(planned, "phone")
    secret = booked_secret(post_booking(client, planned, free[0]))
    move = reverse("booking:move", args=[secret])

    page = client.get(move).content.decode()
    assert slot_param(free[1]) in page and slot_param(free[0]) not in page
    confirm = client.get(f"{move}?slot={slot_param(free[1])}").content.decode()
    assert "Move it to this time" in confirm
    assert Appointment.objects.get().starts == free[0].starts  # a GET moves nothing

    done = client.post(move, {"slot": slot_param(free[1])}, follow=True)

    appointment = Appointment.objects.get()
    assert (appointment.starts, appointment.status) == (free[1].starts, "booked")
    assert "Your appointment is moved to" in done.content.decode()
    assert "Your appointment is booked" in done.content.decode()


def test_move_refuses_a_taken_or_malformed_slot(client, planned):
    free = free_slots(planned, "phone")
    secret = booked_secret(post_booking(client, planned, free[0]))
    booked_secret(post_booking(client, planned, free[1], phone="0699999999"))
    move = reverse("booking:move", args=[secret])

    for value in (slot_param(free[1]), "garbage", ""):
        response = client.post(move, {"slot": value})
        assert response.status_code == 302 and response.url == move
        assert messages_of(response)
        shown = client.get(f"{move}?slot={value}") if value else None
        if shown is not None:
            assert shown.status_code == 302
    assert Appointment.objects.get(phone="0601020304").starts == free[0].starts


def test_an_on_site_visitor_says_they_are_here_from_their_phone(centre, client, today_plan):  # noqa: F811
    appointment = soon(today_plan, minutes=10)
    secret = "a-secret-only-the-visitor-has-0123456789"
    Appointment.objects.filter(pk=appointment.pk).update(
        manage_digest=hashlib.sha256(secret.encode()).hexdigest()
    )
    page = client.get(f"/appointments/manage/{secret}/").content.decode()
    assert "I am here" in page
    response = client.post(f"/appointments/manage/{secret}/here/", follow=True)
    page = response.content.decode()
    assert "You are checked in: ticket E-001. Watch the screen: Desk 4 calls you at" in page
    assert "I am here" not in page
    appointment.refresh_from_db()
    assert appointment.checked_in_at is not None
    # Twice: the same check-in, the same ticket.
    client.post(f"/appointments/manage/{secret}/here/")
    appointment.refresh_from_db()
    assert appointment.ticket_number == 1
    # A phone appointment has nothing to check in.
    phone = soon(today_plan, channel="phone", minutes=20, phone="0601020304")
    other = "another-secret-only-the-visitor-has-987654"
    Appointment.objects.filter(pk=phone.pk).update(
        manage_digest=hashlib.sha256(other.encode()).hexdigest()
    )
    assert "I am here" not in client.get(f"/appointments/manage/{other}/").content.decode()
    response = client.post(f"/appointments/manage/{other}/here/", follow=True)
    assert "the counsellor will call at its time" in response.content.decode()


def test_the_time_of_a_move_is_written_in_each_languages_order(centre):
    starts = dt.datetime(2026, 3, 5, 9, 0, tzinfo=dt.UTC)  # 10:00 in Paris
    said = {}
    for language in ("en", "fr", "es", "it", "pt"):
        with translation.override(language):
            said[language] = _when(centre.alpha, starts)
    assert said == {
        "en": "Thursday March 5 10:00",
        "fr": "jeudi 5 mars 10:00",
        "es": "jueves 5 de marzo 10:00",
        "it": "giovedì 5 marzo 10:00",  # months in lower case, as Italian writes them
        "pt": "quinta-feira 5 de março 10:00",
    }
