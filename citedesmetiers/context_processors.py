from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .access import current_site, staff_sites


def staff(request):
    """The staff member's sites for the header; lazy, so public pages pay nothing."""
    user = getattr(request, "user", None)

    def _sites():
        if user is None or not user.is_authenticated:
            return []
        return staff_sites(user)

    def _current():
        if user is None or not user.is_authenticated:
            return None
        return getattr(request, "site", None) or current_site(request)

    return {
        "staff_sites": SimpleLazyObject(_sites),
        "staff_site": SimpleLazyObject(_current),
        "live_poll_seconds": settings.LIVE_POLL_SECONDS,
    }
