from django.urls import path

from . import views

app_name = "reception"

urlpatterns = [
    path("reception/", views.tablet, name="tablet"),
    path("reception/live/", views.overview_live, name="overview_live"),
    path("reception/check-in/", views.check_in, name="check_in"),
    path("reception/visits/<id:visit_id>/", views.checked_in, name="checked_in"),
    path("reception/visits/<id:visit_id>/ticket/", views.ticket, name="ticket"),
    path("reception/visits/<id:visit_id>/theme/", views.change_theme, name="change_theme"),
    path("reception/visits/<id:visit_id>/left/", views.mark_left, name="mark_left"),
    path("reception/visits/<id:visit_id>/back/", views.undo_left, name="undo_left"),
    path("reception/late-check-ins/", views.late_check_ins, name="late_check_ins"),
    path("display/<slug:site_slug>/", views.display, name="display"),
    path("display/<slug:site_slug>/live/", views.display_live, name="display_live"),
    path("t/<str:token>/", views.visitor, name="visitor"),
    path("t/<str:token>/live/", views.visitor_live, name="visitor_live"),
    path("t/<str:token>/leave/", views.leave, name="leave"),
    path("t/<str:token>/proof.pdf", views.proof_pdf, name="proof"),
    path("t/<str:token>/list.pdf", views.take_away_pdf, name="take_away_pdf"),
    path("verify/", views.verify, name="verify_form"),
    path("verify/<str:code>/", views.verify, name="verify"),
]
