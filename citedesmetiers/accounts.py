"""allauth glue: staff are created by an administrator or a manager, never by signing up."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import ratelimit
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.http import HttpRequest

from .clients import client_ip
from .models import User
from .roles import ROLES_REQUIRING_MFA


class StaffAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        # The same client as our own limits see (behind our proxies, from X-Forwarded-For);
        # allauth counts an IPv6 client per /64 itself.
        return client_ip(request)

    # allauth counts an attempt against the failed-login limits before checking the password,
    # and takes it back when the password was right: eight reception tablets logging in to one
    # shared account at the same moment had 3 refused, the limit full of attempts still being
    # checked. Here the limits are only read before, and an attempt counts once it has failed.
    # (A burst of wrong passwords sent at once can pass the limit by the requests in flight.)

    def pre_authenticate(self, request: HttpRequest, **credentials) -> None:
        key = self._get_login_attempts_cache_key(request, **credentials)
        if not ratelimit.consume(request, action="login_failed", key=key, dry_run=True):
            raise self.validation_error("too_many_login_attempts")
        self._login_failed_rl_usage = None  # nothing to take back after a success

    def authentication_failed(self, request: HttpRequest, **credentials) -> None:
        key = self._get_login_attempts_cache_key(request, **credentials)
        ratelimit.consume(request, action="login_failed", key=key)


# The roles for which the session was last checked for MFA enrolment: a role given since (a
# promotion to manager) makes the check run again.
SESSION_MFA_OK = "mfa_enrolment_checked"


def _mfa_state(user: User) -> str:
    return ",".join(sorted(["superuser"] * user.is_superuser + [str(r) for r in user.roles()]))


def mfa_checked(request: HttpRequest) -> bool:
    """Whether enrolment was checked in this session for the roles the member holds now."""
    return request.session.get(SESSION_MFA_OK) == _mfa_state(request.user)


def mark_mfa_checked(request: HttpRequest) -> None:
    request.session[SESSION_MFA_OK] = _mfa_state(request.user)


def must_enrol_in_mfa(user: User) -> bool:
    """Managers and superusers must have TOTP before they reach any screen.

    The demo accounts are spared while MFA_REQUIRED_FOR_DEMO is off (the default with DEBUG on).
    """
    if not (user.is_superuser or user.has_role(*ROLES_REQUIRING_MFA)):
        return False
    if not settings.MFA_REQUIRED_FOR_DEMO and user.email.endswith("@demo.test"):
        return False
    return not is_mfa_enabled(user, ["totp"])
