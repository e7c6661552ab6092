from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation

from .accounts import mark_mfa_checked, mfa_checked, must_enrol_in_mfa

# Paths a manager may open before enrolling: the account pages themselves, assets and probes.
MFA_FREE_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/healthz", "/jsi18n/")


class RequireMfaMiddleware:
    """Send managers and superusers without TOTP to the enrolment page, whatever they open."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs):
        # Live polls answer "nothing changed" without loading the session; when something did
        # change, the view itself checks access.
        if getattr(view_func, "live_poll", False) or request.path.startswith(MFA_FREE_PREFIXES):
            return None
        if request.user.is_authenticated and not mfa_checked(request):
            if must_enrol_in_mfa(request.user):
                return redirect("mfa_activate_totp")
            mark_mfa_checked(request)
        return None


class RejectNulMiddleware:
    """Refuse any request with a NUL character in its path, query or form fields (400).

    No text of ours ever holds one, and PostgreSQL refuses to store or compare it ("cannot
    contain NUL"), so a token, a filter or a search with one would otherwise end in a server
    error wherever it reaches the database."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            return render(request, "400.html", status=400)
        return self.get_response(request)


FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(request: HttpRequest) -> bool:
    if "\x00" in request.path:
        return True
    fields = [request.GET]
    if request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
        fields.append(request.POST)
    return any(
        "\x00" in text for data in fields for key, values in data.lists() for text in (key, *values)
    )


# Browser features none of our pages uses, refused to every page and to anything embedded in it.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "payment",
        "serial",
        "usb",
    )
)


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class LanguageFromLinkMiddleware:
    """A link may carry the reader's language (`?lang=it`): the page speaks it, and so do the
    pages after it (it is kept as the language cookie, as the language select would keep it).

    The visitor's phone page links this way, so that a workshop registration or an appointment
    made from it is in the language the visitor chose at reception. An unknown code is ignored.
    `request.language_from_link` is the code, or "" when the link carried none."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.GET.get("lang", "")
        if language not in dict(settings.LANGUAGES):
            language = ""
        request.language_from_link = language
        if not language:
            return self.get_response(request)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
        return response
