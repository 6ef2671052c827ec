from django.contrib import admin

from jiesu.followup.models import Overdue


@admin.register(Overdue)
class OverdueAdmin(admin.ModelAdmin):
    list_display = ("order", "due_at", "detected_at", "callback_attempts", "done_at")
    readonly_fields = [f.name for f in Overdue._meta.fields]

    def has_add_permission(self, request):
        return False
