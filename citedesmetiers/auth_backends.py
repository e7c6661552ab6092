"""The authentication backends, reading the logged-in account through the directory's cache
(`citedesmetiers.directory`) instead of the database on every request.

Permissions (the Django admin's) come from the roles a member holds anywhere (each role is a
group with the permissions of `citedesmetiers.roles.ROLE_PERMISSIONS`); which objects they may
see and change there is the admin's business (`citedesmetiers.admin`)."""

from __future__ import annotations

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends as django_backends
from django.contrib.auth.models import Permission

from . import directory


class _CachedAccount:
    def get_user(self, user_id):
        user = directory.account(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def _get_user_permissions(self, user_obj):
        return Permission.objects.none()  # never given one by one: roles only

    def _get_group_permissions(self, user_obj):
        return Permission.objects.filter(group__name__in=user_obj.roles())


class ModelBackend(_CachedAccount, django_backends.ModelBackend):
    """Django's e-mail and password backend (the admin's and the tests' force_login)."""


class AuthenticationBackend(_CachedAccount, allauth_backends.AuthenticationBackend):
    """allauth's backend (the staff login page)."""
