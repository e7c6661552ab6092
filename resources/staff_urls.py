from django.urls import path

from . import staff_views

app_name = "resources_staff"

urlpatterns = [
    path("", staff_views.resource_list, name="list"),
    path("new/", staff_views.resource_create, name="create"),
    path("<id:resource_id>/", staff_views.resource_edit, name="edit"),
    path("<id:resource_id>/withdraw/", staff_views.resource_withdraw, name="withdraw"),
    path("<id:resource_id>/restore/", staff_views.resource_restore, name="restore"),
    path(
        "<id:resource_id>/resource-of-the-week/",
        staff_views.week_choose,
        name="week_choose",
    ),
    path("resource-of-the-week/clear/", staff_views.week_clear, name="week_clear"),
    path("import/", staff_views.import_upload, name="import"),
    path("import/<uuid:upload_id>/", staff_views.import_preview, name="import_preview"),
    path("import/<uuid:upload_id>/confirm/", staff_views.import_confirm, name="import_confirm"),
    path("import/<uuid:upload_id>/retry/", staff_views.import_retry, name="import_retry"),
    path("import/<uuid:upload_id>/cancel/", staff_views.import_cancel, name="import_cancel"),
    path("export/", staff_views.export, name="export"),
]
