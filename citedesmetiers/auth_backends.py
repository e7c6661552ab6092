"""The authentication backends, reading the logged-in account through the directory's cache
(`citedesmetiers.directory`) instead of the database on every request."""

from __future__ import annotations

from allauth.account import auth_backends as allauth_backends
from django.contrib.auth import backends as django_backends

from . import directory


class _CachedAccount:
    def get_user(self, user_id):
        user = directory.account(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


class ModelBackend(_CachedAccount, django_backends.ModelBackend):
    """Django's e-mail and password backend (the admin's and the tests' force_login)."""


class AuthenticationBackend(_CachedAccount, allauth_backends.AuthenticationBackend):
    """allauth's backend (the staff login page)."""
