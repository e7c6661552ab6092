"""Check-in: ticket codes count per site, per local day and per letter; a double submit makes one
visit; bad input and a closed site create nothing; reception moves or closes waiting tickets; a
visitor leaves the queue from their phone.

Personas (tests/conftest.py): Alice is the reception agent of site Alpha, Grace manages site Beta,
visitors are anonymous."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from citedesmetiers.models import Theme
from citedesmetiers.roles import Role
from counselling.models import Desk
from reception import services
from reception.models import TicketCounter, Visit
from tests.conftest import make_site, make_staff

PARIS = ZoneInfo("Europe/Paris")
UTC = dt.UTC


@pytest.fixture(autouse=True)
def _english(settings):
    # The assertions read English messages, whatever catalogues exist.
    settings.LANGUAGE_CODE = "en"


def theme_of(site, letter: str):
    return site.themes.get(letter=letter)


def check_in(site, letter: str = "E", **kwargs) -> Visit:
    visit, _created = services.check_in(site=site, theme_id=theme_of(site, letter).pk, **kwargs)
    return visit


def nothing_was_created() -> bool:
    return not Visit.objects.exists() and not TicketCounter.objects.exists()


def messages_of(response) -> list[tuple[str, str]]:
    """The (level, text) of the messages shown on the page a redirect led to."""
    return [(message.level_tag, str(message)) for message in response.context["messages"]]


def post_check_in(client, theme, **data):
    data = {"theme": theme.pk, "checkin_key": str(uuid.uuid4()), **data}
    return client.post(reverse("reception:check_in"), data)


# --- ticket numbers -------------------------------------------------------------------------------


def test_it_numbers_tickets_per_letter_from_one(centre):
    codes = [check_in(centre.alpha, letter).code for letter in "EEFEAF"]
    assert codes == ["E-001", "E-002", "F-001", "E-003", "A-001", "F-002"]


def test_it_numbers_each_site_on_its_own(centre):
    assert check_in(centre.alpha).code == "E-001"
    assert check_in(centre.beta).code == "E-001"
    assert check_in(centre.alpha).code == "E-002"


def test_it_starts_a_new_day_at_local_midnight(centre):
    # 23:59 and 00:01 in Paris are 21:59 and 22:01 UTC: the same UTC day, two local days.
    before = check_in(centre.alpha, now=dt.datetime(2026, 5, 6, 23, 59, tzinfo=PARIS))
    after = check_in(centre.alpha, now=dt.datetime(2026, 5, 7, 0, 1, tzinfo=PARIS))
    later = check_in(centre.alpha, now=dt.datetime(2026, 5, 7, 0, 2, tzinfo=PARIS))

    assert (before.code, before.local_date) == ("E-001", dt.date(2026, 5, 6))
    assert (after.code, after.local_date) == ("E-001", dt.date(2026, 5, 7))
    assert (later.code, later.local_date) == ("E-002", dt.date(2026, 5, 7))


def test_it_keeps_one_local_day_across_the_spring_clock_change(centre):
    # Sunday 29 March 2026 in Paris lasts 23 hours: clocks jump from 02:00 to 03:00.
    moments = [
        dt.datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 00:30 CET
        dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC),  # 01:59 CET
        dt.datetime(2026, 3, 29, 1, 1, tzinfo=UTC),  # 03:01 CEST
        dt.datetime(2026, 3, 29, 21, 30, tzinfo=UTC),  # 23:30 CEST
    ]
    visits = [check_in(centre.alpha, now=moment) for moment in moments]
    assert [v.code for v in visits] == ["E-001", "E-002", "E-003", "E-004"]
    assert {v.local_date for v in visits} == {dt.date(2026, 3, 29)}

    eve = check_in(centre.alpha, now=dt.datetime(2026, 3, 28, 22, 50, tzinfo=UTC))  # 23:50 CET
    monday = check_in(centre.alpha, now=dt.datetime(2026, 3, 29, 22, 10, tzinfo=UTC))  # 00:10 CEST
    assert (eve.code, eve.local_date) == ("E-001", dt.date(2026, 3, 28))
    assert (monday.code, monday.local_date) == ("E-001", dt.date(2026, 3, 30))


def test_it_keeps_one_local_day_across_the_autumn_clock_change(centre):
    # Sunday 25 October 2026 in Paris lasts 25 hours: 02:00–03:00 happens twice.
    moments = [
        dt.datetime(2026, 10, 24, 22, 30, tzinfo=UTC),  # 00:30 CEST
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 CEST, the first time
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 CET, the second time
        dt.datetime(2026, 10, 25, 22, 30, tzinfo=UTC),  # 23:30 CET, 24 hours after the first
    ]
    visits = [check_in(centre.alpha, now=moment) for moment in moments]
    assert [v.code for v in visits] == ["E-001", "E-002", "E-003", "E-004"]
    assert {v.local_date for v in visits} == {dt.date(2026, 10, 25)}

    monday = check_in(centre.alpha, now=dt.datetime(2026, 10, 25, 23, 30, tzinfo=UTC))  # 00:30 CET
    assert (monday.code, monday.local_date) == ("E-001", dt.date(2026, 10, 26))


def test_a_site_in_another_time_zone_counts_its_own_local_day(centre):
    montreal = make_site("montreal", time_zone="America/Montreal")
    evening = dt.datetime(2026, 6, 10, 3, 30, tzinfo=UTC)  # 23:30 on the 9th in Montreal
    night = dt.datetime(2026, 6, 10, 4, 30, tzinfo=UTC)  # 00:30 on the 10th in Montreal

    first, second = check_in(montreal, now=evening), check_in(montreal, now=night)
    assert (first.code, first.local_date) == ("E-001", dt.date(2026, 6, 9))
    assert (second.code, second.local_date) == ("E-001", dt.date(2026, 6, 10))

    # The same two moments are one morning in Paris.
    paris = [check_in(centre.alpha, now=evening), check_in(centre.alpha, now=night)]
    assert [(v.code, v.local_date) for v in paris] == [
        ("E-001", dt.date(2026, 6, 10)),
        ("E-002", dt.date(2026, 6, 10)),
    ]


def test_the_ticket_and_the_tablet_show_the_time_at_the_site(db, client):
    montreal = make_site("montreal", time_zone="America/Montreal")
    client.force_login(make_staff("mo@montreal.test", Role.RECEPTION, montreal))
    # 06:17 in Montreal today; the server's own time zone is Paris.
    arrival = dt.datetime.combine(
        montreal.local_date(), dt.time(6, 17), tzinfo=ZoneInfo("America/Montreal")
    )
    in_paris = f"{arrival.astimezone(PARIS):%H:%M}"
    visit = check_in(montreal, now=arrival)

    ticket = client.get(reverse("reception:ticket", args=[visit.pk])).content.decode()
    tablet = client.get(reverse("reception:tablet")).content.decode()

    assert "06:17" in ticket
    assert "since 06:17" in tablet
    assert in_paris not in ticket + tablet


# --- a double submit ------------------------------------------------------------------------------


def test_the_same_checkin_key_twice_makes_one_visit(centre):
    key = uuid.uuid4()
    theme = theme_of(centre.alpha, "E")
    first, created = services.check_in(site=centre.alpha, theme_id=theme.pk, checkin_key=key)
    again, created_again = services.check_in(site=centre.alpha, theme_id=theme.pk, checkin_key=key)

    assert (created, created_again) == (True, False)
    assert again.pk == first.pk
    assert Visit.objects.count() == 1
    # The second submit did not use up a number: the next visitor is E-002.
    assert check_in(centre.alpha).code == "E-002"


def test_a_double_submitted_form_makes_one_visit_and_one_confirmation(centre, login):
    client = login(centre.reception)
    data = {"theme": theme_of(centre.alpha, "E").pk, "checkin_key": str(uuid.uuid4())}

    first = client.post(reverse("reception:check_in"), data)
    second = client.post(reverse("reception:check_in"), data)

    visit = Visit.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == reverse("reception:checked_in", args=[visit.pk])
    assert client.get(first.url).content.decode().count("E-001") >= 1


def test_a_resubmitted_check_in_returns_its_visit_even_once_the_theme_is_closed(centre):
    # The first submit went through; the theme closed before the form was sent again.
    key = uuid.uuid4()
    theme = theme_of(centre.alpha, "E")
    first, _created = services.check_in(site=centre.alpha, theme_id=theme.pk, checkin_key=key)
    Theme.objects.filter(pk=theme.pk).update(active=False)

    again, created = services.check_in(site=centre.alpha, theme_id=theme.pk, checkin_key=key)

    assert (again.pk, created) == (first.pk, False)
    assert Visit.objects.count() == 1


def test_a_key_used_at_another_site_does_not_return_that_sites_visit(centre):
    key = uuid.uuid4()
    services.check_in(site=centre.beta, theme_id=theme_of(centre.beta, "E").pk, checkin_key=key)

    visit, created = services.check_in(
        site=centre.alpha, theme_id=theme_of(centre.alpha, "E").pk, checkin_key=key
    )

    assert created and visit.site == centre.alpha and visit.code == "E-001"
    assert Visit.objects.count() == 2


# --- refusals: nothing is created -----------------------------------------------------------------


@pytest.mark.parametrize("theme_id", ["999999", 999999, "abc", "", "1.0", "-1", "²", "9" * 30])
def test_it_refuses_an_unknown_theme_and_creates_nothing(centre, theme_id):
    with pytest.raises(services.ReceptionError):
        services.check_in(site=centre.alpha, theme_id=theme_id)
    assert nothing_was_created()


def test_it_refuses_a_theme_of_another_site_and_creates_nothing(centre):
    with pytest.raises(services.ReceptionError):
        services.check_in(site=centre.alpha, theme_id=theme_of(centre.beta, "E").pk)
    assert nothing_was_created()


def test_it_refuses_an_inactive_theme_and_creates_nothing(centre):
    theme = theme_of(centre.alpha, "A")
    theme.active = False
    theme.save(update_fields=["active"])

    with pytest.raises(services.ReceptionError, match="Create a business"):
        services.check_in(site=centre.alpha, theme_id=theme.pk)
    assert nothing_was_created()


def test_the_tablet_says_why_a_theme_was_refused(centre, login):
    client = login(centre.reception)
    response = post_check_in(client, theme_of(centre.beta, "E"))

    assert response.status_code == 302
    assert response.url == reverse("reception:tablet")
    assert messages_of(client.get(response.url)) == [
        ("error", "This theme does not exist at this site.")
    ]
    assert nothing_was_created()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("channel", "carrier pigeon"),
        ("age_bracket", "42"),
        ("situation", "astronaut"),
        ("area", "the moon"),
    ],
)
def test_it_refuses_an_invalid_profile_value_and_creates_nothing(centre, field, value):
    with pytest.raises(services.ReceptionError):
        check_in(centre.alpha, **{field: value})
    assert nothing_was_created()


@pytest.mark.parametrize("field", ["age_bracket", "situation", "area"])
def test_the_tablet_refuses_a_forged_profile_value(centre, login, field):
    client = login(centre.reception)
    response = post_check_in(client, theme_of(centre.alpha, "E"), **{field: "forged"})

    assert response.status_code == 302
    assert response.url == reverse("reception:tablet")
    assert [level for level, _text in messages_of(client.get(response.url))] == ["error"]
    assert nothing_was_created()


def test_it_keeps_a_coarse_profile_where_every_answer_is_optional(centre, login):
    client = login(centre.reception)
    post_check_in(
        client,
        theme_of(centre.alpha, "E"),
        age_bracket="18-25",
        situation="job_seeker",
        area="",  # prefer not to say
    )
    visit = Visit.objects.get()
    assert (visit.age_bracket, visit.situation, visit.area) == ("18-25", "job_seeker", "")


# --- opening hours ------------------------------------------------------------------------------


@pytest.fixture
def closed_site(db):
    """Site Gamma has no opening hours at all, and Zoe is its reception agent."""
    gamma = make_site("gamma", always_open=False)
    make_staff("zoe@gamma.test", Role.RECEPTION, gamma)
    return gamma


def test_it_refuses_a_check_in_while_the_site_is_closed(closed_site):
    with pytest.raises(services.SiteClosed, match="Site Gamma is closed now"):
        check_in(closed_site)
    assert nothing_was_created()


def test_reception_can_check_a_late_arrival_in_anyway(closed_site):
    visit = check_in(closed_site, override_hours=True)
    assert visit.code == "E-001"
    assert visit.status == Visit.Status.WAITING


def test_the_tablet_says_once_that_the_site_is_closed_and_offers_late_check_ins(
    closed_site, client, django_user_model
):
    client.force_login(django_user_model.objects.get(email="zoe@gamma.test"))
    page = client.get(reverse("reception:tablet")).content.decode()
    assert page.count("Site Gamma is closed now.") == 1
    assert 'action="{}"'.format(reverse("reception:late_check_ins")) in page
    assert 'name="late" value="on"' in page


def test_a_tap_after_hours_is_refused_once_with_that_check_in_one_tap_away(
    closed_site, client, django_user_model
):
    client.force_login(django_user_model.objects.get(email="zoe@gamma.test"))
    theme = theme_of(closed_site, "E")
    key = str(uuid.uuid4())

    response = post_check_in(client, theme, checkin_key=key, age_bracket="18-25")

    # The tablet itself says it, once: no flash message on top of its own notice.
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("Site Gamma is closed now.") == 1
    assert "This visitor is not checked in yet." in page
    assert list(response.context["messages"]) == []
    assert nothing_was_created()
    # The offer re-sends this very check-in (same key and answers) with the override.
    offer = page[page.index('class="late-check-ins refused"') :]
    offer = offer[: offer.index("</form>")]
    for field in (
        f'name="checkin_key" value="{key}"',
        'name="override_hours" value="on"',
        'name="age_bracket" value="18-25"',
        f'name="theme" value="{theme.pk}"',
    ):
        assert field in offer
    assert "Check in anyway: Find a job" in offer

    response = post_check_in(
        client, theme, checkin_key=key, age_bracket="18-25", override_hours="on"
    )
    visit = Visit.objects.get()
    assert response.url == reverse("reception:checked_in", args=[visit.pk])
    assert (visit.code, visit.age_bracket) == ("E-001", "18-25")


def test_the_tablet_does_not_warn_while_the_site_is_open(centre, login):
    page = login(centre.reception).get(reverse("reception:tablet")).content.decode()
    assert "closed now" not in page
    assert 'name="override_hours"' not in page
    assert 'name="late"' not in page


# --- reception moves a ticket or marks it left ----------------------------------------------------


def frozen(visit: Visit) -> dict:
    """Everything about a visit, to check that a refusal changed nothing."""
    return Visit.objects.filter(pk=visit.pk).values().get()


def call_to_a_desk(visit: Visit, status=Visit.Status.CALLED) -> Visit:
    desk = Desk.objects.create(site=visit.site, name=f"Desk {visit.pk}")
    Visit.objects.filter(pk=visit.pk).update(
        status=status, desk=desk, called_at=timezone.now(), started_at=None
    )
    visit.refresh_from_db()
    return visit


def set_status(visit: Visit, status: str) -> Visit:
    if status in (Visit.Status.CALLED, Visit.Status.IN_INTERVIEW):
        return call_to_a_desk(visit, status)
    Visit.objects.filter(pk=visit.pk).update(status=status, ended_at=timezone.now())
    visit.refresh_from_db()
    return visit


def test_reception_moves_a_waiting_ticket_to_another_theme(centre, login):
    visit = check_in(centre.alpha, "E")
    client = login(centre.reception)
    training = theme_of(centre.alpha, "F")

    response = client.post(
        reverse("reception:change_theme", args=[visit.pk]), {"theme": training.pk}, follow=True
    )

    assert messages_of(response) == [("success", "Ticket E-001 now waits for “Find a training”.")]
    moved = Visit.objects.get(pk=visit.pk)
    assert moved.theme == training
    assert moved.first_theme == theme_of(centre.alpha, "E")
    # It keeps its code and its place in time.
    assert moved.code == "E-001"
    assert moved.queued_at == visit.queued_at


@pytest.mark.parametrize(
    "status",
    [Visit.Status.CALLED, Visit.Status.IN_INTERVIEW, Visit.Status.DONE, Visit.Status.LEFT],
)
def test_reception_cannot_move_a_ticket_that_no_longer_waits(centre, login, status):
    visit = set_status(check_in(centre.alpha, "E"), status)
    before = frozen(visit)

    response = login(centre.reception).post(
        reverse("reception:change_theme", args=[visit.pk]),
        {"theme": theme_of(centre.alpha, "F").pk},
        follow=True,
    )

    assert messages_of(response) == [
        ("error", "Ticket E-001 is no longer waiting; it was not changed.")
    ]
    assert frozen(visit) == before


@pytest.mark.parametrize("target", ["inactive", "other site", "unknown", "²"])
def test_reception_cannot_move_a_ticket_to_a_theme_not_offered_here(centre, login, target):
    visit = check_in(centre.alpha, "E")
    inactive = theme_of(centre.alpha, "A")
    inactive.active = False
    inactive.save(update_fields=["active"])
    theme_id = {
        "inactive": inactive.pk,
        "other site": theme_of(centre.beta, "F").pk,
        "unknown": 999999,
        # A digit that Python's str.isdigit() accepts but int() does not.
        "²": "²",
    }[target]
    before = frozen(visit)

    response = login(centre.reception).post(
        reverse("reception:change_theme", args=[visit.pk]), {"theme": theme_id}, follow=True
    )

    assert response.status_code == 200
    assert messages_of(response) == [("error", "Choose one of the themes offered now.")]
    assert frozen(visit) == before


def test_reception_marks_a_waiting_ticket_as_left(centre, login):
    visit = check_in(centre.alpha, "E")

    response = login(centre.reception).post(
        reverse("reception:mark_left", args=[visit.pk]), follow=True
    )

    assert messages_of(response) == [
        ("success", "Ticket E-001 has left. It can be put back for 10 minutes, under “Left”.")
    ]
    visit.refresh_from_db()
    assert visit.status == Visit.Status.LEFT
    assert visit.left_how == Visit.LeftHow.WALKED_OUT
    assert visit.ended_at is not None
    assert list(response.context["waiting"]) == []  # gone from the waiting list
    assert list(response.context["recently_left"]) == [visit]  # where it can be put back


@pytest.mark.parametrize(
    "status",
    [
        # A desk may have called the ticket a second before reception tapped “Left” on a list
        # that was not refreshed yet: the call must not be cancelled behind the counsellor's back.
        Visit.Status.CALLED,
        Visit.Status.IN_INTERVIEW,
        Visit.Status.DONE,
        Visit.Status.LEFT,
        Visit.Status.NO_SHOW,
    ],
)
def test_reception_cannot_mark_left_a_ticket_that_no_longer_waits(centre, login, status):
    visit = set_status(check_in(centre.alpha, "E"), status)
    before = frozen(visit)

    response = login(centre.reception).post(
        reverse("reception:mark_left", args=[visit.pk]), follow=True
    )

    assert messages_of(response) == [
        ("error", "Ticket E-001 is not waiting any more; nothing was changed.")
    ]
    assert frozen(visit) == before


@pytest.mark.parametrize("action", ["reception:change_theme", "reception:mark_left"])
def test_reception_cannot_touch_a_ticket_of_another_site(centre, login, action):
    visit = check_in(centre.beta, "E")
    before = frozen(visit)

    response = login(centre.reception).post(
        reverse(action, args=[visit.pk]), {"theme": theme_of(centre.alpha, "F").pk}, follow=True
    )

    # Refused as if the ticket did not exist: nothing says that Beta has a ticket with this id.
    assert messages_of(response) == [("error", "This ticket does not exist.")]
    assert frozen(visit) == before


# --- the visitor leaves from their phone ----------------------------------------------------------


def test_a_visitor_leaves_the_queue_from_their_phone(centre, client):
    visit = check_in(centre.alpha, "E", language="en")
    page = reverse("reception:visitor", args=[visit.token])

    response = client.post(reverse("reception:leave", args=[visit.token]))

    assert response.status_code == 302
    assert response.url == page
    visit.refresh_from_db()
    assert visit.status == Visit.Status.LEFT
    assert visit.left_how == Visit.LeftHow.BY_THEMSELVES
    followed = client.get(page)
    assert messages_of(followed) == [("success", "You have left the queue. See you soon!")]
    assert "You have left the queue." in followed.content.decode()
    assert 'action="{}'.format(reverse("reception:leave", args=[visit.token])) not in (
        followed.content.decode()
    )


def test_leaving_twice_changes_nothing_the_second_time(centre, client):
    visit = check_in(centre.alpha, "E", language="en")
    client.post(reverse("reception:leave", args=[visit.token]), follow=True)
    before = frozen(visit)

    response = client.post(reverse("reception:leave", args=[visit.token]), follow=True)

    assert messages_of(response) == [
        ("error", "Ticket E-001 is not waiting any more; nothing was changed.")
    ]
    assert frozen(visit) == before


def test_leaving_with_an_unknown_token_is_a_friendly_not_found(centre, client):
    check_in(centre.alpha, "E")
    response = client.post(reverse("reception:leave", args=["not-a-token"]))

    assert response.status_code == 404
    assert "We cannot find this ticket" in response.content.decode()
    assert Visit.objects.get().status == Visit.Status.WAITING


def test_leaving_needs_a_post(centre, client):
    visit = check_in(centre.alpha, "E")
    assert client.get(reverse("reception:leave", args=[visit.token])).status_code == 405
    assert Visit.objects.get().status == Visit.Status.WAITING


# --- reprinting a ticket --------------------------------------------------------------------------


def test_reception_reprints_the_ticket_of_a_visit_still_open_today(centre, login):
    visit = check_in(centre.alpha)
    response = login(centre.reception).get(reverse("reception:ticket", args=[visit.pk]))
    assert response.status_code == 200
    assert visit.code in response.content.decode()
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("status", [Visit.Status.DONE, Visit.Status.LEFT, Visit.Status.NO_SHOW])
def test_an_ended_visits_ticket_is_not_handed_out_again(centre, login, status):
    visit = check_in(centre.alpha)
    Visit.objects.filter(pk=visit.pk).update(status=status)
    client = login(centre.reception)
    for name in ("reception:ticket", "reception:checked_in"):
        assert client.get(reverse(name, args=[visit.pk])).status_code == 404


def test_a_past_days_ticket_is_not_handed_out_again(centre, login):
    visit = check_in(centre.alpha, now=timezone.now() - dt.timedelta(days=1))
    response = login(centre.reception).get(reverse("reception:ticket", args=[visit.pk]))
    assert response.status_code == 404
    assert visit.code not in response.content.decode()
