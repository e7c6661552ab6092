"""A counsellor's own plan (/desk/plan/) and its private calendar address: only the sessions
planned for them by name, exceptions applied; the address made, replaced and turned off, stored
only as a digest; the feed valid iCalendar with nothing about any visitor."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.test import Client
from icalendar import Calendar

from citedesmetiers import limits
from citedesmetiers.cache import CacheUnavailable
from citedesmetiers.roles import Role
from counselling import planning, views
from counselling.models import PlanFeed, PlanMode
from tests.conftest import make_staff
from tests.counselling_fixtures import in_english, queue_visit, theme  # noqa: F401  (fixture)
from tests.plan_fixtures import Plan, t

pytestmark = pytest.mark.usefixtures("in_english")

ALLOWED_PROPERTIES = {
    "UID",
    "DTSTAMP",
    "DTSTART",
    "DTEND",
    "SUMMARY",
    "DESCRIPTION",
    "LOCATION",
    "STATUS",
}


@pytest.fixture
def plan(centre):
    return Plan(centre)


def secret_of(response) -> str:
    return response.context["address"].rsplit("/", 1)[1].removesuffix(".ics")


def make_address(login, user) -> str:
    response = login(user).post("/desk/plan/address/create/")
    assert response.status_code == 200
    return secret_of(response)


def feed(secret: str, **headers):
    return Client().get(f"/desk/plan/feed/{secret}.ics", **headers)


def entries(response) -> list:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content).walk("VEVENT")


def local(entry, key: str, site) -> dt.datetime:
    return entry[key].dt.astimezone(site.zone)


# --- The page -------------------------------------------------------------------------------


def test_it_lists_only_the_sessions_planned_for_the_counsellor(centre, plan, login):
    response = login(centre.counsellor_a).get("/desk/plan/")

    assert response.status_code == 200
    days = dict(response.context["days"])
    walk_ins = [d for d in plan.every_week(1, 4) if d != plan.absent]
    expected = sorted([*walk_ins, *plan.every_week(2, 4), plan.day(3)])
    assert sorted(days) == expected  # the absence removed its day; nothing beyond four weeks
    sessions = [s for day in days.values() for s in day]
    assert {s.occurrence.counsellor_id for s in sessions} == {centre.counsellor_a.pk}
    assert {s.desk for s in days[plan.day(3)]} == {"Desk 2"}  # the extra session only
    assert all(s.desk == "Desk 1" for d in walk_ins for s in days[d])
    page = response.content.decode()
    assert "10:00–12:00" in page and "09:00–10:00" in page and "14:00–15:00" in page
    assert "appointments (phone, video call)" in page
    assert "Find a training" in page and "Create a business" in page
    assert "Nobody has planned you" not in page
    assert "Create my calendar address" in page


def test_a_counsellor_planned_by_nobody_is_told_whom_to_ask(centre, plan, login):
    dora = make_staff("dora@alpha.test", Role.COUNSELLOR, centre.alpha, centre.partner_a)

    response = login(dora).get("/desk/plan/")

    assert response.status_code == 200
    assert response.context["days"] == []
    assert "Nobody has planned you by name" in response.content.decode()
    assert "ask your manager" in response.content.decode()


def test_the_desk_chooser_links_to_the_plan(centre, login):
    page = login(centre.counsellor_a).get("/desk/").content.decode()
    assert 'href="/desk/plan/"' in page


# --- The address ----------------------------------------------------------------------------


def test_creating_the_address_shows_it_once_and_stores_only_its_digest(centre, plan, login):
    response = login(centre.counsellor_a).post("/desk/plan/address/create/")

    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    secret = secret_of(response)
    assert len(secret) == 43
    page = response.content.decode()
    assert f"http://testserver/desk/plan/feed/{secret}.ics" in page
    assert f"webcal://testserver/desk/plan/feed/{secret}.ics" in page
    stored = PlanFeed.objects.get(counsellor=centre.counsellor_a)
    assert stored.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(PlanFeed.objects.values()))
    assert stored.language == "en"

    again = login(centre.counsellor_a).get("/desk/plan/").content.decode()
    assert secret not in again
    assert "Replace the address" in again and "Turn off" in again
    assert "Create my calendar address" not in again


def test_creating_a_second_address_is_refused_and_the_first_keeps_working(centre, plan, login):
    secret = make_address(login, centre.counsellor_a)
    digest = PlanFeed.objects.get().digest

    response = login(centre.counsellor_a).post("/desk/plan/address/create/", follow=True)

    assert response.redirect_chain == [("/desk/plan/", 302)]
    assert "You already have a calendar address" in response.content.decode()
    assert PlanFeed.objects.get().digest == digest
    assert feed(secret).status_code == 200


def test_replacing_the_address_stops_the_old_one(centre, plan, login):
    old = make_address(login, centre.counsellor_a)

    response = login(centre.counsellor_a).post("/desk/plan/address/replace/")

    assert response.status_code == 200
    new = secret_of(response)
    assert new != old
    assert feed(old).status_code == 404
    assert len(entries(feed(new))) == 16
    assert PlanFeed.objects.count() == 1


def test_turning_the_address_off_stops_it(centre, plan, login):
    secret = make_address(login, centre.counsellor_a)

    response = login(centre.counsellor_a).post("/desk/plan/address/turn-off/", follow=True)

    assert response.redirect_chain == [("/desk/plan/", 302)]
    assert "Your calendar address is turned off." in response.content.decode()
    assert not PlanFeed.objects.exists()
    assert feed(secret).status_code == 404
    assert "Create my calendar address" in response.content.decode()


def test_replacing_or_turning_off_without_an_address_is_refused(centre, plan, login):
    client = login(centre.counsellor_a)

    replaced = client.post("/desk/plan/address/replace/", follow=True)
    turned_off = client.post("/desk/plan/address/turn-off/", follow=True)

    assert "You have no calendar address to replace" in replaced.content.decode()
    assert "already turned off" in turned_off.content.decode()
    assert not PlanFeed.objects.exists()


def test_each_counsellor_has_their_own_address(centre, plan, login):
    bobs = make_address(login, centre.counsellor_a)
    carols = make_address(login, centre.counsellor_b)

    login(centre.counsellor_b).post("/desk/plan/address/turn-off/")

    assert feed(carols).status_code == 404
    assert len(entries(feed(bobs))) == 16


# --- The feed -------------------------------------------------------------------------------


def test_the_feed_holds_the_counsellors_next_eight_weeks_exceptions_applied(centre, plan, login):
    secret = make_address(login, centre.counsellor_a)
    alpha = centre.alpha

    found = entries(feed(secret))

    by_start = {local(e, "DTSTART", alpha): e for e in found}
    walk_ins = [d for d in plan.every_week(1, 8) if d != plan.absent]
    expected = sorted(
        [dt.datetime.combine(d, t(10), tzinfo=alpha.zone) for d in walk_ins]
        + [dt.datetime.combine(d, t(9), tzinfo=alpha.zone) for d in plan.every_week(2, 8)]
        + [dt.datetime.combine(plan.day(3), t(14), tzinfo=alpha.zone)]
    )
    assert sorted(by_start) == expected
    first = by_start[dt.datetime.combine(plan.day(1), t(10), tzinfo=alpha.zone)]
    assert str(first["SUMMARY"]) == "Desk 1 · walk-in"
    assert str(first["DESCRIPTION"]) == "Themes: Find a job, Find a training"
    assert str(first["LOCATION"]) == "Site Alpha"
    assert str(first["UID"]) == f"plan-{plan.walk_in.pk}-{plan.day(1):%Y%m%d}@citedesmetiers"
    assert local(first, "DTEND", alpha).time() == t(12)
    booked = by_start[dt.datetime.combine(plan.day(2), t(9), tzinfo=alpha.zone)]
    assert str(booked["SUMMARY"]) == "Desk 1 · appointments (phone, video call)"
    extra = by_start[dt.datetime.combine(plan.day(3), t(14), tzinfo=alpha.zone)]
    assert str(extra["SUMMARY"]) == "Desk 2 · walk-in"
    assert str(extra["UID"]) == f"plan-extra-{plan.extra.pk}@citedesmetiers"
    # Nothing of Carol's (Desk 2 at 10:00) nor of the session planned for nobody.
    assert all(not str(e["SUMMARY"]).startswith("Desk 2") for e in found if e is not extra)


def test_the_feed_is_valid_icalendar_in_utc_with_stable_names(centre, plan, login):
    secret = make_address(login, centre.counsellor_a)

    first, second = feed(secret), feed(secret)

    calendar = Calendar.from_ical(first.content)
    assert calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "My plan"
    uids = [str(e["UID"]) for e in entries(first)]
    assert len(set(uids)) == len(uids) == 16
    assert uids == [str(e["UID"]) for e in entries(second)]
    for entry in entries(first):
        assert entry["DTSTART"].dt.utcoffset() == dt.timedelta(0)
    lines = first.content.decode().splitlines()
    starts = [line for line in lines if line.startswith("DTSTART")]
    assert len(starts) == 16 and all(line.endswith("Z") for line in starts)
    assert first["Cache-Control"].startswith("max-age=0")
    assert first["X-Robots-Tag"] == "noindex"


def test_the_feed_never_holds_anything_about_a_visitor(centre, plan, login):
    secret = make_address(login, centre.counsellor_a)
    visit = queue_visit(centre.alpha, "E")

    response = feed(secret)

    for entry in entries(response):
        assert set(entry) <= ALLOWED_PROPERTIES
    text = response.content.decode()
    assert visit.code not in text and visit.token not in text
    assert centre.counsellor_a.email not in text
    assert centre.partner_a.name not in text


def test_the_feed_speaks_the_language_of_the_page_that_made_it(centre, plan, client):
    client.force_login(centre.counsellor_a, backend="citedesmetiers.auth_backends.ModelBackend")
    client.cookies["django_language"] = "fr"
    secret = secret_of(client.post("/desk/plan/address/create/"))

    found = entries(feed(secret, HTTP_ACCEPT_LANGUAGE="en"))

    assert any("sans rendez-vous" in str(e["SUMMARY"]) for e in found)


def test_unknown_malformed_and_replaced_secrets_are_not_found(centre, plan, login):
    make_address(login, centre.counsellor_a)
    for secret in ("A" * 43, "x", "A" * 10_000, "' OR '1'='1"):
        assert feed(secret).status_code == 404


def test_a_deactivated_account_has_no_feed(centre, plan, login):
    secret = make_address(login, centre.counsellor_a)
    centre.counsellor_a.is_active = False
    centre.counsellor_a.save(update_fields=["is_active"])

    assert feed(secret).status_code == 404


def test_reading_the_feed_is_limited_per_address(centre, plan, login, monkeypatch):
    monkeypatch.setitem(views.FEED_LIMITS, "per_address", 2)
    secret = make_address(login, centre.counsellor_a)
    for _ in range(2):
        assert feed(secret).status_code == 200

    refused = feed(secret)

    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert feed(secret, REMOTE_ADDR="10.9.8.7").status_code == 200


def test_without_a_cache_to_count_the_feed_is_still_read(centre, plan, login, monkeypatch):
    secret = make_address(login, centre.counsellor_a)

    def down(*args, **kwargs):
        raise CacheUnavailable

    monkeypatch.setattr(limits, "count_hits", down)

    assert len(entries(feed(secret))) == 16


def test_a_session_planned_again_from_a_date_gets_new_names_from_then(centre, plan, login):
    alpha, walk_in = centre.alpha, plan.walk_in
    planning.end_session(session_id=walk_in.pk, last_day=plan.day(7))
    again = planning.plan_session(
        site=alpha,
        desk_id=plan.desk_1.pk,
        partner_id=centre.partner_a.pk,
        theme_ids=[theme(alpha, "E").pk],
        mode=PlanMode.WALK_IN,
        weekday=walk_in.weekday,
        starts=walk_in.starts,
        ends=walk_in.ends,
        valid_from=plan.day(8),
        counsellor_id=centre.counsellor_a.pk,
    )
    secret = make_address(login, centre.counsellor_a)

    uids = {str(e["UID"]) for e in entries(feed(secret))}

    assert f"plan-{walk_in.pk}-{plan.day(1):%Y%m%d}@citedesmetiers" in uids
    assert f"plan-{again.pk}-{plan.day(15):%Y%m%d}@citedesmetiers" in uids
    assert f"plan-{walk_in.pk}-{plan.day(15):%Y%m%d}@citedesmetiers" not in uids
