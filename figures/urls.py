from django.urls import path

from . import coverage_views, views

app_name = "manage"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("export/<slug:table>.csv", views.export_csv, name="export"),
    path("coverage/", coverage_views.page, name="coverage"),
    path("coverage.pdf", coverage_views.pdf, name="coverage_pdf"),
    path("reports/", views.report_list, name="reports"),
    path("reports/request/", views.report_request, name="report_request"),
    path(
        # A site's slug, `cite:<slug>` for a Cité's report, or `network`.
        "reports/<str:place>/<year:year>-<month:month>.pdf",
        views.report_pdf,
        name="report_pdf",
    ),
    path("reports/<str:place>/<year:year>.pdf", views.yearly_report_pdf, name="yearly_report_pdf"),
]
