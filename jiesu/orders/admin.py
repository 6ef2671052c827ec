from django.contrib import admin

from jiesu.orders.models import Event, PersonalDataView, WorkOrder


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows read, never written, through the admin: orders change only through the lifecycle
    services, and logs are append-only (the models refuse edits as well)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    """Read-only: orders change only through the lifecycle services, never by editing rows."""

    list_display = ["number", "state", "request_type", "channel", "area", "category", "received_at", "due_at"]
    list_filter = ["state", "request_type", "channel", "urgency"]
    search_fields = ["number"]
    list_select_related = ["area", "category"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["order", "code", "at", "actor", "from_state", "to_state"]
    list_filter = ["code"]
    search_fields = ["order__number"]
    list_select_related = ["order", "actor"]


@admin.register(PersonalDataView)
class PersonalDataViewAdmin(ReadOnlyAdmin):
    """Who saw which requester's unmasked phone and ID, when and where (DESIGN §9)."""

    list_display = ["at", "user", "order", "where"]
    list_filter = ["where"]
    search_fields = ["order__number", "user__username"]
    list_select_related = ["order", "user"]
