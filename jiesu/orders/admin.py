from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from jiesu.accounts.policy import Actor
from jiesu.orders.actions import receipts
from jiesu.orders.models import Event, IntakeReceipt, PersonalDataView, WorkOrder
from jiesu.security.audit import audited


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


@admin.register(IntakeReceipt)
class IntakeReceiptAdmin(ReadOnlyAdmin):
    """Orders acknowledged with ``Prefer: respond-async``; a failed one is made again, after its
    cause is fixed, with the action below (``receipts.retry_failed``)."""

    list_display = ["id", "state", "received_at", "made_at", "order", "actor", "error"]
    list_filter = ["state"]
    search_fields = ["=id", "order__number"]
    list_select_related = ["order", "actor"]
    actions = ["make_again"]

    @admin.action(description=_("Make the failed receipts again"))
    @audited
    def make_again(self, request, queryset) -> None:
        done = receipts.retry_failed(actor=Actor.of(request.user), ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("%(n)s receipt(s) queued again.") % {"n": done})
