"""The Django admin.

Superusers see and change everything. A manager sees and changes only what belongs to the places
they manage (a site, every site of a Cité, or the network: `access.managed_sites`): those sites,
their themes and opening hours, the memberships held there, and the accounts of the staff who work
only there below manager. Handing out the manager role, network-wide memberships, staff and
superuser flags, and setting anyone's password are for superusers: a manager sends a password
reset by e-mail instead. Every change of roles is written to the audit log."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm
from allauth.core.context import request_context
from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import audit
from .access import managed_cites, managed_sites, network_wide
from .models import (
    AuditEntry,
    Cite,
    OpeningPeriod,
    OutboxMessage,
    Partner,
    Site,
    StaffMembership,
    Theme,
    User,
)
from .roles import Role


def _superuser(request: HttpRequest) -> bool:
    return request.user.is_active and request.user.is_superuser


def _managed_memberships(request: HttpRequest) -> QuerySet[StaffMembership]:
    """Memberships held at a place the requester manages (never network-wide ones)."""
    return StaffMembership.objects.filter(
        Q(site__in=managed_sites(request.user)) | Q(cite__in=managed_cites(request.user))
    )


def _manageable_users(request: HttpRequest) -> QuerySet[User]:
    """The accounts a manager may change: staff holding a membership at one of their places,
    none of them network-wide, and no manager role anywhere."""
    network_wide = StaffMembership.objects.filter(site__isnull=True, cite__isnull=True)
    return (
        User.objects.filter(is_superuser=False, memberships__in=_managed_memberships(request))
        .exclude(memberships__roles__name=Role.MANAGER)
        # One membership that is network-wide (both conditions on the same row).
        .exclude(pk__in=network_wide.values("user_id"))
        .distinct()
    )


def _works_only_at_managed_places(request: HttpRequest, user: User) -> bool:
    return (
        not StaffMembership.objects.filter(user=user)
        .exclude(pk__in=_managed_memberships(request))
        .exists()
    )


def _role_choices(request: HttpRequest) -> QuerySet[Group]:
    roles = Group.objects.filter(name__in=Role.values)
    return roles if _superuser(request) else roles.exclude(name=Role.MANAGER)


# --- memberships ----------------------------------------------------------------------------------


class MembershipForm(forms.ModelForm):
    """A membership, with the choices the requester may make (`for_request` binds them)."""

    request: HttpRequest

    class Meta:
        model = StaffMembership
        fields = ["site", "cite", "roles", "partner"]
        widgets = {"roles": forms.CheckboxSelectMultiple}

    @classmethod
    def for_request(cls, form_class, request: HttpRequest):
        return type(form_class.__name__, (form_class,), {"request": request})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.request
        self.fields["roles"].queryset = _role_choices(request)
        if not _superuser(request):
            self.fields["site"].queryset = managed_sites(request.user)
            self.fields["cite"].queryset = managed_cites(request.user)
            self.fields["cite"].help_text = _("For roles at every site of a Cité.")

    def clean(self):
        data = super().clean()
        if data.get("site") and data.get("cite"):
            raise ValidationError(_("Choose a site or a Cité, not both."))
        if not _superuser(self.request):
            if not data.get("site") and not data.get("cite"):
                raise ValidationError(_("Choose the site or the Cité where these roles apply."))
            if self.instance.pk and self.instance.roles.filter(name=Role.MANAGER).exists():
                raise ValidationError(_("Only a superuser changes a manager's roles."))
        return data


class MembershipFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if _superuser(self.request) or self.instance.pk:
            return
        kept = [
            form
            for form in self.forms
            if form.has_changed() and not getattr(form, "cleaned_data", {}).get("DELETE", False)
        ]
        if not kept:
            raise ValidationError(
                _("Give the new account a role at one of your sites, or it will not show here.")
            )


class MembershipInline(admin.TabularInline):
    model = StaffMembership
    form = MembershipForm
    formset = MembershipFormSet
    extra = 1
    autocomplete_fields = ["site", "partner"]

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = MembershipForm.for_request(formset.form, request)
        formset.request = request
        return formset

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related("roles")
        return (
            queryset
            if _superuser(request)
            else queryset.filter(pk__in=_managed_memberships(request))
        )


@admin.register(StaffMembership)
class StaffMembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "place", "partner"]
    list_filter = [
        ("site", admin.RelatedOnlyFieldListFilter),
        ("cite", admin.RelatedOnlyFieldListFilter),
        "roles",
        ("partner", admin.RelatedOnlyFieldListFilter),
    ]
    autocomplete_fields = ["user", "site", "partner"]
    search_fields = ["user__email", "site__name", "cite__name"]
    fields = ["user", "site", "cite", "roles", "partner"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return MembershipForm.for_request(form, request)

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("user", "site", "cite", "partner")
        return (
            queryset
            if _superuser(request)
            else queryset.filter(pk__in=_managed_memberships(request))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not _superuser(request):
            kwargs["queryset"] = _manageable_users(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _may_change(self, request, obj) -> bool:
        if _superuser(request) or obj is None:
            return True
        return (
            _managed_memberships(request).filter(pk=obj.pk).exists()
            and _manageable_users(request).filter(pk=obj.user_id).exists()
        )

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_change(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_change(request, obj)

    def save_model(self, request, obj, form, change):
        users = {obj.user_id, *([form.initial.get("user")] if change else [])} - {None}
        request._audit_before = {pk: audit.places_of(pk) for pk in users}
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _audit_roles(request, request._audit_before)

    def delete_model(self, request, obj):
        before = {obj.user_id: audit.places_of(obj.user_id)}
        super().delete_model(request, obj)
        _audit_roles(request, before)

    def delete_queryset(self, request, queryset):
        before = {pk: audit.places_of(pk) for pk in queryset.values_list("user_id", flat=True)}
        super().delete_queryset(request, queryset)
        _audit_roles(request, before)


def _audit_roles(request: HttpRequest, before: dict) -> None:
    for user in User.objects.filter(pk__in=before):
        audit.record_role_changes(
            actor=request.user, user=user, before=before[user.pk], after=audit.places_of(user.pk)
        )


# --- staff accounts -------------------------------------------------------------------------------


class ManagerAddForm(forms.ModelForm):
    """A manager creates an account without a password: its holder chooses one from the
    password-reset e-mail sent when it is saved."""

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name"]


class ManagerChangeForm(forms.ModelForm):
    """What a manager may change of an account: no password, no flags."""

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "is_active"]


@admin.register(User)
class StaffAdmin(UserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_staff", "last_login"]
    list_filter = [
        "is_active",
        "is_staff",
        "is_superuser",
        "memberships__roles",
        ("memberships__site", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [MembershipInline]
    actions = ["send_password_reset"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    manager_fieldsets = (
        (None, {"fields": ("email",)}),
        (_("Person"), {"fields": ("first_name", "last_name")}),
        (_("Status"), {"fields": ("is_active",)}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    manager_add_fieldsets = ((None, {"fields": ("email", "first_name", "last_name")}),)

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _superuser(request):
            return queryset
        return queryset.filter(pk__in=_manageable_users(request))

    def get_fieldsets(self, request, obj=None):
        if _superuser(request):
            return super().get_fieldsets(request, obj)
        return self.manager_add_fieldsets if obj is None else self.manager_fieldsets

    def get_form(self, request, obj=None, **kwargs):
        if not _superuser(request):
            kwargs["form"] = ManagerAddForm if obj is None else ManagerChangeForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if _superuser(request):
            return ()
        readonly = ["last_login", "date_joined"]
        if obj is not None and not _works_only_at_managed_places(request, obj):
            # Shared with places they do not manage: only their memberships here change.
            readonly += ["email", "first_name", "last_name", "is_active"]
        return readonly

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None or _superuser(request):
            return allowed
        return _manageable_users(request).filter(pk=obj.pk).exists()

    def user_change_password(self, request, id, form_url=""):
        if not _superuser(request):
            raise PermissionDenied(_("Only a superuser sets a password. Send a reset e-mail."))
        return super().user_change_password(request, id, form_url)

    def save_model(self, request, obj, form, change):
        if not change and not _superuser(request):
            obj.set_unusable_password()
        if change:
            flags = ("is_active", "is_staff", "is_superuser")
            before = User.objects.filter(pk=obj.pk).values(*flags).first() or {}
            changed = [
                f"{flag}={getattr(obj, flag)}"
                for flag in flags
                if before.get(flag) != getattr(obj, flag)
            ]
            if changed:
                audit.record_at_places_of(
                    obj,
                    actor=request.user,
                    action=AuditEntry.Action.ACCOUNT_CHANGED,
                    subject=obj.email,
                    detail=", ".join(changed),
                )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        before = {form.instance.pk: audit.places_of(form.instance.pk) if change else {}}
        super().save_related(request, form, formsets, change)
        _audit_roles(request, before)
        if not change and not _superuser(request):
            user = form.instance
            transaction.on_commit(lambda: _send_reset(request, user))

    @admin.action(description=_("Send a password-reset e-mail"), permissions=["change"])
    def send_password_reset(self, request, queryset):
        users = list(queryset.filter(is_active=True))
        for user in users:
            _send_reset(request, user)
        self.message_user(
            request,
            ngettext(
                "A password-reset e-mail was sent to %(count)d person.",
                "A password-reset e-mail was sent to %(count)d people.",
                len(users),
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )


def _send_reset(request: HttpRequest, user: User) -> None:
    """allauth's password-reset e-mail, as the "forgot your password" page sends it (also
    after the request, from an on-commit callback: allauth builds its links from the request)."""
    form = ResetPasswordForm(data={"email": user.email})
    with request_context(request):
        if form.is_valid():
            form.save(request)


# --- places ---------------------------------------------------------------------------------------


class OpeningPeriodInline(admin.TabularInline):
    model = OpeningPeriod
    extra = 0


class ThemeInline(admin.TabularInline):
    model = Theme
    extra = 0


@admin.register(Cite)
class CiteAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "labelled_since"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if _superuser(request) else managed_cites(request.user)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "cite", "kind", "time_zone", "active"]
    list_filter = ["kind", "active", ("cite", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug", "cite__name"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OpeningPeriodInline, ThemeInline]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return (
            queryset if _superuser(request) else queryset.filter(pk__in=managed_sites(request.user))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "cite" and not _superuser(request):
            kwargs["queryset"] = managed_cites(request.user)
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        if _superuser(request) or obj is None:
            return ()
        # Moving a site to another Cité is for whoever manages the Cité it is in.
        return () if managed_cites(request.user).filter(pk=obj.cite_id).exists() else ("cite",)

    def has_add_permission(self, request):
        # A new site goes into a Cité: for its managers (and superusers).
        return super().has_add_permission(request) and (
            _superuser(request) or managed_cites(request.user).exists()
        )


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    """Partners are shared by the network: a manager may add one, and change one only while
    every membership it delegates is at a place they manage."""

    list_display = ["name", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None or _superuser(request):
            return allowed
        return not obj.memberships.exclude(pk__in=_managed_memberships(request)).exists()


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "letter", "colour", "order", "active"]
    list_filter = [("site", admin.RelatedOnlyFieldListFilter), "active"]
    list_editable = ["order", "active"]
    search_fields = ["name"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return (
            queryset
            if _superuser(request)
            else queryset.filter(site__in=managed_sites(request.user))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site" and not _superuser(request):
            kwargs["queryset"] = managed_sites(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_email", "action", "subject", "detail", "site", "cite"]
    list_filter = [
        "action",
        ("site", admin.RelatedOnlyFieldListFilter),
        ("cite", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["actor_email", "subject", "detail"]
    date_hierarchy = "at"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if _superuser(request) or network_wide(request.user, Role.MANAGER):
            return queryset  # entries of no place too (the network's figures, say)
        return queryset.filter(
            Q(site__in=managed_sites(request.user)) | Q(cite__in=managed_cites(request.user))
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """What waits to be sent, and what was given up: for superusers looking into a complaint
    ("I never got the e-mail"). Read only: the drain does the work."""

    list_display = ["created_at", "name", "status", "attempts", "available_at", "last_error"]
    list_filter = ["status", "name"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
