from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppointmentsConfig(AppConfig):
    name = "appointments"
    verbose_name = _("Appointments")

    def ready(self) -> None:
        # circular: both import models, which Django loads only after this module (its registry)
        from appointments.emails import MAIL, deliver
        from citedesmetiers import outbox

        outbox.register(MAIL, deliver)
