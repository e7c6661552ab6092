"""Events in the Django admin: for looking things up and fixing details. Everything with a
consequence for people (publishing, cancelling, places, attendance) goes through the organisers'
screens and services, so registrations are read-only here, and an event is saved by
services.create_event and services.update_event."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminSplitDateTime
from django.db import models
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from citedesmetiers.access import sites_for
from citedesmetiers.models import Theme
from citedesmetiers.roles import Role

from . import services
from .models import Event, Registration, Series, window_error


class WindowSplitDateTimeField(forms.SplitDateTimeField):
    """The admin's date and time, where a date near year 1 or 9999 is a message, not the
    overflow of the time zone arithmetic (the model's validator then checks the window)."""

    def compress(self, data_list):
        try:
            return super().compress(data_list)
        except OverflowError:
            raise window_error() from None


def _own_sites(request):
    return sites_for(request.user, Role.EVENT_ORGANISER, Role.MANAGER)


class RegistrationInline(admin.TabularInline):
    model = Registration
    extra = 0
    can_delete = False
    show_change_link = False
    fields = [
        "code",
        "status",
        "source",
        "pseudonym",
        "email",
        "language",
        "created_at",
        "confirmed_at",
        "email_confirmed_at",
        "promoted_at",
        "cancelled_at",
        "reminder_sent_at",
        "attended",
    ]
    # Contact data, places and attendance change only through the services.
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "site", "kind", "starts_at", "status", "capacity", "series"]
    list_filter = ["site", "status", "kind", "audience"]
    search_fields = ["title", "description", "place"]
    date_hierarchy = "starts_at"
    autocomplete_fields = ["series"]
    filter_horizontal = ["themes", "partners"]
    readonly_fields = ["status", "walk_ins", "contacts_purged_at", "created"]
    inlines = [RegistrationInline]
    list_select_related = ["site", "series"]
    formfield_overrides = {
        models.DateTimeField: {"form_class": WindowSplitDateTimeField, "widget": AdminSplitDateTime}
    }

    def get_queryset(self, request):
        return super().get_queryset(request).filter(site__in=_own_sites(request))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site":
            kwargs["queryset"] = _own_sites(request)
        if db_field.name == "series":
            kwargs["queryset"] = Series.objects.filter(site__in=_own_sites(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "themes":
            kwargs["queryset"] = Theme.objects.filter(site__in=_own_sites(request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # Through the services, as the organisers' screen: more places promote people from the
        # waiting list, a new date or place is told. Themes and partners follow in save_related.
        details = services.editable(form.cleaned_data)
        if change:
            services.update_event(event_id=obj.pk, details=details)
        else:
            obj.pk = services.create_event(site=details.pop("site"), details=details).pk
            obj._state.adding = False
        obj.refresh_from_db()


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "recurrence", "sessions", "created"]
    list_filter = ["site"]
    search_fields = ["name"]
    readonly_fields = ["created"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(site__in=_own_sites(request))
            .annotate(n_sessions=Count("events"))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site":
            kwargs["queryset"] = _own_sites(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("recurrence"))
    def recurrence(self, obj: Series) -> str:
        return obj.describe()

    @admin.display(description=_("sessions"), ordering="n_sessions")
    def sessions(self, obj: Series) -> int:
        return obj.n_sessions
