from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from jiesu.accounts.models import ApiToken, Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 1
    autocomplete_fields = ["unit"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "is_active", "is_staff"]
    fieldsets = (*BaseUserAdmin.fieldsets, ("Jiesu", {"fields": ["display_name"]}))  # type: ignore[misc]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["prefix", "user", "name", "created_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at"]
    raw_id_fields = ["user"]
