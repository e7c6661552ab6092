"""The presence plan at reception: a theme nobody serves now says when the plan next has a desk
for it (the tablet, the waiting-room display, the visitor's phone), and a theme's last check-in
time stops check-ins before its last planned desk of the day ends (reception may still check one
visitor in anyway)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from counselling import planning, services
from counselling.models import PlanException, PlanMode
from counselling.services import close_desk
from reception import queues
from reception import services as reception
from reception.models import Visit
from tests.counselling_fixtures import (  # noqa: F401
    in_english,
    make_desk,
    open_session,
    queue_visit,
    theme,
)

pytestmark = pytest.mark.usefixtures("in_english")


@pytest.fixture(autouse=True)
def _site_in_english(centre):
    centre.alpha.language = "en"  # the display speaks the site's language
    centre.alpha.save(update_fields=["language"])


def plan(site, desk, partner, letters, day: dt.date, starts: dt.time, ends: dt.time, **extra):
    """A weekly session on `day`'s weekday, valid from the week before."""
    return planning.plan_session(
        site=site,
        desk_id=desk.pk,
        partner_id=partner.pk,
        theme_ids=[theme(site, letter).pk for letter in letters],
        mode=extra.pop("mode", PlanMode.WALK_IN),
        weekday=day.weekday(),
        starts=starts,
        ends=ends,
        valid_from=day - dt.timedelta(days=7),
        **extra,
    )


def local_now(site) -> dt.datetime:
    return timezone.localtime(timezone.now(), site.zone)


def waits_on_display() -> dict[str, str]:
    page = Client().get("/display/alpha/").content.decode()
    rows = re.findall(
        r'class="theme-letter"[^>]*>(\w+)</span>.*?class="estimate">([^<]*)</span>', page, re.S
    )
    return dict(rows)


# --- when a theme is next served ----------------------------------------------------------------


def test_a_theme_without_a_desk_says_when_the_plan_next_serves_it(centre):
    alpha = centre.alpha
    today = alpha.local_date()
    desk1, desk2 = make_desk(alpha, "Desk 1", "E"), make_desk(alpha, "Desk 2", "F", "A")
    open_session(centre.counsellor_a, desk1)  # E is served now
    tomorrow, in_three_days = today + dt.timedelta(days=1), today + dt.timedelta(days=3)
    plan(alpha, desk2, centre.partner_b, "F", tomorrow, dt.time(9), dt.time(12))
    plan(alpha, desk2, centre.partner_b, "A", in_three_days, dt.time(14), dt.time(17))
    # An appointments session is no walk-in desk: it never counts as "next".
    plan(
        alpha,
        desk2,
        centre.partner_b,
        "F",
        today + dt.timedelta(days=1),
        dt.time(14),
        dt.time(17),
        mode=PlanMode.APPOINTMENTS,
        channels=["phone"],
    )
    weekday = in_three_days.strftime("%A")
    assert waits_on_display() == {
        "E": "no wait",
        "F": "next: tomorrow 09:00",
        "A": f"next: {weekday} 14:00",
    }

    # The site closed that day: the plan's next is the week after, shown as a date.
    planning.add_exception(site=alpha, day=in_three_days, kind=PlanException.Kind.SITE_CLOSED)
    week_after = in_three_days + dt.timedelta(days=7)
    assert waits_on_display()["A"] == f"next: {week_after.day} {week_after:%B} 14:00"


def test_a_planned_desk_not_open_yet_and_a_theme_the_plan_never_serves(centre):
    alpha = centre.alpha
    now = local_now(alpha)
    desk = make_desk(alpha, "Desk 1", "E")
    # Planned from midnight to the end of the day, but nobody has opened it.
    plan(alpha, desk, centre.partner_a, "E", now.date(), dt.time(0), dt.time(23, 59))
    waits = waits_on_display()
    assert waits["E"] == "desk opening soon"
    assert waits["F"] == "no desk open now"  # nothing planned in the fortnight


