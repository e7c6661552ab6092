from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CiteDesMetiersConfig(AppConfig):
    name = "citedesmetiers"
    verbose_name = _("Cité des métiers")

    def ready(self) -> None:
        from django.urls import register_converter

        from .directory import connect_signals
        from .ids import IdConverter, MonthConverter, YearConverter
        from .roles import sync_role_permissions

        connect_signals()
        # Before any URLconf is read: every app's patterns use `<id:…>`.
        register_converter(IdConverter, "id")
        register_converter(YearConverter, "year")
        register_converter(MonthConverter, "month")

        post_migrate.connect(sync_role_permissions, dispatch_uid="sync_role_permissions")
