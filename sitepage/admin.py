"""The reception protocols in the administration: a site's managers write their site's, in each
language (`access.managed_sites`, as for the sites themselves in `citedesmetiers.admin`). A new
one starts from the text the product ships, in the language the manager is using."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils import translation

from citedesmetiers.access import managed_sites

from .models import ReceptionProtocol, shipped_protocol


def _superuser(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_superuser


@admin.register(ReceptionProtocol)
class ReceptionProtocolAdmin(admin.ModelAdmin):
    list_display = ["site", "language", "updated_at"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "language"]
    search_fields = ["site__name", "text"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("site")
        return (
            queryset
            if _superuser(request)
            else queryset.filter(site__in=managed_sites(request.user))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site" and not _superuser(request):
            kwargs["queryset"] = managed_sites(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("language", translation.get_language())
        initial.setdefault("text", "\n\n".join(shipped_protocol()))
        return initial
