from django.urls import path

from . import organiser_views as views

app_name = "events_organiser"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("new/", views.event_create, name="create"),
    path("<id:event_id>/", views.event_detail, name="detail"),
    path("<id:event_id>/edit/", views.event_edit, name="edit"),
    path("<id:event_id>/publish/", views.event_publish, name="publish"),
    path("<id:event_id>/cancel/", views.event_cancel, name="cancel"),
    path("<id:event_id>/registrants/", views.registrants, name="registrants"),
    path(
        "<id:event_id>/registrants.csv",
        views.registrants_export,
        {"fmt": "csv"},
        name="export_csv",
    ),
    path(
        "<id:event_id>/registrants.xlsx",
        views.registrants_export,
        {"fmt": "xlsx"},
        name="export_xlsx",
    ),
    path("<id:event_id>/door/", views.door, name="door"),
    path("<id:event_id>/door/<id:registration_id>/", views.attendance, name="attendance"),
    path("<id:event_id>/walk-ins/", views.walk_ins, name="walk_ins"),
    path("series/new/", views.series_create, name="series_create"),
    path("series/<id:series_id>/", views.series_detail, name="series"),
    path("series/<id:series_id>/publish/", views.series_publish, name="series_publish"),
]
