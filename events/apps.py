from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = _("Events")

    def ready(self) -> None:
        # circular: both import models, which Django loads only after this module (its registry)
        from citedesmetiers import outbox
        from events.emails import MAIL, deliver

        outbox.register(MAIL, deliver)
