from django.urls import path

from .views import door, events, registrants, series

app_name = "events_organiser"

urlpatterns = [
    path("", events.event_list, name="list"),
    path("new/", events.event_create, name="create"),
    path("<id:event_id>/", events.event_detail, name="detail"),
    path("<id:event_id>/edit/", events.event_edit, name="edit"),
    path("<id:event_id>/publish/", events.event_publish, name="publish"),
    path("<id:event_id>/cancel/", events.event_cancel, name="cancel"),
    path("<id:event_id>/registrants/", registrants.registrants, name="registrants"),
    path(
        "<id:event_id>/registrants.csv",
        registrants.registrants_export,
        {"fmt": "csv"},
        name="export_csv",
    ),
    path(
        "<id:event_id>/registrants.xlsx",
        registrants.registrants_export,
        {"fmt": "xlsx"},
        name="export_xlsx",
    ),
    path("<id:event_id>/door/", door.door, name="door"),
    path("<id:event_id>/door/<id:registration_id>/", door.attendance, name="attendance"),
    path("<id:event_id>/walk-ins/", door.walk_ins, name="walk_ins"),
    path("series/new/", series.series_create, name="series_create"),
    path("series/<id:series_id>/", series.series_detail, name="series"),
    path("series/<id:series_id>/publish/", series.series_publish, name="series_publish"),
]
