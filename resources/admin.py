from django.contrib import admin

from .models import Audience, Holding, Purpose, Resource, SearchTerm


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "order"]
    list_editable = ["order"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


@admin.register(Audience)
class AudienceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "order"]
    list_editable = ["order"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name", "slug"]


class HoldingInline(admin.TabularInline):
    model = Holding
    extra = 0
    autocomplete_fields = ["site"]


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "year", "isbn", "issn", "language", "withdrawn", "updated"]
    list_filter = ["withdrawn", "kind", "language", "purposes", "audiences", "holdings__site"]
    search_fields = ["title", "authors", "publisher", "isbn", "issn", "keywords"]
    filter_horizontal = ["purposes", "themes", "audiences"]
    readonly_fields = ["created", "updated"]
    inlines = [HoldingInline]
    list_per_page = 50
    show_full_result_count = False  # a count over 100,000 records on every page is wasted work


@admin.register(SearchTerm)
class SearchTermAdmin(admin.ModelAdmin):
    """The suggestion lexicon is derived from the catalogue (search.refresh_terms): read only."""

    list_display = ["term", "frequency"]
    search_fields = ["term"]
    ordering = ["-frequency", "term"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
