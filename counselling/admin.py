from django.contrib import admin

from .models import Desk, DeskSession, Interview


@admin.register(Desk)
class DeskAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "order", "active"]
    list_filter = ["site", "active"]
    list_editable = ["order", "active"]
    filter_horizontal = ["themes"]
    search_fields = ["name"]


@admin.register(DeskSession)
class DeskSessionAdmin(admin.ModelAdmin):
    list_display = ["desk", "counsellor", "partner", "opened_at", "closed_at", "paused_since"]
    list_filter = ["desk__site", "partner"]
    date_hierarchy = "opened_at"


@admin.register(Interview)
class InterviewAdmin(admin.ModelAdmin):
    list_display = ["desk", "theme", "partner", "started_at", "ended_at"]
    list_filter = ["desk__site", "theme", "partner"]
    date_hierarchy = "started_at"
