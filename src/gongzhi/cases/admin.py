from django.contrib import admin

from gongzhi.cases.models import CalendarDay, Case, Category, DeadlineRule


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "default_urgency", "is_active")
    list_filter = ("is_active", "default_urgency", "parent")
    search_fields = ("code", "name")


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "urgency", "step", "amount", "unit")
    list_filter = ("urgency", "step", "unit")


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "is_workday", "name")
    list_filter = ("is_workday",)


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    """Read-only: cases change only through the workflow (the pages and the API)."""

    list_display = ("number", "title", "status", "tier", "is_overdue", "reported_at")
    list_filter = ("status", "tier", "channel", "is_overdue")
    search_fields = ("number", "title")

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
