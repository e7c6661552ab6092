from django.urls import path

from . import views

app_name = "resources"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("<id:resource_id>/", views.detail, name="detail"),
    path("kiosk/<slug:site_slug>/", views.kiosk_home, name="kiosk"),
    path("leave-kiosk/", views.kiosk_leave, name="kiosk_leave"),
    path("restart-kiosk/", views.kiosk_restart, name="kiosk_restart"),
]
