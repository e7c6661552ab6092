"""What the monthly report tests share: a known month of daily figures, a site that existed
since 2024, a run as a worker leaves it, the PDF's text, the `media` and `eager_celery`
fixtures, and a network manager (`network_manager`)."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from pypdf import PdfReader

from citedesmetiers.celery import app
from citedesmetiers.facts import key
from citedesmetiers.models import Site, User
from citedesmetiers.roles import Role
from figures.models import DailyStat, MonthlyReport
from tests.conftest import Centre, make_staff
from tests.counselling_fixtures import make_desk, theme

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


@pytest.fixture(name="media")
def media_fixture(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture(name="eager_celery")
def eager_celery_fixture():
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before


@pytest.fixture(name="network_manager")
def network_manager_fixture(mfa_enrolled) -> User:
    user = make_staff("nina@network.test", Role.MANAGER, None)
    TOTP.activate(user, generate_totp_secret())
    return user


def next_month(today: dt.date) -> dt.date:
    return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def running(report: MonthlyReport, *, started: dt.datetime, task_id: str = "run-1") -> None:
    """As a worker leaves it while it renders."""
    MonthlyReport.objects.filter(pk=report.pk).update(
        status=MonthlyReport.Status.RUNNING,
        progress=40,
        started_at=started,
        task_id=task_id,
        attempts=1,
    )
