import datetime as dt

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from jiesu.services import opening
from jiesu.services.models import (
    Booking,
    BookingEvent,
    Filing,
    FilingBatch,
    Hotline,
    Matter,
    OpeningRule,
    OutreachEntry,
    OutreachEvent,
    ServicePoint,
    Window,
)


class WindowInline(admin.TabularInline):
    model = Window
    extra = 0


@admin.register(ServicePoint)
class ServicePointAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "unit", "area", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("code", "name")
    inlines = [WindowInline]


@admin.register(Matter)
class MatterAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "slot_minutes", "in_person_required", "is_active")
    list_filter = ("kind",)


class OpeningRuleForm(forms.ModelForm):
    class Meta:
        model = OpeningRule
        fields = ["point", "label", "weekdays", "dates", "start", "end", "opens", "closes", "windows", "per_window",
                  "matters", "holidays_closed", "special"]

    def clean(self):
        data = super().clean() or {}
        try:
            rule = opening.Rule(
                id=0, opens=data["opens"], closes=data["closes"], windows=(0,), per_window=data.get("per_window") or 0,
                weekdays=frozenset(int(d) for d in data.get("weekdays") or []),
                dates=frozenset(dt.date.fromisoformat(str(d)) for d in data.get("dates") or []),
                start=data.get("start"), end=data.get("end"),
            )
        except (KeyError, TypeError, ValueError):
            raise ValidationError(_("Weekdays are numbers 0–6 and dates are ISO dates (YYYY-MM-DD).")) from None
        problem = opening.problem(rule)
        if problem:
            raise ValidationError(_("This opening rule %(problem)s.") % {"problem": problem})
        return data


@admin.register(OpeningRule)
class OpeningRuleAdmin(admin.ModelAdmin):
    form = OpeningRuleForm
    list_display = ("point", "label", "weekdays", "start", "end", "opens", "closes", "special")
    list_filter = ("special",)
    filter_horizontal = ("windows", "matters")


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Booking)
class BookingAdmin(ReadOnly):
    list_display = ("code", "point", "matter", "start", "status", "channel")
    list_filter = ("status", "channel", "point")
    search_fields = ("code", "phone")


@admin.register(BookingEvent)
class BookingEventAdmin(ReadOnly):
    list_display = ("booking", "code", "at", "from_status", "to_status")


@admin.register(OutreachEvent)
class OutreachEventAdmin(admin.ModelAdmin):
    list_display = ("date", "title", "kind", "place", "unit")


@admin.register(OutreachEntry)
class OutreachEntryAdmin(ReadOnly):
    list_display = ("event", "client_id", "outcome", "order", "booking", "synced_at")


@admin.register(FilingBatch)
class FilingBatchAdmin(ReadOnly):
    list_display = ("number", "court", "case_kind", "cause", "created_at")


@admin.register(Filing)
class FilingAdmin(ReadOnly):
    list_display = ("receipt", "party", "status", "received_at", "decision_due")
    list_filter = ("status",)


@admin.register(Hotline)
class HotlineAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "owner")
    filter_horizontal = ("units",)
