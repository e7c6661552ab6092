from django.urls import path

from . import views

app_name = "feedback"

urlpatterns = [
    path("t/<str:token>/feedback/", views.visit_feedback, name="visit"),
    path("feedback/<slug:site_slug>/kiosk/", views.kiosk, name="kiosk"),
    path("feedback/<slug:site_slug>/kiosk/setup/", views.kiosk_setup, name="kiosk_setup"),
]
