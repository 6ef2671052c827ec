from django.contrib import admin

from jiesu.org.models import Area, Unit


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "level", "alias", "parent"]
    list_filter = ["level"]
    search_fields = ["name", "code", "alias"]
    autocomplete_fields = ["parent"]


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "area", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["parent", "area"]
