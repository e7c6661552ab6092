"""The managers' dashboard at /manage/: today live from the raw rows, the month so far from the
daily figures, by site (a site manager sees only theirs; a network manager compares them), and
each table as CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import statistics
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.urls import get_resolver, resolve
from django.utils import timezone

from citedesmetiers import stats
from citedesmetiers.models import AggregatedDay, DailyStat, Site, Theme, User
from citedesmetiers.roles import Role
from counselling import services as desk
from reception import services as reception
from reception.models import Call, Visit
from tests.conftest import Centre, make_staff
from tests.counselling_fixtures import in_english, make_desk, open_session, theme  # noqa: F401
from tests.test_access import ACCESS

pytestmark = pytest.mark.usefixtures("in_english")


def today_at_alpha(centre: Centre) -> dict:
    """Five walk-ins at Alpha today (one served, one at a desk, two waiting, one gone), two desks
    open and one closed; a visitor still waiting from yesterday; Beta's own day."""
    site, now = centre.alpha, timezone.now()
    midnight = dt.datetime.combine(site.local_date(now), dt.time.min, tzinfo=site.zone)

    def ago(minutes: int) -> dt.datetime:
        return max(midnight, now - dt.timedelta(minutes=minutes))

    def arrive(s: Site, letter: str, at: dt.datetime) -> Visit:
        return reception.check_in(site=s, theme_id=theme(s, letter).pk, now=at)[0]

    closed = open_session(centre.counsellor_b, make_desk(site, "Desk 3", "A"), ago(200))
    desk.close_desk(session_id=closed.pk, counsellor=centre.counsellor_b, now=ago(190))
    bob = {
        "session_id": open_session(centre.counsellor_a, make_desk(site, "Desk 1", "E", "F")).pk,
        "counsellor": centre.counsellor_a,
    }
    open_session(centre.counsellor_b, make_desk(site, "Desk 2", "A"))

    arrive(site, "A", midnight - dt.timedelta(hours=3))  # yesterday evening, never closed
    served = arrive(site, "E", ago(120))
    assert desk.call_next(**bob, now=ago(100)).pk == served.pk
    desk.start_interview(**bob, now=ago(99))
    desk.finish_interview(**bob, outcomes=["information"], now=ago(80))
    held = arrive(site, "E", ago(90))
    assert desk.call_next(**bob, now=ago(70)).pk == held.pk
    arrive(site, "F", ago(60))
    arrive(site, "E", ago(50))
    gone = arrive(site, "A", ago(40))
    reception.mark_left(site=site, visit_id=gone.pk, now=ago(30))

    arrive(centre.beta, "E", ago(30))
    beta_desk = make_desk(centre.beta, "Desk 1", "E")
    open_session(make_staff("hugo@beta.test", Role.COUNSELLOR, centre.beta), beta_desk)
    return {"served": served, "held": held}


def raw_live(site: Site) -> dict:
    """Today's live figures, counted straight from the raw rows."""
    today = Visit.objects.filter(site=site, local_date=site.local_date())
    waits = [
        (Call.objects.filter(visit=v).order_by("at").first().at - v.arrived_at).total_seconds() / 60
        for v in today
        if v.calls.exists()
    ]
    return {
        "arrived": today.count(),
        "waiting": today.filter(status="waiting").count(),
        "served": today.filter(status="done").count(),
        "median_wait": round(statistics.median(waits)),
        "desks_open": 2,
    }


def test_it_shows_today_live_as_the_raw_rows_say(mfa_enrolled, login):
    today_at_alpha(mfa_enrolled)

    response = login(mfa_enrolled.manager).get("/manage/")

    assert response.status_code == 200
    live = response.context["live"]
    assert live == raw_live(mfa_enrolled.alpha)
    assert (live["arrived"], live["waiting"], live["served"], live["desks_open"]) == (5, 2, 1, 2)
    page = response.content.decode()
    assert "Site Alpha" in page
    assert f"<strong>{live['median_wait']} min</strong>" in page


