from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views

# The admin login goes through allauth, so its rate limits and MFA apply there too.
admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Cité des métiers"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accessibility/", views.accessibility, name="accessibility"),
    path("favicon.ico", views.favicon),
    path("staff/", views.staff_home, name="staff_home"),
    path("staff/site/", views.choose_site, name="choose_site"),
    path("reception/appointments/", include("counselling.reception_urls")),
    path("", include("reception.urls")),
    path("", include("feedback.urls")),
    path("desk/", include("counselling.urls")),
    path("catalogue/staff/", include("resources.staff_urls")),
    path("catalogue/", include("resources.urls")),
    path("events/manage/", include("events.organiser.urls")),
    path("events/", include("events.urls")),
    path("manage/planning/", include("counselling.plan_urls")),
    path("appointments/", include("counselling.booking_urls")),
    path("manage/", include("figures.urls")),
    path("s/", include("sitepage.urls")),
    path("accounts/", include("allauth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler403 = "citedesmetiers.views.permission_denied"
handler404 = "citedesmetiers.views.page_not_found"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
