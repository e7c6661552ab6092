from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from .models import OpeningPeriod, Partner, Site, StaffMembership, Theme, User


class MembershipInline(admin.TabularInline):
    model = StaffMembership
    extra = 1
    autocomplete_fields = ["site", "partner"]


@admin.register(User)
class StaffAdmin(UserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    list_filter = [
        "is_active",
        "is_staff",
        "is_superuser",
        "memberships__roles",
        "memberships__site",
    ]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser hands out superuser rights or raw permissions.
        if request.user.is_superuser:
            return ()
        return ("is_superuser", "user_permissions", "last_login", "date_joined")

    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class OpeningPeriodInline(admin.TabularInline):
    model = OpeningPeriod
    extra = 0


class ThemeInline(admin.TabularInline):
    model = Theme
    extra = 0


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "kind", "time_zone", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "slug", "cite__name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningPeriodInline, ThemeInline]


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "letter", "colour", "order", "active"]
    list_filter = ["site", "active"]
    list_editable = ["order", "active"]
    search_fields = ["name"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "place", "partner"]
    list_filter = ["site", "cite", "roles", "partner"]
    autocomplete_fields = ["user", "site", "partner"]
    search_fields = ["user__email", "site__name"]
