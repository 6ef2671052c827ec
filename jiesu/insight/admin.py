from django.contrib import admin

from jiesu.insight.models import Measure, MeasureUpdate, Milestone, Topic, TopicItem, TopicLink


class TopicItemInline(admin.TabularInline):
    model = TopicItem
    extra = 0


class TopicLinkInline(admin.TabularInline):
    model = TopicLink
    extra = 0
    raw_id_fields = ("order",)


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("title", "month", "lead_unit", "status")
    list_filter = ("status",)
    inlines = [TopicItemInline, TopicLinkInline]


class MilestoneInline(admin.TabularInline):
    model = Milestone
    extra = 0


class MeasureUpdateInline(admin.TabularInline):
    model = MeasureUpdate
    extra = 0
    can_delete = False
    readonly_fields = ("at", "percent", "evidence", "links", "author")

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # updates are added through the desk, append-only


@admin.register(Measure)
class MeasureAdmin(admin.ModelAdmin):
    list_display = ("title", "owner_unit", "category", "percent", "public")
    list_filter = ("public", "category")
    inlines = [MilestoneInline, MeasureUpdateInline]
