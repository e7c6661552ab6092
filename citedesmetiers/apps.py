from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CiteDesMetiersConfig(AppConfig):
    name = "citedesmetiers"
    verbose_name = _("Cité des métiers")

    def ready(self) -> None:
        from .directory import connect_signals
        from .roles import sync_role_permissions

        connect_signals()

        post_migrate.connect(sync_role_permissions, dispatch_uid="sync_role_permissions")
