"""The public booking of appointments (counselling.booking_views), under /appointments/."""

from django.urls import path

from . import booking_views as views

app_name = "booking"

urlpatterns = [
    # An appointment's own page, at the secret link given when it was booked. (A site whose
    # short name is "manage" could not be booked online: none should be called so.)
    path("manage/<str:secret>/", views.manage, name="manage"),
    path("manage/<str:secret>/cancel/", views.cancel, name="cancel"),
    path("manage/<str:secret>/here/", views.here, name="here"),
    path("manage/<str:secret>/move/", views.move, name="move"),
    path("manage/<str:secret>/appointment.ics", views.calendar_file, name="calendar"),
    path("<slug:site_slug>/", views.start, name="start"),
    path("<slug:site_slug>/book/", views.book, name="book"),
]
