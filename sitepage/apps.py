from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SitePageConfig(AppConfig):
    name = "sitepage"
    verbose_name = _("Public site pages")
