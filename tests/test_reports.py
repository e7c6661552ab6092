"""The monthly report: asked for (refused for a month not over or before the site existed; never
generated twice at once), made in the background into a PDF whose text has the right figures,
and served at /manage/reports/<site>/<yyyy>-<mm>.pdf to the managers who may see it.

WeasyPrint is slow: this file renders four PDFs in all (tests/test_reports_worker.py a few more,
in real worker processes)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from citedesmetiers.facts import key
from citedesmetiers.models import Site, User
from citedesmetiers.roles import Role
from figures.models import DailyStat, MonthlyReport
from figures.report_runs import HARD_LIMIT_MARGIN, MAX_ATTEMPTS, make_report, run_limit
from figures.report_service import ReportError, request_report
from tests.conftest import Centre, make_staff
from tests.counselling_fixtures import in_english, make_desk, theme  # noqa: F401  (fixture)

JANUARY, FEBRUARY = dt.date(2025, 1, 1), dt.date(2025, 2, 1)
URL = "/manage/reports/alpha/2025-02.pdf"


# --- a known month of figures ----------------------------------------------------------------


def add(site: Site, day: int, source: str, metric: str, value: int, month=FEBRUARY, **dims):
    DailyStat.objects.create(
        site=site,
        day=month.replace(day=day),
        source=source,
        metric=metric,
        key=key(**dims),
        value=value,
    )


def known_month(centre: Centre) -> None:
    """February 2025 at Alpha: 587 visits, 413 interviews (271 for partner A at Desk 1, 142 for
    partner B at Desk 2), an age bracket under 5; 455 visits in January; 77 at Beta."""
    alpha = centre.alpha
    e, f = theme(alpha, "E").pk, theme(alpha, "F").pk
    desk1, desk2 = make_desk(alpha, "Desk 1", "E").pk, make_desk(alpha, "Desk 2", "F").pk
    pa, pb = centre.partner_a.pk, centre.partner_b.pk
    add(alpha, 3, "reception", "visits", 300, channel="in_person", hour=10, theme=e)
    add(alpha, 4, "reception", "visits", 287, channel="phone", hour=14, theme=f)
    for v, n in (("u18", 3), ("18-25", 300), ("26-44", 284)):
        add(alpha, 3, "reception", "profile_age", n, v=v)
    add(alpha, 3, "reception", "wait_minutes", 587, m=12)
    add(alpha, 3, "counselling", "interviews", 271, desk=desk1, partner=pa, theme=e)
    add(
        alpha, 3, "counselling", "interview_seconds", 271 * 20 * 60, desk=desk1, partner=pa, theme=e
    )
    add(alpha, 4, "counselling", "interviews", 142, desk=desk2, partner=pb, theme=f)
    add(
        alpha, 4, "counselling", "interview_seconds", 142 * 30 * 60, desk=desk2, partner=pb, theme=f
    )
    add(alpha, 3, "counselling", "outcomes", 271, code="information", partner=pa)
    add(alpha, 4, "counselling", "outcomes", 142, code="come_back", partner=pb)
    add(alpha, 6, "reception", "visits", 455, month=JANUARY, channel="in_person", hour=11, theme=e)
    beta_e = theme(centre.beta, "E").pk
    add(centre.beta, 5, "reception", "visits", 77, channel="in_person", hour=10, theme=beta_e)


def since_2024(*sites: Site) -> None:
    Site.objects.filter(pk__in=[s.pk for s in sites]).update(
        created=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    )
    for site in sites:
        site.refresh_from_db()


def pages(pdf: bytes) -> list[str]:
    assert pdf.startswith(b"%PDF")
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def numbers(text: str) -> set[str]:
    return set(text.replace("\u202f", " ").replace("\xa0", " ").split())


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def eager_celery():
    from citedesmetiers.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before


@pytest.fixture
def network_manager(mfa_enrolled) -> User:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    user = make_staff("nina@network.test", Role.MANAGER, None)
    TOTP.activate(user, generate_totp_secret())
    return user


def next_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


# --- asking for a report -----------------------------------------------------------------------


@pytest.mark.usefixtures("in_english")
def test_a_month_not_over_yet_is_refused(centre):
    since_2024(centre.alpha)
    this_month = centre.alpha.local_date().replace(day=1)
    for month in (this_month, next_month(this_month), dt.date(2099, 1, 1)):
        with pytest.raises(ReportError, match="This month is not over yet"):
            request_report(site=centre.alpha, month=month)
    assert not MonthlyReport.objects.exists()


@pytest.mark.usefixtures("in_english")
def test_a_month_before_the_site_existed_is_refused(centre):
    Site.objects.filter(pk=centre.alpha.pk).update(
        created=dt.datetime(2025, 3, 10, 12, tzinfo=dt.UTC)
    )
    centre.alpha.refresh_from_db()

    with pytest.raises(ReportError, match="Site Alpha did not exist yet in that month."):
        request_report(site=centre.alpha, month=FEBRUARY)
    request_report(site=centre.alpha, month=dt.date(2025, 3, 1))  # the month it opened: fine


def test_a_second_request_while_one_is_on_its_way_queues_nothing(
    centre, django_capture_on_commit_callbacks
):
    since_2024(centre.alpha)
    with django_capture_on_commit_callbacks() as first:
        report = request_report(site=centre.alpha, month=FEBRUARY)
    assert len(first) == 1
    assert report.status == MonthlyReport.Status.PENDING

    with django_capture_on_commit_callbacks() as again:
        assert request_report(site=centre.alpha, month=FEBRUARY).pk == report.pk
    assert again == []

    running(report, started=timezone.now() - dt.timedelta(minutes=1))
    with django_capture_on_commit_callbacks() as while_running:
        request_report(site=centre.alpha, month=FEBRUARY)
    assert while_running == []
    assert MonthlyReport.objects.get().progress == 40
    assert MonthlyReport.objects.count() == 1


def running(report: MonthlyReport, *, started: dt.datetime, task_id: str = "run-1") -> None:
    """As a worker leaves it while it renders."""
    MonthlyReport.objects.filter(pk=report.pk).update(
        status=MonthlyReport.Status.RUNNING,
        progress=40,
        started_at=started,
        task_id=task_id,
        attempts=1,
    )


def test_make_it_again_always_queues_a_new_run(centre, django_capture_on_commit_callbacks):
    since_2024(centre.alpha)
    report = request_report(site=centre.alpha, month=FEBRUARY)
    running(report, started=timezone.now())

    with django_capture_on_commit_callbacks() as forced:
        request_report(site=centre.alpha, month=FEBRUARY, force=True)

    assert len(forced) == 1
    report.refresh_from_db()
    assert (report.status, report.progress, report.task_id, report.attempts) == (
        MonthlyReport.Status.PENDING,
        0,
        "",
        0,
    )


def test_a_run_past_its_time_limit_counts_as_failed_and_is_queued_again(
    centre, django_capture_on_commit_callbacks
):
    since_2024(centre.alpha)
    now = timezone.now()
    report = request_report(site=centre.alpha, month=FEBRUARY)
    running(report, started=now - run_limit() + dt.timedelta(seconds=5))
    report.refresh_from_db()
    assert report.state(now, run_limit()) == "running"
    with django_capture_on_commit_callbacks() as in_time:
        request_report(site=centre.alpha, month=FEBRUARY, now=now)
    assert in_time == []

    later = now + dt.timedelta(seconds=10)
    assert report.state(later, run_limit()) == "stalled"
    with django_capture_on_commit_callbacks() as past_it:
        request_report(site=centre.alpha, month=FEBRUARY, now=later)
    assert len(past_it) == 1
    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.PENDING


def test_a_request_no_worker_took_up_is_queued_again(centre, django_capture_on_commit_callbacks):
    since_2024(centre.alpha)
    asked = timezone.now() - run_limit() - dt.timedelta(minutes=1)
    report = request_report(site=centre.alpha, month=FEBRUARY, now=asked)
    assert report.state(timezone.now(), run_limit()) == "waiting_long"

    with django_capture_on_commit_callbacks() as again:
        request_report(site=centre.alpha, month=FEBRUARY)

    assert len(again) == 1


def test_the_run_of_a_lost_worker_is_taken_over_by_its_message_handed_out_again(centre, media):
    since_2024(centre.alpha)
    report = request_report(site=centre.alpha, month=FEBRUARY)
    running(report, started=timezone.now(), task_id="lost")

    make_report(report.pk, run="someone-else")  # another task: it leaves the run alone
    report.refresh_from_db()
    assert (report.status, report.task_id) == (MonthlyReport.Status.RUNNING, "lost")

    make_report(report.pk, run="lost")  # PDF 1 of 4: the same task, on another worker

    report.refresh_from_db()
    assert (report.status, report.attempts) == (MonthlyReport.Status.DONE, 2)


def test_a_report_whose_worker_is_lost_again_and_again_fails(centre):
    since_2024(centre.alpha)
    report = request_report(site=centre.alpha, month=FEBRUARY)
    running(report, started=timezone.now(), task_id="lost")
    MonthlyReport.objects.filter(pk=report.pk).update(attempts=MAX_ATTEMPTS)

    make_report(report.pk, run="lost")  # nothing rendered

    report.refresh_from_db()
    assert (report.status, report.failure, report.file.name) == (
        MonthlyReport.Status.FAILED,
        MonthlyReport.Failure.WORKER_LOST,
        "",
    )


def test_the_report_task_has_time_limits_and_survives_its_worker(settings):
    from figures.tasks import generate_report

    assert generate_report.acks_late and generate_report.reject_on_worker_lost
    assert generate_report.soft_time_limit == settings.REPORT_TIME_LIMIT
    assert generate_report.time_limit == settings.REPORT_TIME_LIMIT + HARD_LIMIT_MARGIN
    assert run_limit() == dt.timedelta(seconds=generate_report.time_limit)


def test_a_ready_report_is_made_again_only_when_asked(centre, django_capture_on_commit_callbacks):
    since_2024(centre.alpha)
    report = MonthlyReport.objects.create(
        site=centre.alpha,
        month=FEBRUARY,
        status=MonthlyReport.Status.DONE,
        progress=100,
        requested_at=timezone.now(),
    )
    with django_capture_on_commit_callbacks() as plain:
        request_report(site=centre.alpha, month=FEBRUARY)
    assert plain == []
    with django_capture_on_commit_callbacks() as forced:
        request_report(site=centre.alpha, month=FEBRUARY, force=True)
    assert len(forced) == 1
    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.PENDING


def test_a_worker_does_not_make_a_report_another_one_has(centre, media):
    since_2024(centre.alpha)
    report = MonthlyReport.objects.create(
        site=centre.alpha,
        month=FEBRUARY,
        status=MonthlyReport.Status.RUNNING,
        progress=40,
        requested_at=timezone.now(),
        started_at=timezone.now(),
        task_id="theirs",
    )
    make_report(report.pk)  # returns at once: no PDF rendered
    report.refresh_from_db()
    assert (report.status, report.progress, report.file.name) == ("running", 40, "")
    make_report(report.pk + 1000)  # gone: nothing to do


def test_the_demo_manager_can_ask_for_last_months_report(db, django_capture_on_commit_callbacks):
    # README, "Done when": the demo manager prints last month's report from the demo history.
    call_command(
        "seed_demo", "--history", "2", "--i-know-this-resets-passwords", stdout=io.StringIO()
    )
    demo = Site.objects.get(slug="demo")
    last_month = (demo.local_date().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert DailyStat.objects.filter(site=demo, day__gte=last_month).exists()

    with django_capture_on_commit_callbacks() as callbacks:
        request_report(site=demo, month=last_month)

    assert len(callbacks) == 1


# --- the PDF -------------------------------------------------------------------------------------


def test_the_pdf_has_the_months_figures_and_a_page_per_partner(centre, media):
    known_month(centre)
    since_2024(centre.alpha)
    report = MonthlyReport.objects.create(
        site=centre.alpha, month=FEBRUARY, requested_at=timezone.now()
    )

    make_report(report.pk)  # PDF 2 of 4

    report.refresh_from_db()
    assert report.status == MonthlyReport.Status.DONE and report.progress == 100
    assert Path(report.file.path).parent == media / "reports"
    texts = pages(Path(report.file.path).read_bytes())
    text = "\n".join(texts)
    assert "Site Alpha" in text
    assert "février 2025" in text  # the site speaks French
    key_figures = next(t for t in texts[1:] if "587" in numbers(t))
    assert {"587", "413", "455"} <= numbers(key_figures)  # visits, interviews, January's visits
    assert "< 5" in text  # under-18s, in the audiences
    partner_pages = [t for t in texts if "Employment agency" in t and "Guidance centre" not in t]
    assert partner_pages, "no page of its own for partner A"
    assert "271" in numbers(partner_pages[0])
    assert "142" not in numbers(partner_pages[0])
    assert any(
        "Guidance centre" in t and "142" in numbers(t) and "271" not in numbers(t) for t in texts
    )


def test_the_network_report_lists_every_site(centre, media):
    known_month(centre)
    since_2024(centre.alpha, centre.beta)
    report = request_report(site=None, month=FEBRUARY)

    make_report(report.pk)  # PDF 3 of 4

    report.refresh_from_db()
    assert report.file.name == "reports/network-2025-02.pdf"
    text = "\n".join(pages(Path(report.file.path).read_bytes()))
    assert "Site Alpha" in text and "Site Beta" in text
    assert {"587", "77", str(587 + 77)} <= numbers(text)


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
    from tests.test_settings import PRODUCTION, run_django

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
    from citedesmetiers.models import Cite

    cite = Cite.objects.create(slug="nord", name="Cité des métiers du Nord")
    Site.objects.filter(pk__in=[mfa_enrolled.alpha.pk, mfa_enrolled.beta.pk]).update(cite=cite)
    gamma = Site.objects.create(slug="gamma", name="Site Gamma")
    gamma.cite = Cite.objects.create(slug="sud", name="Cité des métiers du Sud")
    gamma.save()
    since_2024(mfa_enrolled.alpha, mfa_enrolled.beta, gamma)
    return cite


@pytest.fixture
def cite_manager(nord):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from citedesmetiers.services import grant_role

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
    from figures.report_service import missing_reports

    with django_capture_on_commit_callbacks():
        missing_reports()
    cites = set(
        MonthlyReport.objects.filter(cite__isnull=False).values_list("cite__slug", flat=True)
    )
    assert cites == {"nord"}  # the Sud has one site: its site's report says it all


def test_a_run_made_again_meanwhile_stops_at_its_next_step_and_writes_nothing(
    centre, media, monkeypatch
):
    from figures import report_runs

    since_2024(centre.alpha)
    report = request_report(site=centre.alpha, month=FEBRUARY)
    steps = []

    def render_while_a_manager_asks_again(site, month, progress, *, cite=None):
        request_report(site=centre.alpha, month=FEBRUARY, force=True)  # a newer run is queued
        progress(40)  # the old run's next step
        steps.append("rendered on")  # never reached
        return b"%PDF-old"

    monkeypatch.setattr(report_runs, "render_pdf", render_while_a_manager_asks_again)
    make_report(report.pk, run="old")

    assert steps == []
    report.refresh_from_db()
    assert (report.status, report.task_id, bool(report.file)) == (
        MonthlyReport.Status.PENDING,
        "",
        False,
    )
