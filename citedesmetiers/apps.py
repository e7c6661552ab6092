from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_migrate
from django.urls import register_converter
from django.utils.translation import gettext_lazy as _

from .ids import IdConverter, MonthConverter, YearConverter
from .roles import sync_role_permissions
from .sessions import mark_login


class CiteDesMetiersConfig(AppConfig):
    name = "citedesmetiers"
    verbose_name = _("Cité des métiers")

    def ready(self) -> None:
        # circular: the directory imports models, which Django loads only after this module
        from .directory import connect_signals

        connect_signals()
        user_logged_in.connect(mark_login, dispatch_uid="session_mark_login")
        # Before any URLconf is read: every app's patterns use `<id:…>`.
        register_converter(IdConverter, "id")
        register_converter(YearConverter, "year")
        register_converter(MonthConverter, "month")

        post_migrate.connect(sync_role_permissions, dispatch_uid="sync_role_permissions")
