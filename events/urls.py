from django.urls import path

from . import views

app_name = "events"

urlpatterns = [
    path("", views.event_list, name="list"),
    path("<id:event_id>/", views.detail, name="detail"),
    path("<id:event_id>/register/", views.register, name="register"),
    path("<id:event_id>/check-your-mail/", views.check_mail, name="check_mail"),
    path("<id:event_id>/cancelled/", views.cancelled, name="cancelled"),
    path("<id:event_id>/event.ics", views.event_ics, name="ics"),
    path("<id:event_id>/on-the-spot/", views.on_the_spot, name="on_the_spot"),
    path("feed/<slug:site_slug>.ics", views.site_feed, name="feed"),
    path("on-the-spot/", views.on_the_spot_list, name="on_the_spot_list"),
    # Type a registration's code to open its page again (to see or cancel it).
    path("code/", views.find, name="find"),
    # Secret links (events.keys): a registration's page, and the confirmation of its address.
    path("r/<str:token>/", views.registration, name="registration"),
    path("r/<str:token>/cancel/", views.cancel, name="cancel"),
    path("c/<str:token>/", views.confirm, name="confirm"),
    # The links of e-mails sent by an older version, while their event is not over.
    path("r/<str:token>/new-link/", views.send_new_link, name="send_new_link"),
    path("r/<str:token>/confirm/", views.legacy_confirm, name="legacy_confirm"),
    path("r/<str:token>/confirm/done/", views.legacy_confirm, name="legacy_confirm_post"),
]