def test_the_tablet_and_the_visitors_phone_say_it_too(centre, client):
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 2", "F")
    plan(
        alpha,
        desk,
        centre.partner_b,
        "F",
        alpha.local_date() + dt.timedelta(days=1),
        dt.time(9),
        dt.time(12),
    )
    visit, _ = reception.check_in(site=alpha, theme_id=theme(alpha, "F").pk)

    phone = Client().get(f"/t/{visit.token}/").content.decode()
    assert "next: tomorrow 09:00" in phone

    client.force_login(centre.reception, backend="citedesmetiers.auth_backends.ModelBackend")
    tablet = client.get("/reception/").content.decode()
    assert "next: tomorrow 09:00" in tablet


def test_the_next_served_read_costs_the_same_whatever_the_plan_holds(centre):
    alpha = centre.alpha
    today = alpha.local_date()
    desks = [make_desk(alpha, f"Desk {n}", "F", order=n) for n in range(4)]

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            queues.theme_queues(alpha)
        return len(captured)

    plan(
        alpha,
        desks[0],
        centre.partner_a,
        "F",
        today + dt.timedelta(days=1),
        dt.time(9),
        dt.time(10),
    )
    few = queries()
    for n, desk in enumerate(desks):
        for offset in range(2, 7):
            plan(
                alpha,
                desk,
                centre.partner_b,
                "F",
                today + dt.timedelta(days=offset),
                dt.time(8 + n),
                dt.time(9 + n),
            )
    assert queries() == few


# --- the last check-in time of a theme ----------------------------------------------------------


@pytest.fixture
def planned_morning(centre):
    """Find a training (F), last check-in 30 minutes before its last desk ends: 9:00–12:00 on
    a Monday, and a Monday to try it on."""
    alpha = centre.alpha
    training = theme(alpha, "F")
    training.last_check_in_minutes = 30
    training.save(update_fields=["last_check_in_minutes"])
    monday = dt.date(2026, 3, 9)
    desk = make_desk(alpha, "Desk 2", "F")
    plan(alpha, desk, centre.partner_b, "F", monday, dt.time(9), dt.time(12))
    return training, monday


def at(site, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=site.zone)


def test_check_ins_stop_at_the_themes_last_check_in_time(centre, planned_morning):
    alpha = centre.alpha
    training, monday = planned_morning
    visit, created = reception.check_in(
        site=alpha, theme_id=training.pk, now=at(alpha, monday, 11, 29)
    )
    assert created

    with pytest.raises(
        reception.CheckInsOver,
        match="Check-ins for “Find a training” closed at 11:30: its last desk of the day ends "
        "at 12:00",
    ):
        reception.check_in(site=alpha, theme_id=training.pk, now=at(alpha, monday, 11, 30))
    assert Visit.objects.count() == 1

    # Reception may still check that one visitor in, and it turns nothing on for the next.
    late, created = reception.check_in(
        site=alpha, theme_id=training.pk, override_hours=True, now=at(alpha, monday, 11, 45)
    )
    assert created
    with pytest.raises(reception.CheckInsOver):
        reception.check_in(site=alpha, theme_id=training.pk, now=at(alpha, monday, 11, 46))
    # Other themes, and the same theme on a day the plan does not serve it, are not concerned.
    reception.check_in(site=alpha, theme_id=theme(alpha, "E").pk, now=at(alpha, monday, 11, 50))
    tuesday = monday + dt.timedelta(days=1)
    reception.check_in(site=alpha, theme_id=training.pk, now=at(alpha, tuesday, 11, 50))
    assert Visit.objects.count() == 4


def test_without_a_last_check_in_time_the_plan_stops_nothing(centre, planned_morning):
    alpha = centre.alpha
    training, monday = planned_morning
    training.last_check_in_minutes = None
    training.save(update_fields=["last_check_in_minutes"])
    _visit, created = reception.check_in(
        site=alpha, theme_id=training.pk, now=at(alpha, monday, 15)
    )
    assert created
    assert queues.check_in_cut_offs(alpha, [training], at(alpha, monday, 15)) == {}


