from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("<id:event_id>/", views.detail, name="detail"),
    path("<id:event_id>/register/", views.register, name="register"),
    path("<id:event_id>/event.ics", views.event_ics, name="ics"),
    path("<id:event_id>/on-the-spot/", views.on_the_spot, name="on_the_spot"),
    path("feed/<slug:site_slug>.ics", views.site_feed, name="feed"),
    path("on-the-spot/", views.on_the_spot_list, name="on_the_spot_list"),
    path("r/<str:token>/", views.registration, name="registration"),
    path("r/<str:token>/cancel/", views.cancel, name="cancel"),
    path("r/<str:token>/confirm/", views.confirm_page, name="confirm"),
    path("r/<str:token>/confirm/done/", views.confirm, name="confirm_post"),
]
