from django.contrib import admin

from jiesu.orders.models import WorkOrder


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    """Read-only: orders change only through the lifecycle services, never by editing rows."""

    list_display = ["number", "state", "request_type", "channel", "area", "category", "received_at", "due_at"]
    list_filter = ["state", "request_type", "channel", "urgency"]
    search_fields = ["number"]
    list_select_related = ["area", "category"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
