from django.contrib import admin

from jiesu.catalogue.models import Category, RoutingRule


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "level", "parent", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "code", "name_en"]
    autocomplete_fields = ["parent"]


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ["category", "area", "lead_unit", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["category__name", "area__name", "lead_unit__name"]
    autocomplete_fields = ["category", "area", "lead_unit", "co_units"]
