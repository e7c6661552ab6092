"""The managers' presence-plan screens (/manage/planning/): the week of their site, and the forms
that add, change and end weekly sessions and add and remove exceptions — through the HTTP layer,
with the services' refusals shown on the same form and nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from citedesmetiers.roles import Role
from counselling import planning
from counselling.models import PlanException, PlanMode, PlannedSession
from tests.conftest import make_staff
from tests.counselling_fixtures import in_english, make_desk, theme  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("in_english")

MONDAY = dt.date(2026, 3, 2)
Kind = PlanException.Kind
WEEK = reverse("planning:week")
ADD = reverse("planning:session_add")
ADD_EXCEPTION = reverse("planning:exception_add")


def t(hour: int, minute: int = 0) -> dt.time:
    return dt.time(hour, minute)


def week_of(day: dt.date) -> str:
    return f"{WEEK}?week={day:%Y-%m-%d}"


@pytest.fixture
def desks(mfa_enrolled):
    alpha = mfa_enrolled.alpha
    return make_desk(alpha, "Desk 1", "E", "F"), make_desk(alpha, "Desk 2", "E")


@pytest.fixture
def frank(mfa_enrolled, login):
    """Frank, manager at Alpha (TOTP enrolled), logged in."""
    return login(mfa_enrolled.manager)


def plan(centre, desk, partner, *letters, **overrides):
    fields = {
        "site": centre.alpha,
        "desk_id": desk.pk,
        "partner_id": partner.pk,
        "theme_ids": [theme(centre.alpha, letter).pk for letter in letters or ("E",)],
        "mode": PlanMode.WALK_IN,
        "weekday": 0,
        "starts": t(10),
        "ends": t(12),
        "valid_from": MONDAY,
    }
    return planning.plan_session(**fields | overrides)


def session_post(centre, desk, **overrides) -> dict:
    data = {
        "desk": desk.pk,
        "partner": centre.partner_a.pk,
        "themes": [theme(centre.alpha, "E").pk, theme(centre.alpha, "F").pk],
        "mode": "walk_in",
        "weekday": "0",
        "starts": "10:00",
        "ends": "12:00",
        "valid_from": "2026-03-02",
        "valid_until": "",
        "counsellor": "",
    }
    return data | overrides


def page(response) -> str:
    return response.content.decode()


# --- the week -------------------------------------------------------------------------------


def test_the_week_shows_its_sessions_and_exceptions(mfa_enrolled, desks, frank):
    c = mfa_enrolled
    monday = plan(c, desks[0], c.partner_a, "E", "F", counsellor_id=c.counsellor_a.pk)
    tuesday = plan(
        c, desks[1], c.partner_b, weekday=1, starts=t(14), ends=t(17),
        mode=PlanMode.APPOINTMENTS, channels=["phone", "video"],
    )  # fmt: skip
    plan(c, desks[1], c.partner_b, weekday=2, starts=t(9), ends=t(11))  # absent that Wednesday
    plan(c, desks[0], c.partner_a, weekday=3)  # a holiday that Thursday
    planning.add_exception(
        site=c.alpha, day=MONDAY + dt.timedelta(days=2), kind=Kind.PARTNER_ABSENT,
        partner_id=c.partner_b.pk, label="Training day",
    )  # fmt: skip
    planning.add_exception(
        site=c.alpha, day=MONDAY + dt.timedelta(days=3), kind=Kind.PUBLIC_HOLIDAY, label="Mi-carême"
    )
    extra = planning.add_exception(
        site=c.alpha, day=MONDAY + dt.timedelta(days=4), kind=Kind.EXTRA_SESSION,
        desk_id=desks[1].pk, partner_id=c.partner_a.pk, theme_ids=[theme(c.alpha, "A").pk],
        mode=PlanMode.WALK_IN, starts=t(15), ends=t(16, 30),
    )  # fmt: skip

    response = frank.get(week_of(MONDAY + dt.timedelta(days=2)))  # any day of the week

    assert response.status_code == 200
    days = response.context["days"]
    assert [d.day for d in days] == [MONDAY + dt.timedelta(days=i) for i in range(6)]  # no Sunday
    shown = {d.day.weekday(): d.occurrences for d in days}
    first = shown[0][0]
    assert (first.starts, first.ends, first.desk, first.partner) == (
        t(10), t(12), desks[0], c.partner_a,
    )  # fmt: skip
    assert [th.letter for th in first.themes] == ["E", "F"]
    assert first.counsellor == c.counsellor_a
    assert first.session_id == monday.pk
    assert shown[1][0].session_id == tuesday.pk
    assert shown[1][0].channels == ["phone", "video call"]
    assert shown[2] == [] and shown[3] == []  # partner B absent; a holiday
    assert [d.notices[0].kind for d in days if d.notices] == [
        Kind.PARTNER_ABSENT,
        Kind.PUBLIC_HOLIDAY,
    ]
    assert (shown[4][0].extra_id, shown[4][0].session_id) == (extra.pk, None)
    html = page(response)
    assert "10:00–12:00" in html and "14:00–17:00" in html and "15:00–16:30" in html
    assert reverse("planning:session_edit", args=[monday.pk]) in html
    assert reverse("planning:session_edit", args=[tuesday.pk]) in html
    assert "phone, video call" in html
    assert "Partner absent" in html and "Training day" in html and "Guidance centre" in html
    assert "Public holiday" in html and "Mi-carême" in html
    assert reverse("planning:exception_remove", args=[extra.pk]) in html
    assert "?week=2026-02-23" in html and "?week=2026-03-09" in html  # previous and next


def test_sunday_shows_when_something_is_planned_then(mfa_enrolled, desks, frank):
    plan(mfa_enrolled, desks[0], mfa_enrolled.partner_a, weekday=6)
    days = frank.get(week_of(MONDAY)).context["days"]
    assert len(days) == 7
    assert days[6].occurrences[0].desk == desks[0]


def test_sessions_out_of_their_dates_are_not_shown(mfa_enrolled, desks, frank):
    plan(mfa_enrolled, desks[0], mfa_enrolled.partner_a, valid_from=MONDAY + dt.timedelta(7))
    ended = plan(mfa_enrolled, desks[1], mfa_enrolled.partner_a, valid_until=MONDAY)
    planning.end_session(session_id=ended.pk, last_day=MONDAY)
    assert frank.get(week_of(MONDAY)).context["days"][0].occurrences[0].desk == desks[1]
    days = frank.get(week_of(MONDAY + dt.timedelta(7))).context["days"]
    assert [o.desk for o in days[0].occurrences] == [desks[0]]


@pytest.mark.parametrize(
    "value",
    ["x", "2026-02-30", "0001-01-01", "9999-12-31", "2026-W10-1", "20260302", "２０２６-03-02", ""],
)
def test_a_malformed_week_shows_this_week(mfa_enrolled, frank, value):
    response = frank.get(WEEK, {"week": value})
    assert response.status_code == 200
    today = mfa_enrolled.alpha.local_date()
    assert response.context["monday"] == today - dt.timedelta(days=today.weekday())


def test_the_first_and_last_weeks_have_no_link_beyond(frank):
    response = frank.get(week_of(dt.date(2000, 1, 5)))
    assert response.context["monday"] == dt.date(2000, 1, 3)
    assert response.context["previous"] == ""
    assert response.context["following"] == "2000-01-10"


def test_the_dashboard_links_to_the_plan(frank):
    assert f'href="{WEEK}"' in page(frank.get(reverse("manage:dashboard")))


# --- weekly sessions ------------------------------------------------------------------------


def test_a_manager_adds_a_weekly_session(mfa_enrolled, desks, frank):
    c = mfa_enrolled
    data = session_post(c, desks[0], weekday="2", counsellor=c.counsellor_b.pk)

    response = frank.post(ADD, data, follow=True)

    session = PlannedSession.objects.get()
    assert response.redirect_chain == [(week_of(MONDAY), 302)]  # the week of its first day
    assert (session.site, session.desk, session.partner, session.weekday) == (
        c.alpha, desks[0], c.partner_a, 2,
    )  # fmt: skip
    assert (session.starts, session.ends, session.valid_from, session.valid_until) == (
        t(10), t(12), MONDAY, None,
    )  # fmt: skip
    assert session.counsellor == c.counsellor_b
    assert {th.letter for th in session.themes.all()} == {"E", "F"}
    assert "Desk 1 is planned every Wednesday, 10:00–12:00." in page(response)
    assert response.context["days"][2].occurrences[0].session_id == session.pk


def test_an_appointments_session_keeps_its_channels(mfa_enrolled, desks, frank):
    data = session_post(mfa_enrolled, desks[0], mode="appointments", channels=["video", "phone"])
    frank.post(ADD, data)
    session = PlannedSession.objects.get()
    assert (session.mode, session.channels) == (PlanMode.APPOINTMENTS, ["phone", "video"])


def test_the_add_form_starts_on_the_week_shown_and_offers_this_sites_choices(
    mfa_enrolled, desks, frank
):
    c = mfa_enrolled
    make_desk(c.beta, "Desk B", "E")
    make_desk(c.alpha, "Desk off", "E", active=False)
    make_staff("zoe@beta.test", Role.COUNSELLOR, c.beta, c.partner_a)
    form = frank.get(ADD, {"week": "2026-03-04"}).context["form"]
    assert form["valid_from"].value() == MONDAY
    assert list(form.fields["desk"].queryset) == list(desks)
    assert set(form.fields["themes"].queryset) == set(c.alpha.themes.all())
    assert set(form.fields["counsellor"].queryset) == {c.counsellor_a, c.counsellor_b}


def test_a_desk_planned_twice_shows_the_services_message_and_writes_nothing(
    mfa_enrolled, desks, frank
):
    plan(mfa_enrolled, desks[0], mfa_enrolled.partner_a)
    data = session_post(mfa_enrolled, desks[0], starts="11:00", ends="13:00")

    response = frank.post(ADD, data)

    assert response.status_code == 200
    html = page(response)
    assert "Desk 1 is already planned then: Monday, 10:00–12:00." in html
    assert 'value="11:00"' in html and 'value="13:00"' in html  # what was typed is kept
    assert PlannedSession.objects.count() == 1


def test_another_sites_desk_is_refused(mfa_enrolled, desks, frank):
    beta_desk = make_desk(mfa_enrolled.beta, "Desk B", "E")
    response = frank.post(ADD, session_post(mfa_enrolled, beta_desk))
    assert response.status_code == 200
    assert response.context["form"].errors["desk"]
    assert not PlannedSession.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ends": "09:00"}, "The end must come after the start."),
        ({"valid_until": "2026-03-01"}, "The last day cannot come before the first."),
        ({"mode": "appointments"}, "Say how the appointments are held"),
        ({"valid_from": "1999-12-31"}, "Give a date between 2000 and 2100."),
        ({"desk": "١"}, "Select a valid choice"),
        ({"themes": []}, "This field is required."),
    ],
)
def test_bad_input_is_shown_on_the_form_and_writes_nothing(
    mfa_enrolled, desks, frank, change, message
):
    response = frank.post(ADD, session_post(mfa_enrolled, desks[0]) | change)
    assert response.status_code == 200
    assert message in page(response)
    assert not PlannedSession.objects.exists()


def test_a_manager_changes_a_weekly_session(mfa_enrolled, desks, frank):
    c = mfa_enrolled
    session = plan(c, desks[0], c.partner_a)
    url = reverse("planning:session_edit", args=[session.pk])
    form = frank.get(url).context["form"]
    assert form["desk"].value() == desks[0].pk and form["starts"].value() == t(10)

    data = session_post(
        c, desks[1], partner=c.partner_b.pk, weekday="4", ends="13:00",
        valid_from="2026-03-09", valid_until="2026-06-30",
        mode="appointments", channels=["in_person"],
    )  # fmt: skip
    response = frank.post(url, data)

    assert response.url == week_of(dt.date(2026, 3, 9))  # the week of its first Friday
    session.refresh_from_db()
    assert (session.desk, session.partner, session.weekday, session.ends) == (
        desks[1], c.partner_b, 4, t(13),
    )  # fmt: skip
    assert (session.valid_from, session.valid_until) == (dt.date(2026, 3, 9), dt.date(2026, 6, 30))
    assert (session.mode, session.channels) == (PlanMode.APPOINTMENTS, ["in_person"])


def test_a_refused_change_keeps_the_session_as_it_was(mfa_enrolled, desks, frank):
    c = mfa_enrolled
    session = plan(c, desks[0], c.partner_a)
    plan(c, desks[0], c.partner_a, starts=t(14), ends=t(16))
    url = reverse("planning:session_edit", args=[session.pk])

    response = frank.post(url, session_post(c, desks[0], ends="15:00"))

    assert response.status_code == 200
    assert "Desk 1 is already planned then: Monday, 14:00–16:00." in page(response)
    session.refresh_from_db()
    assert session.ends == t(12)


def test_a_manager_ends_a_weekly_session(mfa_enrolled, desks, frank):
    session = plan(mfa_enrolled, desks[0], mfa_enrolled.partner_a)
    url = reverse("planning:session_end", args=[session.pk])

    response = frank.post(url, {"last_day": "2026-03-18"})

    assert response.url == week_of(dt.date(2026, 3, 16))
    session.refresh_from_db()
    assert session.valid_until == dt.date(2026, 3, 18)

    response = frank.post(url, {"last_day": "2026-03-01"})
    assert response.status_code == 200
    assert "The last day cannot come before the first." in page(response)
    assert response.context["end_form"]["last_day"].value() == "2026-03-01"
    session.refresh_from_db()
    assert session.valid_until == dt.date(2026, 3, 18)


# --- exceptions -----------------------------------------------------------------------------


def test_a_manager_adds_a_holiday_and_removes_it(mfa_enrolled, frank):
    response = frank.post(
        ADD_EXCEPTION, {"kind": "public_holiday", "day": "2026-04-06", "label": "Easter Monday"}
    )
    holiday = PlanException.objects.get()
    assert response.url == week_of(dt.date(2026, 4, 6))
    assert (holiday.site, holiday.kind, holiday.label) == (
        mfa_enrolled.alpha, Kind.PUBLIC_HOLIDAY, "Easter Monday",
    )  # fmt: skip

    response = frank.post(reverse("planning:exception_remove", args=[holiday.pk]))
    assert response.url == week_of(dt.date(2026, 4, 6))
    assert not PlanException.objects.exists()


def test_an_absence_needs_its_partner(mfa_enrolled, frank):
    data = {"kind": "partner_absent", "day": "2026-03-04"}
    response = frank.post(ADD_EXCEPTION, data)
    assert response.status_code == 200
    assert "Choose the partner who is absent." in page(response)
    assert not PlanException.objects.exists()

    frank.post(ADD_EXCEPTION, data | {"partner": mfa_enrolled.partner_b.pk})
    assert PlanException.objects.get().partner == mfa_enrolled.partner_b


def test_a_manager_adds_an_extra_session(mfa_enrolled, desks, frank):
    c = mfa_enrolled
    data = {
        "kind": "extra_session",
        "day": "2026-03-07",
        "desk": desks[0].pk,
        "partner": c.partner_a.pk,
        "themes": [theme(c.alpha, "A").pk],
        "mode": "appointments",
        "channels": ["phone"],
        "starts": "09:30",
        "ends": "12:00",
    }
    response = frank.post(ADD_EXCEPTION, data, follow=True)
    extra = PlanException.objects.get()
    assert (extra.kind, extra.desk, extra.starts, extra.channels) == (
        Kind.EXTRA_SESSION, desks[0], t(9, 30), ["phone"],
    )  # fmt: skip
    assert [th.letter for th in extra.themes.all()] == ["A"]
    assert response.context["days"][5].occurrences[0].extra_id == extra.pk


def test_an_extra_session_clashing_with_the_week_writes_nothing(mfa_enrolled, desks, frank):
    c = mfa_enrolled
    plan(c, desks[0], c.partner_a)
    data = {
        "kind": "extra_session",
        "day": "2026-03-09",
        "desk": desks[0].pk,
        "partner": c.partner_b.pk,
        "themes": [theme(c.alpha, "E").pk],
        "mode": "walk_in",
        "starts": "11:00",
        "ends": "12:30",
    }
    response = frank.post(ADD_EXCEPTION, data)
    assert response.status_code == 200
    assert "Desk 1 is already planned then: March 9, 2026, 10:00–12:00." in page(response)
    assert not PlanException.objects.exists()


# --- who may ----------------------------------------------------------------------------------


def test_another_sites_sessions_and_exceptions_are_not_found(mfa_enrolled, frank):
    c = mfa_enrolled
    beta_desk = make_desk(c.beta, "Desk B", "E")
    beta_session = planning.plan_session(
        site=c.beta, desk_id=beta_desk.pk, partner_id=c.partner_a.pk,
        theme_ids=[theme(c.beta, "E").pk], mode=PlanMode.WALK_IN, weekday=0,
        starts=t(10), ends=t(12), valid_from=MONDAY,
    )  # fmt: skip
    closed = planning.add_exception(site=c.beta, day=MONDAY, kind=Kind.SITE_CLOSED)
    edit = reverse("planning:session_edit", args=[beta_session.pk])
    assert frank.get(edit).status_code == 404
    assert frank.post(edit, session_post(c, beta_desk)).status_code == 404
    end = reverse("planning:session_end", args=[beta_session.pk])
    assert frank.post(end, {"last_day": "2026-03-09"}).status_code == 404
    remove = reverse("planning:exception_remove", args=[closed.pk])
    assert frank.post(remove).status_code == 404
    beta_session.refresh_from_db()
    assert beta_session.valid_until is None
    assert PlanException.objects.filter(pk=closed.pk).exists()
    assert frank.get(week_of(MONDAY)).context["days"][0].notices == []


def test_only_managers_see_or_change_the_plan(mfa_enrolled, desks, login):
    c = mfa_enrolled
    for persona in (c.reception, c.counsellor_a, c.officer, c.organiser):
        client = login(persona)
        assert client.get(WEEK).status_code == 403
        assert client.post(ADD, session_post(c, desks[0])).status_code == 403
    assert not PlannedSession.objects.exists()
    # Grace manages Beta only: she sees Beta's plan, where Alpha's desk is no choice.
    grace = login(c.beta_manager)
    assert grace.get(WEEK).context["site"] == c.beta
    assert grace.post(ADD, session_post(c, desks[0])).status_code == 200
    assert not PlannedSession.objects.exists()


def test_the_managers_menu_offers_the_plan(frank, login, mfa_enrolled):
    assert f'href="{WEEK}"' in page(frank.get(reverse("staff_home") + "?menu"))
    reception = login(mfa_enrolled.reception).get(reverse("staff_home") + "?menu", follow=True)
    assert f'href="{WEEK}"' not in page(reception)
