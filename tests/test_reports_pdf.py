"""The monthly report's PDF: the month's figures against the month before and last year, a page
per partner institution, and, in the network's report, every site.

WeasyPrint is slow: the report tests render four PDFs in all (tests/test_reports_worker.py a
few more, in real worker processes)."""

from __future__ import annotations

from pathlib import Path

from django.utils import timezone

from figures.models import MonthlyReport
from figures.report_runs import make_report
from figures.report_service import request_report
from tests.report_fixtures import (  # noqa: F401  (fixtures)
    FEBRUARY,
    known_month,
    media_fixture,
    numbers,
    pages,
    since_2024,
)

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
