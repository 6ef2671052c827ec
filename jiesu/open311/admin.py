from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from jiesu.open311 import outbound
from jiesu.open311.models import ApiKey, Attribute, AttributeValue, Outbound, Service, Submission, UnitLink
from jiesu.security.audit import audited


class AttributeInline(admin.StackedInline):
    model = Attribute
    extra = 0
    show_change_link = True


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["category", "code", "group", "request_type", "type", "is_active"]
    list_filter = ["is_active", "type", "request_type"]
    search_fields = ["code", "category__name", "category__code"]
    autocomplete_fields = ["category"]
    inlines = [AttributeInline]


class AttributeValueInline(admin.TabularInline):
    model = AttributeValue
    extra = 1


@admin.register(Attribute)
class AttributeAdmin(admin.ModelAdmin):
    list_display = ["service", "order", "code", "datatype", "required", "variable"]
    list_filter = ["datatype", "required"]
    search_fields = ["code", "description", "service__code"]
    inlines = [AttributeValueInline]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made with ``jiesu apikey create NAME`` (the raw key is printed once); here
    they are only listed and revoked."""

    list_display = ["name", "prefix", "user", "created_at", "revoked_at"]
    readonly_fields = ["name", "prefix", "user", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["order", "service_code", "api_key", "created_at"]
    readonly_fields = [f.name for f in Submission._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(UnitLink)
class UnitLinkAdmin(admin.ModelAdmin):
    list_display = ["unit", "endpoint", "poll_mode", "enabled", "polled_until"]
    list_filter = ["enabled", "poll_mode"]
    autocomplete_fields = ["unit"]
    raw_id_fields = ["acts_as"]


@admin.register(Outbound)
class OutboundAdmin(admin.ModelAdmin):
    list_display = ["assignment", "link", "state", "attempts", "remote_id", "remote_status", "next_attempt_at"]
    list_filter = ["state"]
    search_fields = ["remote_id", "assignment__order__number"]
    readonly_fields = [f.name for f in Outbound._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Send the failed ones again"))
    @audited
    def send_again(self, request, queryset):
        ids = list(queryset.values_list("pk", flat=True))
        for pk in ids:
            outbound.resend(outbound_id=pk)
        messages.success(request, _("Queued again."))
