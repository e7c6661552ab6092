"""Series of sessions: the dates a recurrence gives, local times across daylight saving, the
limits, and the draft events a series makes (through the service and through the form)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from events import series, services
from events.models import Event, Series
from events.recurrence import LAST, Frequency, Recurrence, SeriesError
from events.services import planning

PARIS = ZoneInfo("Europe/Paris")
TUESDAY, FRIDAY, MONDAY = 1, 4, 0


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def test_it_finds_the_second_tuesday_of_each_month():
    rule = Recurrence(frequency=Frequency.MONTHLY, weekday=TUESDAY, ordinal=2)

    dates = rule.dates(dt.date(2025, 1, 1), dt.date(2025, 6, 30))

    assert dates == [
        dt.date(2025, 1, 14),
        dt.date(2025, 2, 11),
        dt.date(2025, 3, 11),
        dt.date(2025, 4, 8),
        dt.date(2025, 5, 13),
        dt.date(2025, 6, 10),
    ]
    assert all(d.weekday() == TUESDAY and 8 <= d.day <= 14 for d in dates)


def test_it_keeps_only_dates_inside_the_range():
    rule = Recurrence(frequency=Frequency.MONTHLY, weekday=TUESDAY, ordinal=2)

    # 2025-01-14 is before the first date, 2025-03-11 after the last.
    assert rule.dates(dt.date(2025, 1, 15), dt.date(2025, 3, 10)) == [dt.date(2025, 2, 11)]


def test_it_finds_the_last_friday_of_each_month():
    rule = Recurrence(frequency=Frequency.MONTHLY, weekday=FRIDAY, ordinal=LAST)

    dates = rule.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31))

    assert len(dates) == 12
    assert dates[:3] == [dt.date(2025, 1, 31), dt.date(2025, 2, 28), dt.date(2025, 3, 28)]
    assert dt.date(2025, 5, 30) in dates and dt.date(2025, 10, 31) in dates
    for day in dates:
        assert day.weekday() == FRIDAY
        assert (day + dt.timedelta(days=7)).month != day.month  # no later Friday that month


def test_it_crosses_the_new_year_for_monthly_series():
    rule = Recurrence(frequency=Frequency.MONTHLY, weekday=MONDAY, ordinal=1)

    assert rule.dates(dt.date(2025, 11, 1), dt.date(2026, 2, 28)) == [
        dt.date(2025, 11, 3),
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 5),
        dt.date(2026, 2, 2),
    ]


def test_it_repeats_every_week_from_the_first_matching_day():
    rule = Recurrence(frequency=Frequency.WEEKLY, weekday=TUESDAY)

    # 2025-03-05 is a Wednesday: the first session is the Tuesday after.
    dates = rule.dates(dt.date(2025, 3, 5), dt.date(2025, 4, 1))

    assert dates == [
        dt.date(2025, 3, 11),
        dt.date(2025, 3, 18),
        dt.date(2025, 3, 25),
        dt.date(2025, 4, 1),
    ]


def test_it_repeats_every_other_week():
    rule = Recurrence(frequency=Frequency.WEEKLY, weekday=MONDAY, interval=2)

    dates = rule.dates(dt.date(2025, 9, 1), dt.date(2025, 10, 31))

    assert dates == [
        dt.date(2025, 9, 1),
        dt.date(2025, 9, 15),
        dt.date(2025, 9, 29),
        dt.date(2025, 10, 13),
        dt.date(2025, 10, 27),
    ]


def test_ten_oclock_stays_ten_oclock_across_the_spring_change_in_paris():
    rule = Recurrence(frequency=Frequency.WEEKLY, weekday=TUESDAY)

    # Clocks go forward on Sunday 30 March 2025 in Paris.
    sessions = series.plan(
        recurrence=rule,
        first=dt.date(2025, 3, 18),
        last=dt.date(2025, 4, 8),
        at=dt.time(10, 0),
        duration=dt.timedelta(hours=2),
        zone=PARIS,
    )

    local = [(s.astimezone(PARIS).time(), e.astimezone(PARIS).time()) for s, e in sessions]
    assert local == [(dt.time(10), dt.time(12))] * 4
    assert [s.astimezone(dt.UTC).hour for s, _e in sessions] == [9, 9, 8, 8]


def test_ten_oclock_stays_ten_oclock_across_the_autumn_change_in_paris():
    rule = Recurrence(frequency=Frequency.MONTHLY, weekday=TUESDAY, ordinal=2)

    sessions = series.plan(
        recurrence=rule,
        first=dt.date(2025, 9, 1),
        last=dt.date(2025, 12, 31),
        at=dt.time(10, 0),
        duration=dt.timedelta(minutes=90),
        zone=PARIS,
    )

    assert [s.astimezone(PARIS).strftime("%m-%d %H:%M") for s, _e in sessions] == [
        "09-09 10:00",
        "10-14 10:00",
        "11-11 10:00",
        "12-09 10:00",
    ]
    assert [s.astimezone(dt.UTC).hour for s, _e in sessions] == [8, 8, 9, 9]
    assert all(e - s == dt.timedelta(minutes=90) for s, e in sessions)


def test_a_time_skipped_by_the_spring_change_comes_out_an_hour_later():
    start = series.local_moment(dt.date(2025, 3, 30), dt.time(2, 30), PARIS)

    assert start.astimezone(PARIS).time() == dt.time(3, 30)


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (dt.date(2025, 6, 1), dt.date(2025, 5, 1), "after the first date"),
        (dt.date(2025, 6, 1), dt.date(2025, 6, 1), "after the first date"),
        (dt.date(2025, 1, 1), dt.date(2027, 12, 31), "at most 60"),
        (dt.date(2025, 6, 4), dt.date(2025, 6, 9), "No session"),
    ],
)
def test_it_refuses_impossible_ranges(first, last, message):
    rule = Recurrence(frequency=Frequency.WEEKLY, weekday=TUESDAY)

    with pytest.raises(SeriesError, match=message):
        series.plan(
            recurrence=rule,
            first=first,
            last=last,
            at=dt.time(10),
            duration=dt.timedelta(hours=1),
            zone=PARIS,
        )


def test_sixty_sessions_are_allowed_but_not_sixty_one():
    rule = Recurrence(frequency=Frequency.WEEKLY, weekday=MONDAY)
    first = dt.date(2025, 1, 6)  # a Monday
    plan = {
        "recurrence": rule,
        "first": first,
        "at": dt.time(10),
        "duration": dt.timedelta(hours=1),
        "zone": PARIS,
    }

    assert len(series.plan(last=first + dt.timedelta(weeks=59), **plan)) == 60
    with pytest.raises(SeriesError):
        series.plan(last=first + dt.timedelta(weeks=60), **plan)


@pytest.mark.parametrize(
    "rule",
    [
        Recurrence(frequency="daily", weekday=TUESDAY),
        Recurrence(frequency=Frequency.WEEKLY, weekday=7),
        Recurrence(frequency=Frequency.WEEKLY, weekday=TUESDAY, interval=0),
        Recurrence(frequency=Frequency.MONTHLY, weekday=TUESDAY, ordinal=5),
        Recurrence(frequency=Frequency.MONTHLY, weekday=TUESDAY, ordinal=0),
    ],
)
def test_it_refuses_invalid_recurrences(rule):
    with pytest.raises(SeriesError):
        rule.dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31))


@pytest.mark.parametrize("minutes", [0, -30, 25 * 60])
def test_it_refuses_durations_that_make_no_sense(minutes):
    with pytest.raises(SeriesError):
        series.plan(
            recurrence=Recurrence(frequency=Frequency.WEEKLY, weekday=TUESDAY),
            first=dt.date(2025, 1, 1),
            last=dt.date(2025, 2, 1),
            at=dt.time(10),
            duration=dt.timedelta(minutes=minutes),
            zone=PARIS,
        )


def test_it_describes_the_rule_in_words():
    assert Recurrence(frequency=Frequency.WEEKLY, weekday=TUESDAY).describe() == "every Tuesday"
    assert (
        Recurrence(frequency=Frequency.WEEKLY, weekday=MONDAY, interval=2).describe()
        == "every 2 weeks on Monday"
    )
    assert (
        Recurrence(frequency=Frequency.MONTHLY, weekday=FRIDAY, ordinal=LAST).describe()
        == "the last Friday of each month"
    )


@pytest.mark.parametrize(
    ("language", "weekday", "ordinal", "told"),
    [
        ("it", MONDAY, 1, "il primo lunedì di ogni mese"),
        ("it", 6, 1, "la prima domenica di ogni mese"),  # domenica is feminine
        ("pt", TUESDAY, 2, "a 2.ª terça-feira de cada mês"),
        ("pt", 5, LAST, "o último sábado de cada mês"),  # sábado is masculine
        ("es", 6, LAST, "el último domingo de cada mes"),
        ("fr", 6, 1, "le premier dimanche de chaque mois"),
    ],
)
def test_the_ordinal_and_its_article_agree_with_the_weekday(language, weekday, ordinal, told):
    rule = Recurrence(frequency=Frequency.MONTHLY, weekday=weekday, ordinal=ordinal)
    with translation.override(language):
        assert rule.describe() == told


def test_a_series_is_told_in_the_language_of_whoever_reads_it(centre):
    with translation.override("fr"):  # made by a French-speaking organiser
        made = services.create_series(
            site=centre.alpha,
            recurrence=Recurrence(frequency=Frequency.MONTHLY, weekday=TUESDAY, ordinal=2),
            first=dt.date(2030, 1, 1),
            last=dt.date(2030, 3, 31),
            at=dt.time(14, 0),
            duration=dt.timedelta(hours=2),
            details={"title": "Atelier CV"},
        )
    stored = Series.objects.get(pk=made.pk)

    with translation.override("en"):
        english = stored.describe()
    with translation.override("fr"):
        french = stored.describe()

    assert english == "the 2nd Tuesday of each month"
    assert french != english and "mardi" in french


def test_a_series_from_before_the_stored_recurrence_keeps_its_description(centre):
    old = Series.objects.create(site=centre.alpha, name="Club", rule="le 1er lundi du mois")

    assert old.describe() == "le 1er lundi du mois"
    assert str(old) == "Club (le 1er lundi du mois)"


def test_it_creates_one_draft_event_per_date_with_the_same_details(centre):
    theme = centre.alpha.themes.get(letter="E")

    made = services.create_series(
        site=centre.alpha,
        recurrence=Recurrence(frequency=Frequency.MONTHLY, weekday=TUESDAY, ordinal=2),
        first=dt.date(2030, 1, 1),
        last=dt.date(2030, 6, 30),
        at=dt.time(14, 0),
        duration=dt.timedelta(hours=2),
        details={
            "title": "CV workshop",
            "kind": Event.Kind.WORKSHOP,
            "description": "Bring your CV.",
            "place": "Room 2",
            "capacity": 12,
            "audience": Event.Audience.JOB_SEEKERS,
            "reminder_days": 3,
            "confirm_by_email": True,
        },
        themes=[theme],
        partners=[centre.partner_a],
    )

    assert made.name == "CV workshop"
    assert made.describe() == "the 2nd Tuesday of each month"
    events = list(made.events.order_by("starts_at"))
    assert len(events) == 6
    for event in events:
        assert event.site == centre.alpha
        assert event.status == Event.Status.DRAFT
        assert (event.title, event.place, event.capacity) == ("CV workshop", "Room 2", 12)
        assert event.audience == Event.Audience.JOB_SEEKERS
        assert (event.reminder_days, event.confirm_by_email) == (3, True)
        assert list(event.themes.all()) == [theme]
        assert list(event.partners.all()) == [centre.partner_a]
        local = event.starts_at.astimezone(PARIS)
        assert (local.weekday(), local.time(), 8 <= local.day <= 14) == (TUESDAY, dt.time(14), True)
        assert event.ends_at - event.starts_at == dt.timedelta(hours=2)


def test_it_refuses_another_sites_theme_and_creates_nothing(centre):
    with pytest.raises(SeriesError):
        services.create_series(
            site=centre.alpha,
            recurrence=Recurrence(frequency=Frequency.WEEKLY, weekday=TUESDAY),
            first=dt.date(2030, 1, 1),
            last=dt.date(2030, 2, 1),
            at=dt.time(10),
            duration=dt.timedelta(hours=1),
            details={"title": "Workshop"},
            themes=[centre.beta.themes.first()],
        )

    assert not Series.objects.exists() and not Event.objects.exists()


def _series_post(centre, **changes) -> dict:
    data = {
        "title": "Job club",
        "kind": Event.Kind.CLUB,
        "themes": [centre.alpha.themes.get(letter="E").pk],
        "description": "",
        "place": "Room 1",
        "online_url": "",
        "capacity": "10",
        "audience": Event.Audience.EVERYONE,
        "reminder_days": "2",
        "frequency": Frequency.WEEKLY,
        "weekday": str(FRIDAY),
        "interval": "1",
        "ordinal": "1",
        "first_date": "2030-03-01",
        "last_date": "2030-03-31",
        "start_time": "09:30",
        "duration": "90",
    }
    data.update(changes)
    return data


def test_an_organiser_previews_then_creates_a_series(centre, login):
    client = login(centre.organiser)

    preview = client.post("/events/manage/series/new/", _series_post(centre, preview="1"))

    assert preview.status_code == 200
    assert len(preview.context["sessions"]) == 5  # the Fridays of March 2030
    assert not Event.objects.exists()

    response = client.post("/events/manage/series/new/", _series_post(centre))

    made = Series.objects.get()
    assert response.status_code == 302
    assert response.url == f"/events/manage/series/{made.pk}/"
    assert made.site == centre.alpha
    assert made.events.count() == 5
    assert {e.starts_at.astimezone(PARIS).time() for e in made.events.all()} == {dt.time(9, 30)}


def test_the_series_form_refuses_end_before_start_and_too_many_sessions(centre, login):
    client = login(centre.organiser)
    english = {"HTTP_ACCEPT_LANGUAGE": "en"}

    backwards = client.post(
        "/events/manage/series/new/", _series_post(centre, last_date="2030-02-01"), **english
    )
    too_many = client.post(
        "/events/manage/series/new/",
        _series_post(centre, first_date="2030-01-01", last_date="2032-01-01"),
        **english,
    )
    foreign_theme = client.post(
        "/events/manage/series/new/",
        _series_post(centre, themes=[centre.beta.themes.first().pk]),
        **english,
    )

    assert backwards.status_code == too_many.status_code == foreign_theme.status_code == 200
    assert "after the first date" in str(backwards.context["form"].non_field_errors())
    assert "at most 60" in str(too_many.context["form"].non_field_errors())
    assert "themes" in foreign_theme.context["form"].errors
    assert not Event.objects.exists()


def test_publishing_a_series_publishes_its_future_drafts(centre, login):
    client = login(centre.organiser)
    client.post("/events/manage/series/new/", _series_post(centre))
    made = Series.objects.get()

    response = client.post(f"/events/manage/series/{made.pk}/publish/")

    assert response.status_code == 302
    assert set(made.events.values_list("status", flat=True)) == {Event.Status.PUBLISHED}


def test_another_sites_series_is_not_found(mfa_enrolled, login):
    client = login(mfa_enrolled.organiser)
    client.post("/events/manage/series/new/", _series_post(mfa_enrolled))
    made = Series.objects.get()

    other = login(mfa_enrolled.beta_manager)

    assert other.get(f"/events/manage/series/{made.pk}/").status_code == 404
    assert other.post(f"/events/manage/series/{made.pk}/publish/").status_code == 404
    assert set(made.events.values_list("status", flat=True)) == {Event.Status.DRAFT}


def _cancelled_while_publishing(monkeypatch, nth: int) -> None:
    """The `nth` session the publishing locks was cancelled just before (by another organiser)."""
    real = planning.locked_event
    locked = []

    def locked_event(event_id):
        locked.append(event_id)
        if len(locked) == nth:
            Event.objects.filter(pk=event_id).update(status=Event.Status.CANCELLED)
        return real(event_id)

    monkeypatch.setattr(planning, "locked_event", locked_event)


def test_a_series_is_published_all_or_nothing(centre, monkeypatch):
    made = services.create_series(
        site=centre.alpha,
        recurrence=Recurrence(frequency=Frequency.WEEKLY, weekday=FRIDAY),
        first=dt.date(2030, 3, 1),
        last=dt.date(2030, 3, 31),
        at=dt.time(9, 30),
        duration=dt.timedelta(minutes=90),
        details={"title": "Job club"},
    )
    _cancelled_while_publishing(monkeypatch, nth=3)

    with pytest.raises(services.EventError):
        services.publish_series(series_id=made.pk)

    # The refusal undid the whole publishing (the cancellation made inside it too).
    assert set(made.events.values_list("status", flat=True)) == {Event.Status.DRAFT}
    monkeypatch.undo()
    assert services.publish_series(series_id=made.pk) == 5
    assert set(made.events.values_list("status", flat=True)) == {Event.Status.PUBLISHED}


def test_a_refused_session_publishes_none_of_the_series_and_says_why(centre, login, monkeypatch):
    client = login(centre.organiser)
    client.post("/events/manage/series/new/", _series_post(centre))
    made = Series.objects.get()
    _cancelled_while_publishing(monkeypatch, nth=2)

    response = client.post(
        f"/events/manage/series/{made.pk}/publish/", follow=True, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.redirect_chain == [(f"/events/manage/series/{made.pk}/", 302)]
    told = [str(m) for m in response.context["messages"]]
    assert told[1:] == ["A cancelled event cannot be published again."]  # after the creation's
    assert set(made.events.values_list("status", flat=True)) == {Event.Status.DRAFT}
