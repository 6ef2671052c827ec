from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from jiesu.accounts.policy import Actor
from jiesu.integrations import webhooks
from jiesu.integrations.models import (
    DeliveryAttempt,
    DeliveryStatus,
    Notification,
    NotificationTemplate,
    WebhookDelivery,
    WebhookSubscription,
)
from jiesu.orders.errors import DomainError
from jiesu.security.audit import audited


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin):
    list_display = ("kind", "channel", "language", "subject", "is_active")
    list_filter = ("kind", "channel", "language", "is_active")
    list_editable = ("is_active",)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "channel", "to", "status", "attempts", "next_attempt_at", "order")
    list_filter = ("status", "kind", "channel")
    search_fields = ("to", "order__number")
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "unit", "event_codes", "is_active")
    list_filter = ("is_active",)
    autocomplete_fields = ()


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("number", "at", "response_status", "response_body", "error", "replay")

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description=_("Replay the selected failed deliveries"))
@audited
def replay_deliveries(modeladmin, request, queryset):
    actor = Actor.of(request.user)
    done = 0
    for row in queryset.filter(status=DeliveryStatus.FAILED):
        try:
            webhooks.replay(actor=actor, delivery_id=str(row.delivery_id))
            done += 1
        except DomainError as err:
            modeladmin.message_user(request, str(err), messages.ERROR)
    modeladmin.message_user(request, _("%(n)s deliveries replayed.") % {"n": done})


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ("created_at", "delivery_id", "subscription", "event_code", "status", "attempts",
                    "response_status", "next_attempt_at")
    list_filter = ("status", "event_code", "subscription")
    search_fields = ("delivery_id", "event__order__number")
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    inlines = [AttemptInline]
    actions = [replay_deliveries]

    def has_add_permission(self, request):
        return False
