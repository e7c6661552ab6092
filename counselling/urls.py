from django.urls import path

from . import views

app_name = "counselling"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("live/", views.desk_live, name="desk_live"),
    path("day/", views.my_day, name="day"),
    path("plan/", views.my_plan, name="plan"),
    path("plan/address/create/", views.plan_feed_create, name="plan_feed_create"),
    path("plan/address/replace/", views.plan_feed_replace, name="plan_feed_replace"),
    path("plan/address/turn-off/", views.plan_feed_turn_off, name="plan_feed_turn_off"),
    path("plan/feed/<str:secret>.ics", views.plan_calendar, name="plan_feed"),
    path("open/<id:desk_id>/", views.open_desk, name="open"),
    path("call-next/", views.call_next, name="call_next"),
    path("call-ticket/", views.call_ticket, name="call_ticket"),
    path("recall/", views.recall, name="recall"),
    path("no-show/", views.no_show, name="no_show"),
    path("put-back/", views.put_back, name="put_back"),
    path("start/", views.start, name="start"),
    path("start-appointment/", views.start_appointment, name="start_appointment"),
    path("finish/", views.finish, name="finish"),
    path("hand-back/", views.hand_back, name="hand_back"),
    path("pause/", views.pause, name="pause"),
    path("resume/", views.resume, name="resume"),
    path("close/", views.close, name="close"),
    path("take-away/search/", views.take_away_search, name="take_away_search"),
    path("take-away/add/", views.take_away_add, name="take_away_add"),
    path("take-away/remove/", views.take_away_remove, name="take_away_remove"),
    path("take-away/add-event/", views.take_away_add_event, name="take_away_add_event"),
    path("take-away/remove-event/", views.take_away_remove_event, name="take_away_remove_event"),
]
