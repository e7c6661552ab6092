"""Appointments: slots only from the plan's appointment hours, booking and its refusals (nothing
written), one active booking per contact and theme, cancelling and moving, the on-site check-in
with its code, and the fairness rule — a walk-in desk never calls an appointment, an appointment
desk with none due calls walk-ins — then phone and video appointments started from the desk, and
two people taking the last slot at once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from appointments.models import Appointment
from counselling import planning
from counselling import services as desk_services
from counselling.models import Interview, PlanMode
from counselling.services import appointments
from counselling.services.appointments import AppointmentError
from reception.models import Call, Visit
from tests.counselling_fixtures import (  # noqa: F401  (fixture)
    in_english,
    make_desk,
    open_session,
    queue_visit,
    theme,
)
from tests.threads import in_parallel, needs_postgresql

pytestmark = pytest.mark.usefixtures("in_english")

PARIS = ZoneInfo("Europe/Paris")
MONDAY = dt.date(2026, 3, 9)
TUESDAY = MONDAY + dt.timedelta(days=1)
NOW = dt.datetime(2026, 3, 9, 10, tzinfo=PARIS)  # Monday morning


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


@pytest.fixture
def plan(centre):
    """Alpha: Desk 1 walk-in for E all Tuesday; Desk 4 appointments for E on Tuesday 14:00–17:30
    (in person and by phone) and walk-in for E in the morning."""
    alpha = centre.alpha
    walk_in = make_desk(alpha, "Desk 1", "E", order=1)
    appointment_desk = make_desk(alpha, "Desk 4", "E", order=4)
    e = theme(alpha, "E")

    def session(desk, partner, mode, starts, ends, channels=()):
        return planning.plan_session(
            site=alpha,
            desk_id=desk.pk,
            partner_id=partner.pk,
            theme_ids=[e.pk],
            mode=mode,
            weekday=1,
            starts=dt.time(*starts),
            ends=dt.time(*ends),
            valid_from=MONDAY,
            channels=channels,
        )

    session(walk_in, centre.partner_a, PlanMode.WALK_IN, (9, 0), (17, 30))
    session(appointment_desk, centre.partner_b, PlanMode.WALK_IN, (9, 0), (12, 0))
    session(
        appointment_desk,
        centre.partner_b,
        PlanMode.APPOINTMENTS,
        (14, 0),
        (17, 30),
        channels=["in_person", "phone"],
    )
    return {"walk_in": walk_in, "appointments": appointment_desk, "theme": e}


def book(centre, plan, starts, channel="in_person", **contact):
    contact = contact or {"email": "zoe@example.org"}
    return appointments.book(
        site=centre.alpha,
        theme_id=plan["theme"].pk,
        channel=channel,
        desk_id=plan["appointments"].pk,
        starts=starts,
        pseudonym=contact.pop("pseudonym", "Zoé"),
        now=contact.pop("now", NOW),
        **contact,
    )


# --- slots --------------------------------------------------------------------------------------


def test_slots_come_only_from_appointment_hours(centre, plan):
    free = appointments.slots(centre.alpha, plan["theme"], now=NOW, days=1)
    # 45-minute slots in 14:00–17:30; the last 30 minutes hold none. Walk-in hours hold none.
    assert [s.starts for s in free] == [
        at(TUESDAY, h, m) for h, m in ((14, 0), (14, 45), (15, 30), (16, 15))
    ]
    assert {s.desk_id for s in free} == {plan["appointments"].pk}
    assert appointments.slots(centre.alpha, plan["theme"], channel="video", now=NOW) == []
    # The length is the theme's.
    plan["theme"].appointment_minutes = 60
    plan["theme"].save()
    assert len(appointments.slots(centre.alpha, plan["theme"], now=NOW, days=1)) == 3


def test_a_booked_slot_is_no_longer_offered(centre, plan):
    appointment, secret = book(centre, plan, at(TUESDAY, 14, 45))
    assert appointment.status == Appointment.Status.BOOKED
    assert appointments.by_secret(secret) == appointment
    assert appointment.manage_digest != secret and secret not in appointment.manage_digest
    free = appointments.slots(centre.alpha, plan["theme"], now=NOW, days=1)
    assert at(TUESDAY, 14, 45) not in [s.starts for s in free]
    assert len(free) == 3


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"theme_id": 10**12}, "This theme is not offered"),
        ({"theme_id": "x"}, "This theme is not offered"),
        ({"channel": "chat"}, "Choose in person, by phone or by video"),
        ({"channel": "video"}, "This site has no video room"),
        ({"starts": at(TUESDAY, 14, 10)}, "Choose one of the times offered"),
        ({"starts": at(TUESDAY, 10)}, "Choose one of the times offered"),  # walk-in hours
        ({"starts": at(MONDAY, 9)}, "This time has passed"),
        ({"starts": "tomorrow"}, "Choose one of the times offered"),
        ({"desk_id": "1; DROP TABLE"}, "Choose one of the times offered"),
        ({"pseudonym": "  "}, "Give a first name or a pseudonym"),
        ({"pseudonym": "x" * 41}, "at most 40 characters"),
        ({"email": "", "phone": ""}, "Give one way to reach you"),
        ({"email": "zoe@example.org", "phone": "0601020304"}, "Give one way to reach you"),
        ({"email": "not an address"}, "This is not an e-mail address"),
        ({"email": "", "phone": "call me"}, "This is not a phone number"),
        ({"channel": "phone"}, "A phone appointment needs the number to call"),
    ],
)
def test_bad_bookings_are_refused_and_write_nothing(centre, plan, change, message):
    fields = {
        "site": centre.alpha,
        "theme_id": plan["theme"].pk,
        "channel": "in_person",
        "desk_id": plan["appointments"].pk,
        "starts": at(TUESDAY, 14),
        "pseudonym": "Zoé",
        "email": "zoe@example.org",
        "now": NOW,
    }
    fields.update(change)
    with pytest.raises(AppointmentError, match=message):
        appointments.book(**fields)
    assert Appointment.objects.count() == 0


def test_phone_numbers_are_kept_as_dialled():
    assert appointments.normal_phone("06 01-02.03/04") == "0601020304"
    assert appointments.normal_phone("0033 6 01 02 03 04") == "+33601020304"
    assert appointments.normal_phone("+39 (06) 1234 5678") == "+390612345678"
    assert appointments.normal_phone("12345") is None
    assert appointments.normal_phone("06 01 02 03 04 ext 2") is None


def test_one_active_booking_per_contact_and_theme(centre, plan):
    first, _secret = book(centre, plan, at(TUESDAY, 14), email="Zoe@Example.org")
    with pytest.raises(AppointmentError, match="already has an appointment for this theme"):
        book(centre, plan, at(TUESDAY, 15, 30), email="zoe@example.org")
    assert Appointment.objects.count() == 1
    appointments.cancel(appointment_id=first.pk, now=NOW)
    book(centre, plan, at(TUESDAY, 15, 30), email="zoe@example.org")  # cancelled: free again
    # Reception books for someone who phoned, without any contact, in person.
    _appointment, _secret = appointments.book(
        site=centre.alpha,
        theme_id=plan["theme"].pk,
        channel="in_person",
        desk_id=plan["appointments"].pk,
        starts=at(TUESDAY, 16, 15),
        pseudonym="Monsieur B.",
        by_staff=True,
        now=NOW,
    )
    assert Appointment.objects.filter(status="booked").count() == 2


def test_cancel_twice_and_after_the_start_are_refused(centre, plan):
    appointment, _secret = book(centre, plan, at(TUESDAY, 14))
    appointments.cancel(appointment_id=appointment.pk, now=NOW)
    with pytest.raises(AppointmentError, match="already cancelled"):
        appointments.cancel(appointment_id=appointment.pk, now=NOW)
    other, _secret = book(centre, plan, at(TUESDAY, 14, 45), email="y@example.org")
    with pytest.raises(AppointmentError, match="has started"):
        appointments.cancel(appointment_id=other.pk, now=at(TUESDAY, 14, 50))
    other.refresh_from_db()
    assert other.status == Appointment.Status.BOOKED


def test_move_to_a_free_slot_and_not_to_a_taken_one(centre, plan):
    mine, _secret = book(centre, plan, at(TUESDAY, 14))
    theirs, _secret = book(centre, plan, at(TUESDAY, 14, 45), email="y@example.org")
    with pytest.raises(AppointmentError, match="just been taken"):
        appointments.move(
            appointment_id=mine.pk, desk_id=plan["appointments"].pk, starts=theirs.starts, now=NOW
        )
    moved = appointments.move(
        appointment_id=mine.pk, desk_id=plan["appointments"].pk, starts=at(TUESDAY, 16, 15), now=NOW
    )
    assert moved.starts == at(TUESDAY, 16, 15)
    assert at(TUESDAY, 14) in [
        s.starts for s in appointments.slots(centre.alpha, plan["theme"], now=NOW)
    ]


# --- on the day: the fairness rule --------------------------------------------------------------


def test_an_on_site_visitor_checks_in_with_the_code_and_is_called_at_their_time(centre, plan):
    alpha = centre.alpha
    appointment, _secret = book(centre, plan, at(TUESDAY, 14, 45))
    walk_in_desk = open_session(centre.counsellor_a, plan["walk_in"], at(TUESDAY, 13))
    appointment_desk = open_session(centre.counsellor_b, plan["appointments"], at(TUESDAY, 13))
    for minute in (0, 1, 2):
        queue_visit(alpha, "E", at(TUESDAY, 14, minute))

    checked_in = appointments.check_in(
        site=alpha, code=appointment.code.lower(), now=at(TUESDAY, 14, 30)
    )
    assert checked_in.ticket_number is not None
    # Twice (a double tap): the same check-in.
    assert (
        appointments.check_in(
            site=alpha, code=appointment.code, now=at(TUESDAY, 14, 31)
        ).ticket_number
        == checked_in.ticket_number
    )
    # Not in the walk-in queue: nobody waiting was put behind them.
    assert Visit.objects.filter(status="waiting").count() == 3

    def call(session, minute):
        return desk_services.call_next(
            session_id=session.pk, counsellor=session.counsellor, now=at(TUESDAY, 14, minute)
        )

    # Before their time the appointment desk calls walk-ins.
    early = call(appointment_desk, 35)
    assert not early.by_appointment
    desk_services.start_interview(session_id=appointment_desk.pk, counsellor=centre.counsellor_b)
    desk_services.finish_interview(session_id=appointment_desk.pk, counsellor=centre.counsellor_b)
    # The walk-in desk never calls an appointment, even one due and waiting.
    assert not call(walk_in_desk, 41).by_appointment
    # At their time (from five minutes before), the appointment desk calls them first.
    called = call(appointment_desk, 41)
    assert called.by_appointment and called.status == Visit.Status.CALLED
    assert called.number == checked_in.ticket_number and called.desk == plan["appointments"]
    assert Call.objects.filter(visit=called).exists()  # the display shows it
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.ATTENDED and appointment.visit == called
    interview = desk_services.start_interview(
        session_id=appointment_desk.pk, counsellor=centre.counsellor_b, now=at(TUESDAY, 14, 46)
    )
    assert interview.by_appointment
    # Then it calls walk-ins again: the last one waiting.
    desk_services.finish_interview(session_id=appointment_desk.pk, counsellor=centre.counsellor_b)
    assert not call(appointment_desk, 59).by_appointment
    assert Visit.objects.filter(status="waiting").count() == 0


def test_a_no_show_leaves_the_appointment_desk_to_walk_ins(centre, plan):
    book(centre, plan, at(TUESDAY, 14))  # never checks in
    session = open_session(centre.counsellor_b, plan["appointments"], at(TUESDAY, 13, 55))
    queue_visit(centre.alpha, "E", at(TUESDAY, 13, 58))
    called = desk_services.call_next(
        session_id=session.pk, counsellor=centre.counsellor_b, now=at(TUESDAY, 14, 1)
    )
    assert called is not None and not called.by_appointment


def test_check_in_refusals(centre, plan):
    alpha = centre.alpha
    appointment, _secret = book(centre, plan, at(TUESDAY, 14))
    for code, now, message in [
        ("NOPE1234", at(TUESDAY, 13), "No appointment has this code here"),
        ("", at(TUESDAY, 13), "No appointment has this code here"),
        (appointment.code, at(MONDAY, 13), "on another day"),
        (appointment.code, at(TUESDAY, 14, 16), "More than 15 minutes late"),
    ]:
        with pytest.raises(AppointmentError, match=message):
            appointments.check_in(site=alpha, code=code, now=now)
    with pytest.raises(AppointmentError, match="No appointment has this code here"):
        appointments.check_in(site=centre.beta, code=appointment.code, now=at(TUESDAY, 13))
    appointment.refresh_from_db()
    assert appointment.checked_in_at is None and appointment.ticket_number is None
    # Late: reception checks them in as a walk-in, at the back of the queue.
    queue_visit(alpha, "E", at(TUESDAY, 14, 10))
    late = queue_visit(alpha, "E", at(TUESDAY, 14, 16))
    assert not late.by_appointment
    assert list(Visit.objects.filter(status="waiting").order_by("queued_at"))[-1] == late


def test_a_phone_appointment_is_started_from_the_desk_during_its_slot(centre, plan):
    appointment, _secret = book(
        centre, plan, at(TUESDAY, 15, 30), channel="phone", email="", phone="06 01 02 03 04"
    )
    session = open_session(centre.counsellor_b, plan["appointments"], at(TUESDAY, 14))
    assert list(appointments.remote_due(session.desk_id, at(TUESDAY, 15, 20))) == []
    assert list(appointments.remote_due(session.desk_id, at(TUESDAY, 15, 26))) == [appointment]
    with pytest.raises(AppointmentError, match="not one of your desk's now"):
        appointments.start_remote(
            session_id=session.pk,
            counsellor=centre.counsellor_b,
            appointment_id=appointment.pk,
            now=at(TUESDAY, 15),
        )
    other_desk = open_session(centre.counsellor_a, plan["walk_in"], at(TUESDAY, 14))
    with pytest.raises(AppointmentError, match="not one of your desk's now"):
        appointments.start_remote(
            session_id=other_desk.pk,
            counsellor=centre.counsellor_a,
            appointment_id=appointment.pk,
            now=at(TUESDAY, 15, 30),
        )
    interview = appointments.start_remote(
        session_id=session.pk,
        counsellor=centre.counsellor_b,
        appointment_id=appointment.pk,
        now=at(TUESDAY, 15, 30),
    )
    assert (interview.channel, interview.by_appointment) == ("phone", True)
    assert interview.visit.status == Visit.Status.IN_INTERVIEW
    assert not Call.objects.filter(visit=interview.visit).exists()  # never on the display
    # Finished like any interview.
    desk_services.finish_interview(session_id=session.pk, counsellor=centre.counsellor_b)
    assert Interview.objects.get().ended_at is not None


def test_a_video_appointment_has_an_unguessable_room(centre, plan):
    alpha = centre.alpha
    video_desk = make_desk(alpha, "Desk 5", "E")
    planning.plan_session(
        site=alpha,
        desk_id=video_desk.pk,
        partner_id=centre.partner_a.pk,
        theme_ids=[plan["theme"].pk],
        mode=PlanMode.APPOINTMENTS,
        weekday=1,
        starts=dt.time(9),
        ends=dt.time(12),
        valid_from=MONDAY,
        channels=["video"],
    )
    fields = {
        "site": alpha,
        "theme_id": plan["theme"].pk,
        "channel": "video",
        "desk_id": video_desk.pk,
        "starts": at(TUESDAY, 9),
        "pseudonym": "Zoé",
        "now": NOW,
    }
    # Without the site's room address there is no video room to give.
    with pytest.raises(AppointmentError, match="This site has no video room"):
        appointments.book(**fields, email="zoe@example.org")
    alpha.video_room_template = "https://visio.example.org/cdm-{room}"
    alpha.save()
    with pytest.raises(AppointmentError, match="needs an e-mail address for the link"):
        appointments.book(**fields, phone="0601020304")
    first, _secret = appointments.book(**fields, email="zoe@example.org")
    assert first.room_url.startswith("https://visio.example.org/cdm-")
    second, _secret = appointments.book(
        **{**fields, "starts": at(TUESDAY, 9, 45)}, email="yann@example.org"
    )
    assert len(first.room) >= 20 and first.room != second.room


# --- two people, one slot -----------------------------------------------------------------------


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_fifty_people_taking_the_last_slot_at_once_make_exactly_one_booking(centre, plan):
    def attempt(i):
        try:
            return book(centre, plan, at(TUESDAY, 16, 15), email=f"v{i}@example.org")[0]
        except AppointmentError as refusal:
            return refusal

    results = in_parallel(50, attempt)
    booked = [r for r in results if isinstance(r, Appointment)]
    assert len(booked) == 1
    assert all("just been taken" in str(r) for r in results if not isinstance(r, Appointment))
    assert Appointment.objects.count() == 1


def test_a_plan_changed_under_booked_appointments_keeps_them_and_says_which(mfa_enrolled, login):
    alpha = mfa_enrolled.alpha
    desk = make_desk(alpha, "Desk 4", "E")
    next_week = alpha.local_date() + dt.timedelta(days=7)
    session = planning.plan_session(
        site=alpha,
        desk_id=desk.pk,
        partner_id=mfa_enrolled.partner_b.pk,
        theme_ids=[theme(alpha, "E").pk],
        mode=PlanMode.APPOINTMENTS,
        weekday=next_week.weekday(),
        starts=dt.time(14),
        ends=dt.time(17),
        valid_from=alpha.local_date(),
        channels=["phone"],
    )
    starts = dt.datetime.combine(next_week, dt.time(14), tzinfo=alpha.zone)
    kept, _secret = appointments.book(
        site=alpha,
        theme_id=theme(alpha, "E").pk,
        channel="phone",
        desk_id=desk.pk,
        starts=starts,
        pseudonym="Zoé",
        phone="0601020304",
    )
    assert appointments.without_planned_desk(alpha) == []
    # The manager ends the appointment hours before that day: the booking stays, flagged.
    planning.end_session(session_id=session.pk, last_day=alpha.local_date())
    assert appointments.without_planned_desk(alpha) == [kept]
    kept.refresh_from_db()
    assert kept.status == Appointment.Status.BOOKED
    page = login(mfa_enrolled.manager).get("/manage/planning/").content.decode()
    assert "1 appointment no longer has a planned desk" in page
    assert 'href="tel:0601020304"' in page