def test_the_month_so_far_comes_from_the_daily_figures(mfa_enrolled, login):
    today_at_alpha(mfa_enrolled)
    stats.aggregate_day(mfa_enrolled.alpha, mfa_enrolled.alpha.local_date())

    response = login(mfa_enrolled.manager).get("/manage/")

    tables = response.context["tables"]
    assert sorted(tables["visits_by_theme"]) == [
        ("Create a business", 1),
        ("Find a job", 3),
        ("Find a training", 1),
    ]
    assert tables["interviews_by_partner"] == [("Employment agency", 1)]
    today = mfa_enrolled.alpha.local_date().isoformat()
    assert dict(tables["visits_by_day"])[today] == 5
    assert sum(n for _day, n in tables["visits_by_day"]) == 5
    assert response.context["comparison"][0][:2] == ("Visits", 5)


def test_a_site_manager_cannot_see_another_site(mfa_enrolled, login):
    client = login(mfa_enrolled.manager)
    assert client.get("/manage/?site=beta").status_code == 403
    assert client.get("/manage/export/visits_by_theme.csv?site=beta").status_code == 403
    # Asking for every site only shows their own.
    response = client.get("/manage/?site=all")
    assert response.status_code == 200
    assert response.context["site"] == mfa_enrolled.alpha
    assert response.context["by_site"] == []


def test_a_site_manager_sees_their_own_site(mfa_enrolled, login):
    today_at_alpha(mfa_enrolled)
    response = login(mfa_enrolled.beta_manager).get("/manage/")
    assert response.context["site"] == mfa_enrolled.beta
    assert response.context["live"]["arrived"] == 1
    assert response.context["live"]["desks_open"] == 1


@pytest.fixture
def network_manager(mfa_enrolled) -> User:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = make_staff("nina@network.test", Role.MANAGER, None)
    TOTP.activate(user, generate_totp_secret())
    return user


def test_a_network_manager_compares_the_sites(mfa_enrolled, network_manager, login):
    today_at_alpha(mfa_enrolled)
    for site in (mfa_enrolled.alpha, mfa_enrolled.beta):
        stats.aggregate_day(site, site.local_date())

    response = login(network_manager).get("/manage/?site=all")

    assert response.status_code == 200
    assert response.context["network"] is True
    compared = {name: f["visits"] for name, f in response.context["by_site"]}
    assert compared == {"Site Alpha": 5, "Site Beta": 1}
    assert response.context["live"]["arrived"] == 6
    page = response.content.decode()
    assert "Sites compared" in page and "Site Beta" in page
    # And each site alone.
    beta = login(network_manager).get("/manage/?site=beta")
    assert beta.context["site"] == mfa_enrolled.beta
    assert beta.context["live"]["arrived"] == 1


def test_filters_narrow_the_tables(mfa_enrolled, login):
    today_at_alpha(mfa_enrolled)
    stats.aggregate_day(mfa_enrolled.alpha, mfa_enrolled.alpha.local_date())
    training = theme(mfa_enrolled.alpha, "F")

    response = login(mfa_enrolled.manager).get(f"/manage/?theme={training.pk}")

    assert response.context["filters"] == {"theme": str(training.pk)}
    assert response.context["tables"]["visits_by_theme"] == [("Find a training", 1)]
    # Another site's theme is not a filter here.
    beta_theme = theme(mfa_enrolled.beta, "E")
    response = login(mfa_enrolled.manager).get(f"/manage/?theme={beta_theme.pk}")
    assert response.context["filters"] == {}


