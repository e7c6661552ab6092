from django.urls import path

from . import plan_views

app_name = "planning"

urlpatterns = [
    path("", plan_views.week, name="week"),
    path("sessions/new/", plan_views.session_add, name="session_add"),
    path("sessions/<id:session_id>/", plan_views.session_edit, name="session_edit"),
    path("sessions/<id:session_id>/end/", plan_views.session_end, name="session_end"),
    path("exceptions/new/", plan_views.exception_add, name="exception_add"),
    path(
        "exceptions/<id:exception_id>/remove/",
        plan_views.exception_remove,
        name="exception_remove",
    ),
]
