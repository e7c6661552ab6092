from django.urls import path

from . import views

app_name = "sitepage"

urlpatterns = [
    path("<slug:site_slug>/", views.page, name="page"),
    path("<slug:site_slug>/poster.pdf", views.poster, name="poster"),
]
