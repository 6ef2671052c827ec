from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from jiesu.dispatch.models import DispatchSettings, KeywordRule, TriageCorrection, TriageSuggestion


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


@admin.register(KeywordRule)
class KeywordRuleAdmin(admin.ModelAdmin):
    """Cold-start keyword rules; each save moves the engine's generation, so every process
    rebuilds its triage engine within seconds (no restart)."""

    list_display = ["target", "label", "short_keywords", "weight", "is_active", "note", "updated_at"]
    list_filter = ["target", "is_active"]
    list_editable = ["is_active"]
    search_fields = ["label", "keywords", "note"]

    @admin.display(description=_("keywords"))
    def short_keywords(self, obj: KeywordRule) -> str:
        return obj.keywords if len(obj.keywords) <= 60 else obj.keywords[:60] + "…"
