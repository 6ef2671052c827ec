from django.contrib import admin

from jiesu.dispatch.models import DispatchSettings, TriageCorrection, TriageSuggestion


@admin.register(DispatchSettings)
class DispatchSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "auto_dispatch", "threshold", "updated_at"]

    def has_add_permission(self, request) -> bool:
        return not DispatchSettings.objects.exists()

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(TriageSuggestion)
class TriageSuggestionAdmin(admin.ModelAdmin):
    list_display = ["order", "confidence", "model_version", "auto_dispatched", "created_at"]
    list_filter = ["auto_dispatched", "model_version"]
    search_fields = ["order__number"]
    raw_id_fields = ["order"]
    readonly_fields = ["order", "result", "model_version", "confidence", "auto_dispatched", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(TriageCorrection)
class TriageCorrectionAdmin(admin.ModelAdmin):
    list_display = ["order", "field", "suggested", "chosen", "by", "at"]
    list_filter = ["field"]
    search_fields = ["order__number", "suggested", "chosen"]
    raw_id_fields = ["order"]
    readonly_fields = ["order", "field", "suggested", "chosen", "by", "at", "model_version"]

    def has_add_permission(self, request) -> bool:
        return False
