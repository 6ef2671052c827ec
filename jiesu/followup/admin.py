from django.contrib import admin

from jiesu.followup.models import Outbox, Overdue


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ("created_at", "channel", "to", "kind", "status", "order")
    list_filter = ("channel", "status", "kind")
    search_fields = ("to", "order__number")
    readonly_fields = [f.name for f in Outbox._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Overdue)
class OverdueAdmin(admin.ModelAdmin):
    list_display = ("order", "due_at", "detected_at", "callback_attempts", "done_at")
    readonly_fields = [f.name for f in Overdue._meta.fields]

    def has_add_permission(self, request):
        return False
