from django.urls import path

from . import manage_views

app_name = "manage"

urlpatterns = [
    path("", manage_views.dashboard, name="dashboard"),
    path("export/<slug:table>.csv", manage_views.export_csv, name="export"),
    path("reports/", manage_views.report_list, name="reports"),
    path("reports/request/", manage_views.report_request, name="report_request"),
    path(
        # A site's slug, `cite:<slug>` for a Cité's report, or `network`.
        "reports/<str:place>/<year:year>-<month:month>.pdf",
        manage_views.report_pdf,
        name="report_pdf",
    ),
]