def test_the_cut_off_is_from_the_last_walk_in_desk_of_the_day(centre, planned_morning):
    alpha = centre.alpha
    training, monday = planned_morning
    afternoon = make_desk(alpha, "Desk 3", "F")
    plan(alpha, afternoon, centre.partner_a, "F", monday, dt.time(14), dt.time(17))
    cut_off = queues.check_in_cut_offs(alpha, [training], at(alpha, monday, 11, 45))[training.pk]
    assert cut_off.at == at(alpha, monday, 16, 30)
    assert not cut_off.passed
    # The afternoon partner absent that day: the morning desk is the last again.
    planning.add_exception(
        site=alpha,
        day=monday,
        kind=PlanException.Kind.PARTNER_ABSENT,
        partner_id=centre.partner_a.pk,
    )
    cut_off = queues.check_in_cut_offs(alpha, [training], at(alpha, monday, 11, 45))[training.pk]
    assert cut_off.at == at(alpha, monday, 11, 30) and cut_off.passed


def test_the_tablet_shows_the_cut_off_and_offers_check_in_anyway(centre, client):
    alpha = centre.alpha
    now = local_now(alpha)
    training = theme(alpha, "F")
    training.last_check_in_minutes = 30
    training.save(update_fields=["last_check_in_minutes"])
    # The day's last desk for it ends within half an hour from now (or has ended): passed.
    ends = min(now + dt.timedelta(minutes=10), now.replace(hour=23, minute=59))
    plan(
        alpha,
        make_desk(alpha, "Desk 2", "F"),
        centre.partner_b,
        "F",
        now.date(),
        dt.time(0),
        ends.time(),
    )
    cut_off = dt.datetime.combine(
        now.date(), ends.time().replace(second=0, microsecond=0)
    ) - dt.timedelta(minutes=30)

    client.force_login(centre.reception, backend="citedesmetiers.auth_backends.ModelBackend")
    tablet = client.get("/reception/").content.decode()
    assert f"check-ins closed at {cut_off:%H:%M}" in tablet
    assert 'class="theme-button closed"' in tablet

    response = client.post(
        "/reception/check-in/",
        {"theme": training.pk, "checkin_key": "5f0f6e0c-6d8c-4c1e-9a43-0c3f1e1c1e11"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Check-ins for “Find a training” closed at" in page
    assert "Check in anyway: Find a training" in page
    assert "Late check-ins then stay on" not in page  # that is for after hours only
    assert Visit.objects.count() == 0

    response = client.post(
        "/reception/check-in/",
        {
            "theme": training.pk,
            "checkin_key": "5f0f6e0c-6d8c-4c1e-9a43-0c3f1e1c1e11",
            "override_hours": "on",
        },
    )
    assert response.status_code == 302
    assert Visit.objects.get().theme == training


# --- opening a desk -----------------------------------------------------------------------------


def test_the_desk_chooser_proposes_the_plans_desk_first(centre, client):
    alpha = centre.alpha
    now = local_now(alpha)
    first, planned = (
        make_desk(alpha, "Desk 1", "E", order=1),
        make_desk(alpha, "Desk 2", "F", order=2),
    )
    # Bob's partner has Desk 2 all day, nobody named: Bob may take it.
    plan(alpha, planned, centre.partner_a, "F", now.date(), dt.time(0), dt.time(23, 59))
    client.force_login(centre.counsellor_a, backend="citedesmetiers.auth_backends.ModelBackend")
    page = client.get("/desk/").content.decode()
    assert page.index("Desk 2") < page.index("Desk 1")
    assert "Planned for you, 00:00–23:59" in page
    # Carol's partner has nothing planned: nothing proposed, the site's order.
    client.force_login(centre.counsellor_b, backend="citedesmetiers.auth_backends.ModelBackend")
    page = client.get("/desk/").content.decode()
    assert page.index("Desk 1") < page.index("Desk 2")
    assert "Planned for you" not in page
    assert first  # both desks are offered to both


def test_a_desk_opened_outside_the_plan_is_allowed_and_recorded(centre, planned_morning):
    alpha = centre.alpha
    _training, monday = planned_morning
    desk2 = alpha.desks.get(name="Desk 2")  # Carol's partner's, 9:00–12:00
    other = make_desk(alpha, "Desk 3", "E")
    carol, bob = centre.counsellor_b, centre.counsellor_a
    as_planned = open_session(carol, desk2, at(alpha, monday, 8, 45))  # a quarter early: fine
    outside = open_session(bob, other, at(alpha, monday, 9))
    assert (as_planned.outside_plan, outside.outside_plan) == (False, True)
    # A day the plan holds nothing (a site that does not plan): nothing to be outside of.
    for session in (as_planned, outside):
        close_desk(session_id=session.pk, counsellor=session.counsellor, now=at(alpha, monday, 12))
    tuesday = monday + dt.timedelta(days=1)
    assert not open_session(bob, other, at(alpha, tuesday, 9)).outside_plan


def served(session) -> set[str]:
    return {t.letter for t in session.themes.all()}


def test_opening_serves_the_plans_themes_or_the_ones_ticked(centre, client):
    alpha = centre.alpha
    now = local_now(alpha)
    both = make_desk(alpha, "Desk 1", "E", "F", order=1)
    other = make_desk(alpha, "Desk 2", "E", "F", order=2)
    # Bob's partner has Desk 1 today for E only: the chooser ticks E alone there.
    plan(alpha, both, centre.partner_a, "E", now.date(), dt.time(0), dt.time(23, 59))
    client.force_login(centre.counsellor_a, backend="citedesmetiers.auth_backends.ModelBackend")
    page = client.get("/desk/").content.decode()
    planned_tile, other_tile = page.split('class="tile desk-tile')[1:3]
    e, f = theme(alpha, "E").pk, theme(alpha, "F").pk
    assert "Themes to serve (as planned)" in planned_tile
    assert f'value="{e}" checked' in planned_tile and f'value="{f}">' in planned_tile
    assert f'value="{e}" checked' in other_tile and f'value="{f}" checked' in other_tile

    # A form without the boxes (a script, an old page) gets the plan's themes too.
    client.post(f"/desk/open/{both.pk}/")
    session = both.sessions.get()
    assert served(session) == {"E"}
    queue_e, queue_f = (q for q in queues.theme_queues(alpha) if q.theme.letter in "EF")
    assert (queue_e.desks, queue_f.desks) == (1, 0)  # F is not served by Desk 1 now
    close_desk(session_id=session.pk, counsellor=centre.counsellor_a)

    # Ticked by hand: what the counsellor chose.
    client.post(f"/desk/open/{both.pk}/", {"themes_shown": "1", "themes": [e, f]})
    assert served(both.sessions.get(closed_at__isnull=True)) == {"E", "F"}
    assert other  # offered as well


def test_the_calls_follow_the_themes_served_not_the_desks(centre):
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 1", "E", "F")
    training = queue_visit(alpha, "F")
    job = queue_visit(alpha, "E")
    session = services.open_desk(
        counsellor=centre.counsellor_a, desk=desk, theme_ids=[theme(alpha, "E").pk]
    )
    called = services.call_next(session_id=session.pk, counsellor=centre.counsellor_a)
    assert called == job  # F came first, but this sitting serves E only
    training.refresh_from_db()
    assert training.status == Visit.Status.WAITING


@pytest.mark.parametrize(
    "sent, message",
    [
        ({"themes_shown": "1"}, "Choose at least one theme to serve."),
        ({"themes_shown": "1", "themes": "OTHER"}, "Desk 1 does not serve one of those themes."),
        ({"themes_shown": "1", "themes": "１２"}, "This is not a valid choice."),
    ],
)
def test_a_wrong_choice_of_themes_opens_nothing(centre, client, sent, message):
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 1", "E")
    if sent.get("themes") == "OTHER":
        sent = {**sent, "themes": str(theme(alpha, "F").pk)}  # a theme of the site, not the desk's
    client.force_login(centre.counsellor_a, backend="citedesmetiers.auth_backends.ModelBackend")
    page = client.post(f"/desk/open/{desk.pk}/", sent, follow=True).content.decode()
    assert message in page
    assert not desk.sessions.exists()
