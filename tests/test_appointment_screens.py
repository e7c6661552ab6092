"""Appointments on the staff screens: reception's day list, check-in with the booking code and
booking for someone (a pseudonym); the desk's list of the day, a phone appointment started from
it; and what an appointment's visit may not do at the desk (go back to the walk-in queue)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from appointments.models import Appointment
from counselling import planning
from counselling import services as desk_services
from counselling.models import PlanMode
from counselling.services import appointments
from counselling.services.appointments import AppointmentError
from reception.models import Visit
from tests.counselling_fixtures import in_english, make_desk, open_session, theme  # noqa: F401

pytestmark = pytest.mark.usefixtures("in_english")


def midday_zone(now: dt.datetime) -> str:
    """A fixed-offset zone where `now` reads 12:xx, so that "in two hours" is
    still today whatever hour the tests run at (Etc/GMT-N is N hours ahead of UTC)."""
    offset = 12 - now.astimezone(dt.UTC).hour  # -11 … +12
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/UTC"


@pytest.fixture
def today_plan(centre):
    """Desk 4 of Alpha holds appointments for E all of today, in person and by phone; Alpha's
    clock reads midday-ish, so appointments a few hours out are today's."""
    alpha = centre.alpha
    alpha.time_zone = midday_zone(timezone.now())
    alpha.save(update_fields=["time_zone"])
    desk = make_desk(alpha, "Desk 4", "E", order=4)
    planning.plan_session(
        site=alpha,
        desk_id=desk.pk,
        partner_id=centre.partner_b.pk,
        theme_ids=[theme(alpha, "E").pk],
        mode=PlanMode.APPOINTMENTS,
        weekday=alpha.local_date().weekday(),
        starts=dt.time(0),
        ends=dt.time(23, 59),
        valid_from=alpha.local_date(),
        channels=["in_person", "phone"],
    )
    return desk


def soon(desk, channel="in_person", minutes=3, **contact) -> Appointment:
    """An appointment starting in a few minutes (sooner than booking allows: made directly)."""
    starts = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(minutes=minutes)
    return Appointment.objects.create(
        site=desk.site,
        theme=theme(desk.site, "E"),
        desk=desk,
        partner_id=desk.site.planned_sessions.get().partner_id,
        channel=channel,
        starts=starts,
        ends=starts + dt.timedelta(minutes=45),
        code=f"CODE{Appointment.objects.count():04d}",
        manage_digest=f"{Appointment.objects.count():064d}",
        pseudonym=contact.get("pseudonym", "Zoé"),
        phone=contact.get("phone", ""),
        booked_at=timezone.now(),
    )


def test_reception_checks_an_appointment_in_with_its_code(centre, client, today_plan):
    appointment = soon(today_plan)
    client.force_login(centre.reception, backend="citedesmetiers.auth_backends.ModelBackend")
    page = client.get("/reception/appointments/").content.decode()
    assert "Zoé" in page and "Desk 4" in page

    response = client.post(
        "/reception/appointments/check-in/", {"code": appointment.code.lower()}, follow=True
    )
    page = response.content.decode()
    assert "Zoé checked in: ticket E-001" in page
    appointment.refresh_from_db()
    assert appointment.checked_in_at is not None
    assert not Visit.objects.exists()  # not in the walk-in queue

    response = client.post("/reception/appointments/check-in/", {"code": "WRONG"}, follow=True)
    assert "No appointment has this code here." in response.content.decode()


def test_reception_books_for_someone_with_a_pseudonym(centre, client, today_plan):
    client.force_login(centre.reception, backend="citedesmetiers.auth_backends.ModelBackend")
    e = theme(centre.alpha, "E")
    page = client.get(f"/reception/appointments/?theme={e.pk}&channel=phone").content.decode()
    assert 'name="slot"' in page and 'name="phone"' in page
    slot = appointments.slots(centre.alpha, e, channel="phone")[0]
    data = {
        "theme": e.pk,
        "channel": "phone",
        "slot": f"{slot.desk_id}@{slot.starts.isoformat()}",
        "pseudonym": "Monsieur B.",
        "phone": "06 01 02 03 04",
    }
    response = client.post("/reception/appointments/book/", data, follow=True)
    assert "Booked: Monsieur B." in response.content.decode()
    booked = Appointment.objects.get()
    assert booked.booked_by_staff and booked.phone == "0601020304"

    # The same time again, or a made-up one: refused, nothing more booked.
    for slot_value in (data["slot"], "1@not-a-time", "x", ""):
        response = client.post("/reception/appointments/book/", {**data, "slot": slot_value})
        assert response.status_code == 302
    assert Appointment.objects.count() == 1


