"""The monthly reports over HTTP: served at /manage/reports/<place>/<yyyy>-<mm>.pdf to the
managers who may see them (a site's, a Cité's, the network's), listed with what became of each,
and asked for from the list or from the report's own page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.utils import timezone

from citedesmetiers.models import Cite, Site
from citedesmetiers.roles import Role
from citedesmetiers.services import grant_role
from figures.models import MonthlyReport
from figures.report_runs import make_report
from figures.report_service import missing_reports, request_report
from tests.conftest import make_staff
from tests.counselling_fixtures import in_english  # noqa: F401  (fixture)
from tests.report_fixtures import (  # noqa: F401  (fixtures)
    FEBRUARY,
    URL,
    add,
    eager_celery_fixture,
    known_month,
    media_fixture,
    network_manager_fixture,
    next_month,
    numbers,
    pages,
    running,
    since_2024,
)
from tests.test_settings import PRODUCTION, run_django

# --- over HTTP -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("in_english")
def test_a_manager_asks_for_the_pdf_then_gets_it(
    mfa_enrolled, login, media, eager_celery, django_capture_on_commit_callbacks
):
    known_month(mfa_enrolled)
    since_2024(mfa_enrolled.alpha)
    client = login(mfa_enrolled.manager)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        missing = client.get(URL)
    assert missing.status_code == 404
    page = missing.content.decode()
    assert "This report has not been made yet." in page
    assert 'action="/manage/reports/request/"' in page and 'name="next" value="pdf"' in page
    assert callbacks == [] and not MonthlyReport.objects.exists()  # a GET writes nothing

    with django_capture_on_commit_callbacks(execute=True):
        asked = client.post(
            "/manage/reports/request/", {"site": "alpha", "month": "2025-02", "next": "pdf"}
        )
    assert (asked.status_code, asked.url) == (302, "/manage/reports/alpha/2025-2.pdf")
    # The eager task ran after the commit: PDF 4 of 4.

    response = client.get(asked.url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="alpha-2025-02.pdf"' in response["Content-Disposition"]
    text = "\n".join(pages(b"".join(response.streaming_content)))
    assert "Site Alpha" in text and {"587", "413"} <= numbers(text)


@pytest.mark.usefixtures("in_english")
def test_a_report_on_its_way_is_shown_with_its_progress(mfa_enrolled, login):
    since_2024(mfa_enrolled.alpha)
    report = request_report(site=mfa_enrolled.alpha, month=FEBRUARY)
    running(report, started=timezone.now())

    response = login(mfa_enrolled.manager).get(URL)

    assert response.status_code == 202
    page = response.content.decode()
    assert "Being generated (40 %)." in page
    assert 'http-equiv="refresh"' in page
    assert MonthlyReport.objects.get().status == MonthlyReport.Status.RUNNING


@pytest.mark.usefixtures("in_english")
@pytest.mark.parametrize(
    ("state", "said"),
    [
        ({"status": "pending"}, "Waiting for the reports worker"),
        ({"status": "pending", "late": True}, "Still waiting: no reports worker has taken it up"),
        ({"status": "running"}, "Being generated (40 %)."),
        ({"status": "running", "late": True}, "It stopped before it was finished"),
        ({"status": "failed", "failure": "time_limit"}, "It took longer than 15 minutes"),
        ({"status": "failed", "failure": "worker_lost"}, "Its worker stopped 3 times"),
        ({"status": "failed", "failure": "error", "error": "boom"}, "An error stopped it."),
        ({"status": "done"}, "Ready (made on"),
    ],
)
def test_the_managers_page_says_what_became_of_each_report(mfa_enrolled, login, state, said):
    late = dt.timedelta(hours=2) if state.pop("late", False) else dt.timedelta(0)
    MonthlyReport.objects.create(
        site=mfa_enrolled.alpha,
        month=FEBRUARY,
        requested_at=timezone.now() - late,
        started_at=timezone.now() - late,
        generated_at=timezone.now(),
        progress=40,
        attempts=3,
        file="reports/alpha-2025-02.pdf" if state["status"] == "done" else "",
        **state,
    )

    page = login(mfa_enrolled.manager).get("/manage/reports/").content.decode()

    assert said in page
    again = 'name="force" value="1"' in page.split("<table>")[1]
    assert again == (late > dt.timedelta(0) or state["status"] == "failed")


@pytest.mark.usefixtures("in_english")
@pytest.mark.parametrize(
    ("persona", "url", "status"),
    [
        ("manager", "/manage/reports/nowhere/2025-02.pdf", 404),
        ("beta_manager", URL, 403),
        ("manager", "/manage/reports/alpha/2025-13.pdf", 404),
        ("manager", "/manage/reports/alpha/2025-00.pdf", 404),
        ("manager", "/manage/reports/alpha/2025-99.pdf", 404),
        ("manager", "/manage/reports/alpha/2025-002.pdf", 404),
        ("manager", "/manage/reports/alpha/99999999999999999-01.pdf", 404),
        ("manager", "/manage/reports/alpha/0000-01.pdf", 404),
        ("manager", "/manage/reports/alpha/0001-01.pdf", 400),
        ("manager", "/manage/reports/alpha/2025-02.pdf", 404),  # not made yet
        ("manager", "/manage/reports/network/2025-02.pdf", 403),
        ("reception", URL, 403),
        ("counsellor_a", URL, 403),
    ],
)
def test_who_gets_which_report(mfa_enrolled, login, persona, url, status):
    since_2024(mfa_enrolled.alpha, mfa_enrolled.beta)
    response = login(mfa_enrolled.persona(persona)).get(url)
    assert response.status_code == status
    assert not MonthlyReport.objects.exists()


def test_an_anonymous_visitor_is_sent_to_log_in(centre, login):
    response = login(None).get(URL)
    assert response.status_code == 302
    assert response.url == f"/accounts/login/?next={URL}"


@pytest.mark.usefixtures("in_english")
def test_a_month_not_over_is_refused_with_its_reason(mfa_enrolled, login):
    since_2024(mfa_enrolled.alpha)
    month = next_month(timezone.localdate())
    response = login(mfa_enrolled.manager).get(
        f"/manage/reports/alpha/{month.year}-{month.month:02d}.pdf"
    )
    assert response.status_code == 400
    assert "This month is not over yet" in response.content.decode()
    assert not MonthlyReport.objects.exists()


@pytest.mark.usefixtures("in_english")
def test_a_network_manager_gets_the_network_report(
    network_manager, login, django_capture_on_commit_callbacks
):
    since_2024(*Site.objects.all())
    client = login(network_manager)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            "/manage/reports/request/", {"site": "network", "month": "2025-02", "next": "pdf"}
        )
    assert len(callbacks) == 1
    assert MonthlyReport.objects.get().site is None

    response = client.get(response.url)
    assert response.status_code == 202
    assert "Network" in response.content.decode()


@pytest.mark.usefixtures("in_english")
def test_the_network_report_of_a_month_before_any_site_is_refused(network_manager, login):
    client = login(network_manager)

    response = client.get("/manage/reports/network/0001-01.pdf")
    assert response.status_code == 400
    assert "No site existed yet in that month." in response.content.decode()
    page = client.post(
        "/manage/reports/request/", {"site": "network", "month": "0001-01"}, follow=True
    ).content.decode()
    assert "No site existed yet in that month." in page
    assert not MonthlyReport.objects.exists()


@pytest.mark.usefixtures("in_english")
def test_the_list_shows_the_reports_a_manager_may_open(mfa_enrolled, network_manager, login):
    for site in (mfa_enrolled.alpha, mfa_enrolled.beta, None):
        MonthlyReport.objects.create(
            site=site,
            month=FEBRUARY,
            status=MonthlyReport.Status.DONE,
            file=f"reports/{site.slug if site else 'network'}-2025-02.pdf",
            requested_at=timezone.now(),
        )

    mine = login(mfa_enrolled.manager).get("/manage/reports/").content.decode()
    everyone = login(network_manager).get("/manage/reports/").content.decode()

    assert "/manage/reports/alpha/2025-2.pdf" in mine
    assert "/manage/reports/beta/" not in mine and "/manage/reports/network/" not in mine
    for slug in ("alpha", "beta", "network"):
        assert f"/manage/reports/{slug}/2025-2.pdf" in everyone


@pytest.mark.usefixtures("in_english")
def test_asking_from_the_list_queues_one_generation(
    mfa_enrolled, login, django_capture_on_commit_callbacks
):
    since_2024(mfa_enrolled.alpha)
    client = login(mfa_enrolled.manager)
    with django_capture_on_commit_callbacks() as callbacks:
        for _ in range(2):
            response = client.post(
                "/manage/reports/request/", {"site": "alpha", "month": "2025-02"}
            )
            assert response.status_code == 302 and response.url == "/manage/reports/"
    assert len(callbacks) == 1
    assert MonthlyReport.objects.get().status == MonthlyReport.Status.PENDING

    refused = client.post("/manage/reports/request/", {"site": "beta", "month": "2025-02"})
    assert refused.status_code == 403
    client.post("/manage/reports/request/", {"site": "alpha", "month": "2099-01"}, follow=True)
    assert MonthlyReport.objects.count() == 1


def test_the_report_queue_is_its_own(settings):
    # A report never delays reminders: it has a Celery queue of its own.
    assert settings.CELERY_TASK_ROUTES["citedesmetiers.tasks.generate_report"] == {
        "queue": "reports"
    }


def test_redis_never_hands_a_report_still_rendering_to_another_worker():
    # Tasks are acknowledged late: Redis gives an unacknowledged one to another worker after
    # its visibility timeout, which must outlast the longest render.
    result = run_django(
        {**PRODUCTION, "REPORT_TIME_LIMIT": "7200"},
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CELERY_BROKER_TRANSPORT_OPTIONS['visibility_timeout'])",
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["7800"]


# --- a Cité's report ------------------------------------------------------------------------------


@pytest.fixture
def nord(mfa_enrolled):
    """Alpha and Beta form the Cité du Nord; Gamma is in another Cité."""

    cite = Cite.objects.create(slug="nord", name="Cité des métiers du Nord")
    Site.objects.filter(pk__in=[mfa_enrolled.alpha.pk, mfa_enrolled.beta.pk]).update(cite=cite)
    gamma = Site.objects.create(slug="gamma", name="Site Gamma")
    gamma.cite = Cite.objects.create(slug="sud", name="Cité des métiers du Sud")
    gamma.save()
    since_2024(mfa_enrolled.alpha, mfa_enrolled.beta, gamma)
    return cite


@pytest.fixture
def cite_manager(nord):
    user = make_staff("henri@nord.test", None, None, is_staff=True)
    grant_role(user=user, role=Role.MANAGER, cite=nord)
    TOTP.activate(user, generate_totp_secret())
    return user


@pytest.mark.usefixtures("in_english")
def test_a_cites_manager_gets_the_cites_report_across_its_sites(
    mfa_enrolled, nord, cite_manager, login, media, django_capture_on_commit_callbacks
):
    known_month(mfa_enrolled)
    add(Site.objects.get(slug="gamma"), 5, "reception", "visits", 1000, hour=10, theme=0)
    Site.objects.filter(cite=nord).update(language="en")  # the Cité's report speaks theirs
    client = login(cite_manager)
    assert 'value="cite:nord"' in client.get("/manage/reports/").content.decode()

    with django_capture_on_commit_callbacks():
        response = client.post(
            "/manage/reports/request/", {"site": "cite:nord", "month": "2025-02"}
        )
    assert response.status_code == 302
    report = MonthlyReport.objects.get()
    assert (report.site, report.cite, report.place_key) == (None, nord, "cite:nord")

    make_report(report.pk)  # PDF 4 of 4

    report.refresh_from_db()
    assert report.file.name == "reports/cite-nord-2025-02.pdf"
    text = "\n".join(pages(Path(report.file.path).read_bytes()))
    assert "Cité des métiers du Nord: all its sites" in text
    assert "Site Alpha" in text and "Site Beta" in text and "Site Gamma" not in text
    assert str(587 + 77) in numbers(text) and "1000" not in numbers(text)
    pdf = client.get("/manage/reports/cite:nord/2025-02.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


@pytest.mark.parametrize("persona", ["manager", "beta_manager"])
def test_a_sites_manager_gets_no_cite_report(mfa_enrolled, nord, login, persona):
    client = login(mfa_enrolled.persona(persona))
    response = client.post("/manage/reports/request/", {"site": "cite:nord", "month": "2025-02"})
    assert response.status_code == 403
    assert client.get("/manage/reports/cite:nord/2025-02.pdf").status_code == 403
    assert not MonthlyReport.objects.exists()


def test_the_daily_job_makes_the_reports_of_cites_of_several_sites(
    mfa_enrolled, nord, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks():
        missing_reports()
    cites = set(
        MonthlyReport.objects.filter(cite__isnull=False).values_list("cite__slug", flat=True)
    )
    assert cites == {"nord"}  # the Sud has one site: its site's report says it all