def read_csv(response) -> list[list[str]]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.parametrize("table", ["visits_by_theme", "visits_by_day", "interviews_by_partner"])
def test_each_table_exports_as_csv_with_the_same_numbers(mfa_enrolled, login, table):
    today_at_alpha(mfa_enrolled)
    stats.aggregate_day(mfa_enrolled.alpha, mfa_enrolled.alpha.local_date())
    client = login(mfa_enrolled.manager)
    shown = client.get("/manage/").context["tables"][table]

    response = client.get(f"/manage/export/{table}.csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="{table}-' in response["Content-Disposition"]
    header, *lines = read_csv(response)
    assert header == ["label", "value"]
    assert [(label, int(n)) for label, n in lines] == [(str(k), v) for k, v in shown]
    assert lines


def test_a_csv_cell_never_starts_a_formula(mfa_enrolled, login):
    formula = Theme.objects.create(site=mfa_enrolled.alpha, letter="Z", name="=HYPERLINK(1)")
    reception.check_in(site=mfa_enrolled.alpha, theme_id=formula.pk)
    stats.aggregate_day(mfa_enrolled.alpha, mfa_enrolled.alpha.local_date())

    response = login(mfa_enrolled.manager).get("/manage/export/visits_by_theme.csv")

    assert read_csv(response)[1] == ["'=HYPERLINK(1)", "1"]


@pytest.mark.parametrize("table", ["nothing", "_figures"])
def test_an_unknown_table_is_not_found(mfa_enrolled, login, table):
    assert login(mfa_enrolled.manager).get(f"/manage/export/{table}.csv").status_code == 404


def test_the_dashboard_reads_a_bounded_number_of_queries(
    mfa_enrolled, network_manager, login, django_assert_max_num_queries
):
    today_at_alpha(mfa_enrolled)
    for site in (mfa_enrolled.alpha, mfa_enrolled.beta):
        stats.aggregate_day(site, site.local_date())

    manager = login(mfa_enrolled.manager)
    with django_assert_max_num_queries(40):
        assert manager.get("/manage/").status_code == 200
    network = login(network_manager)
    with django_assert_max_num_queries(40):
        assert network.get("/manage/?site=all").status_code == 200


def demo_figures() -> list[tuple]:
    return sorted(
        DailyStat.objects.values_list("site__slug", "day", "source", "metric", "key", "value")
    )


def test_the_demo_history_is_the_same_when_seeded_twice_and_shows(db, client):
    call_command(
        "seed_demo", "--history", "2", "--i-know-this-resets-passwords", stdout=io.StringIO()
    )
    first = demo_figures()
    days = AggregatedDay.objects.count()
    call_command(
        "seed_demo", "--history", "2", "--i-know-this-resets-passwords", stdout=io.StringIO()
    )

    assert demo_figures() == first
    assert AggregatedDay.objects.count() == days
    demo = Site.objects.get(slug="demo")
    today = demo.local_date()
    two_months_ago = (today.replace(day=1) - dt.timedelta(days=32)).replace(day=1)
    assert days == (today - two_months_ago).days  # every day up to yesterday
    assert len(first) > 1000

    client.force_login(User.objects.get(email="manager@demo.test"))
    response = client.get("/manage/")

    assert response.status_code == 200
    this_month = stats.read([demo], today.replace(day=1), today).total("visits")
    assert sum(n for _day, n in response.context["tables"]["visits_by_day"]) == this_month
    assert "<svg" in response.content.decode() or this_month == 0


def test_every_manage_address_is_in_the_access_matrix():
    class Example(dict):
        def __missing__(self, key: str) -> str:
            return "1"

    covered = set()
    for template, _method, _expected in ACCESS:
        if isinstance(template, str) and template.startswith("/manage/"):
            covered.add(resolve(urlsplit(template.format_map(Example())).path).view_name)
    namespace = get_resolver().namespace_dict["manage"][1]
    assert {f"manage:{p.name}" for p in namespace.url_patterns} - covered == set()


def test_an_export_of_figures_is_written_to_the_audit_log(mfa_enrolled, login):
    from citedesmetiers.models import AuditEntry

    login(mfa_enrolled.manager).get("/manage/export/visits_by_theme.csv")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.action, entry.subject, entry.site) == (
        mfa_enrolled.manager,
        "export",
        "figures: visits_by_theme",
        mfa_enrolled.alpha,
    )
