from django.contrib import admin

from jiesu.deadlines.models import CalendarDay, CalendarYear, DaySource, DeadlineLimit


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "kind", "name", "source"]
    list_filter = ["kind", "source"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def save_model(self, request, obj, form, change):
        obj.source = DaySource.ADMIN  # an administrator's date wins over the library's
        super().save_model(request, obj, form, change)


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ["year", "source"]


@admin.register(DeadlineLimit)
class DeadlineLimitAdmin(admin.ModelAdmin):
    list_display = ["request_type", "urgency", "category", "amount", "unit", "contact_hours", "return_window_hours"]
    list_filter = ["request_type", "urgency", "unit"]
    autocomplete_fields = ["category"]
