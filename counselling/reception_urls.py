from django.urls import path

from . import reception_views as views

app_name = "reception_appointments"

urlpatterns = [
    path("", views.day, name="day"),
    path("check-in/", views.check_in, name="check_in"),
    path("book/", views.book, name="book"),
]
