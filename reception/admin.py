from django.contrib import admin

from .models import Visit


@admin.register(Visit)
class VisitAdmin(admin.ModelAdmin):
    list_display = ["code", "site", "local_date", "theme", "status", "arrived_at"]
    list_filter = ["site", "status", "theme"]
    date_hierarchy = "arrived_at"
    readonly_fields = [f.name for f in Visit._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