def test_the_desk_lists_the_day_and_starts_a_phone_appointment(centre, client, today_plan):
    phone = soon(today_plan, channel="phone", minutes=2, phone="0601020304", pseudonym="Ana")
    later = soon(today_plan, minutes=120, pseudonym="Léo")
    session = open_session(centre.counsellor_b, today_plan)
    client.force_login(centre.counsellor_b, backend="citedesmetiers.auth_backends.ModelBackend")
    page = client.get("/desk/").content.decode()
    assert "Appointments today" in page and "Ana" in page and "Léo" in page
    assert "Start: Ana" in page and "Start: Léo" not in page  # not its time yet

    response = client.post("/desk/start-appointment/", {"appointment": later.pk}, follow=True)
    assert "not one of your desk&#x27;s now" in response.content.decode()
    response = client.post("/desk/start-appointment/", {"appointment": phone.pk})
    assert response.status_code == 302
    page = client.get("/desk/").content.decode()
    assert 'href="tel:0601020304"' in page and "by appointment" in page
    assert "Back to the queue" not in page
    phone.refresh_from_db()
    assert phone.status == Appointment.Status.ATTENDED
    assert phone.visit.interviews.get().by_appointment
    assert session.pk == phone.visit.interviews.get().session_id


def test_an_appointment_never_goes_back_to_the_walk_in_queue(centre, today_plan):
    appointment = soon(today_plan, minutes=1)
    appointments.check_in(site=centre.alpha, code=appointment.code)
    session = open_session(centre.counsellor_b, today_plan)
    desk = {"session_id": session.pk, "counsellor": centre.counsellor_b}
    visit = desk_services.call_next(**desk)
    assert visit.by_appointment
    with pytest.raises(desk_services.CounsellingError, match="never joins the walk-in queue"):
        desk_services.hand_back(**desk, visit_id=visit.pk)
    # Missed when called: no “put back” — they check in again at reception, as a walk-in.
    desk_services.mark_no_show(**desk, visit_id=visit.pk)
    appointment.refresh_from_db()
    assert appointment.status == Appointment.Status.NO_SHOW
    with pytest.raises(desk_services.CounsellingError, match="cannot be put back"):
        desk_services.put_back(site_id=centre.alpha.pk, visit_id=visit.pk)
    assert not Visit.objects.filter(status=Visit.Status.WAITING).exists()


def test_an_appointment_referred_to_another_theme_queues_as_a_fresh_arrival(centre, today_plan):
    appointment = soon(today_plan, minutes=1)
    checked_in = appointments.check_in(site=centre.alpha, code=appointment.code)
    session = open_session(centre.counsellor_b, today_plan)
    desk = {"session_id": session.pk, "counsellor": centre.counsellor_b}
    visit = desk_services.call_next(**desk)
    desk_services.start_interview(**desk)
    before = timezone.now()
    desk_services.finish_interview(
        **desk,
        outcomes=["referred_desk"],
        refer_theme_id=theme(centre.alpha, "F").pk,
        referral_reason="wrong_theme",
    )
    visit.refresh_from_db()
    assert visit.status == Visit.Status.WAITING
    assert visit.queued_at >= before > checked_in.checked_in_at


def test_checking_in_twice_at_once_gives_one_ticket(centre, today_plan):
    appointment = soon(today_plan)
    first = appointments.check_in(site=centre.alpha, code=appointment.code)
    again = appointments.check_in(
        site=centre.alpha, code=f" {appointment.code[:4]}-{appointment.code[4:]} "
    )
    assert first.ticket_number == again.ticket_number
    with pytest.raises(AppointmentError):
        appointments.check_in(site=centre.beta, code=appointment.code)
