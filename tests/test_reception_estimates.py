"""How honest the wait estimates are: the forecast (desks calling as call next does), the wait
quoted at check-in (what the screens showed a newcomer), the daily figures comparing quoted and
actual waits, and where the dashboard and the monthly report show them."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.test import Client
from django.utils import timezone

from counselling import services as desks
from figures import reports
from figures.models import AggregatedDay, DailyStat
from figures.stats import Honesty, aggregate_day, read
from reception import queues
from reception.models import Visit
from tests.counselling_fixtures import (
    T0,
    in_english,  # noqa: F401  (fixture)
    make_desk,
    minutes,
    open_session,
    queue_visit,
    theme,
)
from tests.report_fixtures import FEBRUARY, add

pytestmark = pytest.mark.usefixtures("in_english")


def served(site, letter: str, at: dt.datetime, length: int, counsellor, desk) -> None:
    """An interview of `length` minutes for `letter`, ended before `at` (a service sample)."""
    session = open_session(counsellor, desk, at=at - minutes(length + 1))
    queue_visit(site, letter, at=at - minutes(length + 1))
    desks.call_next(session_id=session.pk, counsellor=counsellor, now=at - minutes(length))
    desks.start_interview(session_id=session.pk, counsellor=counsellor, now=at - minutes(length))
    desks.finish_interview(session_id=session.pk, counsellor=counsellor, now=at)
    desks.close_desk(session_id=session.pk, counsellor=counsellor, now=at)


# --- the forecast --------------------------------------------------------------------------------


def test_a_desk_shared_between_themes_counts_once():
    e, f = 1, 2
    shared = queues.DeskForecast(themes=frozenset({e, f}), free_in=0)
    only_e = queues.DeskForecast(themes=frozenset({e}), free_in=10)
    queue = [("f1", f), ("e1", e), ("f2", f), ("e2", e)]

    waits = queues.forecast(queue, [shared, only_e], {e: 20, f: 30})

    # The shared desk calls f1 now and is free at 30; the other desk, free at 10, calls e1 then
    # e2 at 30 (before the shared desk, free at 30 too, by the desks' order); f2 waits for the
    # shared desk: 30. The rough formula counts the shared desk whole for each theme.
    assert waits == {"f1": 0, "e1": 10, "f2": 30, "e2": 30}


def test_visitors_of_a_theme_no_desk_serves_are_left_out():
    waits = queues.forecast(
        [("a", 3), ("e", 1)], [queues.DeskForecast(frozenset({1}), 5)], {1: 20, 3: 20}
    )
    assert waits == {"e": 5}


@pytest.mark.parametrize(("minutes_", "said"), [(0, 0), (0.5, 5), (7.4, 5), (7.6, 10), (52, 50)])
def test_a_forecast_is_said_to_five_minutes_and_zero_only_when_a_desk_is_free(minutes_, said):
    assert queues.rounded(minutes_) == said


def test_a_desk_in_an_interview_is_free_after_what_is_left_of_it(centre):
    alpha = centre.alpha
    desk = make_desk(alpha, "Desk 1", "E")
    session = open_session(centre.counsellor_a, desk, at=T0)
    queue_visit(alpha, "E", at=T0)
    desks.call_next(session_id=session.pk, counsellor=centre.counsellor_a, now=T0)
    desks.start_interview(session_id=session.pk, counsellor=centre.counsellor_a, now=T0)
    waiting = queue_visit(alpha, "E", at=T0 + minutes(1))

    def phone_wait(at):
        queue = next(q for q in queues.theme_queues(alpha, at) if q.theme.letter == "E")
        return queue.estimate_for(0, waiting.pk), queue.estimate

    # 20 minutes an interview (the default): 5 minutes in, 15 are left; the newcomer waits for
    # the visitor too. 18 minutes in, a quarter of an interview is still expected.
    assert phone_wait(T0 + minutes(5)) == (15, 35)
    assert phone_wait(T0 + minutes(18)) == (5, 25)


def test_a_queue_too_long_to_forecast_gets_the_rough_estimate(centre, monkeypatch):
    monkeypatch.setattr(queues, "FORECAST_QUEUE", 2)
    alpha = centre.alpha
    open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"))
    for _n in range(3):
        queue_visit(alpha, "E")

    queue = next(q for q in queues.theme_queues(alpha) if q.theme.letter == "E")

    assert queue.waiting == 3 and queue.newcomer_wait is None
    assert queue.estimate == queues.rough_estimate(3, 1, 1, 20) == 50


# --- the quote -----------------------------------------------------------------------------------


def test_a_visitor_is_quoted_the_wait_the_screens_showed(centre):
    alpha = centre.alpha
    alpha.language = "en"  # the display speaks the site's language
    alpha.save(update_fields=["language"])
    open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"))
    queue_visit(alpha, "E")
    unseen = queue_visit(alpha, "E")  # nobody looked at a screen yet: no quote
    assert (unseen.quoted_wait, unseen.quoted_at) == (None, None)

    page = Client().get("/display/alpha/").content.decode()
    assert "about 40 min" in page
    told = queue_visit(alpha, "E")
    nobody_serves = queue_visit(alpha, "F")

    told.refresh_from_db()
    assert told.quoted_wait == 40 and told.quoted_at == told.arrived_at
    nobody_serves.refresh_from_db()
    assert nobody_serves.quoted_wait is None and nobody_serves.quoted_at is not None


def test_a_quote_goes_stale(centre):
    alpha = centre.alpha
    open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"))
    Client().get("/display/alpha/")
    later = queue_visit(alpha, "E", at=dt.datetime.now(dt.UTC) + queues.QUOTE_FRESH + minutes(1))
    assert later.quoted_at is None


def test_reception_sees_the_wait_it_tells_the_visitor(centre, login):
    alpha = centre.alpha
    open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"))
    queue_visit(alpha, "E")
    visit = queue_visit(alpha, "E")

    page = login(centre.reception).get(f"/reception/visits/{visit.pk}/").content.decode()

    assert "Estimated wait" in page and "about 20 min" in page


# --- the figures ---------------------------------------------------------------------------------


def test_the_day_close_counts_how_far_each_quote_was(centre):
    alpha = centre.alpha
    e = theme(alpha, "E")
    session = open_session(centre.counsellor_a, make_desk(alpha, "Desk 1", "E"), at=T0)
    visits = [queue_visit(alpha, "E", at=T0 + minutes(n)) for n in range(3)]
    Visit.objects.filter(pk=visits[0].pk).update(quoted_wait=0, quoted_at=T0)
    Visit.objects.filter(pk=visits[1].pk).update(quoted_wait=5, quoted_at=T0)
    # visits[2]: no quote (no screen was looked at): not counted.
    for n in range(3):
        at = T0 + minutes(20 * n + 1)
        desks.call_next(session_id=session.pk, counsellor=centre.counsellor_a, now=at)
        desks.start_interview(session_id=session.pk, counsellor=centre.counsellor_a, now=at)
        desks.finish_interview(
            session_id=session.pk, counsellor=centre.counsellor_a, now=at + minutes(19)
        )

    aggregate_day(alpha, T0.date())

    errors = dict(
        DailyStat.objects.filter(site=alpha, metric="estimate_error").values_list("key", "value")
    )
    # Waited 1 minute for a quote of 0; 20 minutes for a quote of 5.
    assert errors == {f"e=1|hour=9|theme={e.pk}": 1, f"e=15|hour=9|theme={e.pk}": 1}
    assert not DailyStat.objects.filter(metric="estimate_error", key__contains="visit").exists()


def test_honesty_is_the_median_error_and_the_share_within_ten_minutes():
    honesty = Honesty.of(Counter({-12: 1, -3: 2, 4: 3, 25: 4}))
    assert honesty == Honesty(quoted=10, median_error=4, median_miss=4, within=50)
    assert Honesty.of(Counter({-8: 3, 1: 1})).median_early == 8


def test_the_report_and_the_dashboard_show_the_honesty_by_theme_and_hour(mfa_enrolled, login):
    centre = mfa_enrolled
    alpha = centre.alpha
    AggregatedDay.objects.create(site=alpha, day=FEBRUARY, at=timezone.now())
    e, f = theme(alpha, "E").pk, theme(alpha, "F").pk
    add(alpha, 3, "reception", "visits", 9, channel="in_person", hour=10, theme=e)
    add(alpha, 4, "reception", "visits", 5, channel="in_person", hour=14, theme=f)
    add(alpha, 3, "reception", "estimate_error", 6, e=2, hour=10, theme=e)
    add(alpha, 3, "reception", "estimate_error", 2, e=-15, hour=10, theme=e)
    add(alpha, 4, "reception", "estimate_error", 4, e=30, hour=14, theme=f)

    honesty = reports.build(alpha, FEBRUARY)["honesty"]

    assert honesty["overall"] == Honesty(quoted=12, median_error=2, median_miss=2, within=50)
    assert [(name, h.quoted, h.within) for name, h in honesty["by_theme"]] == [
        ("Find a job", 8, 75),
        ("Find a training", 4, 0),
    ]
    assert [(hour, h.median_error) for hour, h in honesty["by_hour"]] == [
        ("10:00", 2),
        ("14:00", 30),
    ]
    assert (
        read([alpha], FEBRUARY, FEBRUARY.replace(day=28))
        .estimate_honesty("theme")[str(f)]
        .median_miss
        == 30
    )

    page = login(centre.manager).get("/manage/", {"month": "2025-02", "site": "alpha"})
    html = page.content.decode()
    assert page.status_code == 200
    assert "How honest the quoted waits were" in html
    assert "Of the 12 visitors quoted a wait at check-in and then called, 50 % were called" in html


# --- the long-wait alert -------------------------------------------------------------------------


def test_reception_and_the_dashboard_flag_a_theme_waiting_past_the_sites_threshold(
    mfa_enrolled, login
):
    centre = mfa_enrolled
    alpha = centre.alpha
    now = dt.datetime.now(dt.UTC)
    queue_visit(alpha, "E", at=now - minutes(50))
    queue_visit(alpha, "F", at=now - minutes(30))

    tablet = login(centre.reception).get("/reception/").content.decode()
    dashboard = login(centre.manager).get("/manage/").content.decode()

    assert "Waiting over 45 minutes:" in tablet
    assert "E · Find a job (50 min)" in tablet and "F · Find a training (" not in tablet
    assert "Site Alpha, E · Find a job: a visitor has waited 50 minutes" in dashboard
    assert "Find a training: a visitor" not in dashboard

    alpha.long_wait_minutes = None  # never
    alpha.save(update_fields=["long_wait_minutes"])
    assert "Waiting over" not in login(centre.reception).get("/reception/").content.decode()
    assert "a visitor has waited" not in login(centre.manager).get("/manage/").content.decode()
