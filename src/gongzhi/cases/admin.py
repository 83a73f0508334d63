import itertools
from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.models import CalendarDay, Case, Category, DeadlineRule, WorkSchedule, WorkSession


class CategoryForm(forms.ModelForm[Category]):
    class Meta:
        model = Category
        fields = ("kind", "code", "name", "parent", "keywords", "default_urgency", "is_active")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        parent = cleaned.get("parent")
        if parent is not None and parent.kind != cleaned.get("kind"):
            self.add_error("parent", _("A minor class has the kind of its major class."))
        return cleaned


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    form = CategoryForm
    list_display = ("kind", "code", "name", "parent", "default_urgency", "is_active")
    list_filter = ("kind", "is_active", "default_urgency", "parent")
    search_fields = ("code", "name", "keywords")


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(admin.ModelAdmin[DeadlineRule]):
    list_display = ("category", "urgency", "step", "amount", "unit")
    list_filter = ("urgency", "step", "unit")


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin[CalendarDay]):
    """National rows come from chinese-calendar (``gongzhi load_holidays``, marked statutory); a subdistrict's own
    days (and a national day the package does not know yet) are typed here. A local row wins over the national."""

    list_display = ("date", "is_workday", "name", "subdistrict", "statutory")
    list_filter = ("statutory", "is_workday", "subdistrict")
    readonly_fields = ("statutory",)


class WorkSessionFormSet(forms.BaseInlineFormSet[WorkSession, WorkSchedule, Any]):
    """The sessions of one day must not overlap (a lunch break lies between two of them)."""

    def clean(self) -> None:
        super().clean()
        spans: list[tuple[Any, Any]] = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("DELETE") or not data.get("start") or not data.get("end"):
                continue
            if data["end"] <= data["start"]:
                form.add_error("end", _("A session ends after it starts."))
                continue
            spans.append((data["start"], data["end"]))
        spans.sort()
        for (_s1, end1), (start2, _e2) in itertools.pairwise(spans):
            if start2 < end1:
                raise forms.ValidationError(_("The sessions of a day must not overlap."))


class WorkSessionInline(admin.TabularInline[WorkSession, WorkSchedule]):
    model = WorkSession
    formset = WorkSessionFormSet
    extra = 2


@admin.register(WorkSchedule)
class WorkScheduleAdmin(admin.ModelAdmin[WorkSchedule]):
    """A subdistrict's working hours (without a schedule: 08:30–17:30). Holidays and make-up days: work calendar."""

    list_display = ("subdistrict", "__str__")
    inlines = [WorkSessionInline]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    """Read-only: cases change only through the workflow (the pages and the API)."""

    list_display = ("number", "title", "status", "tier", "is_overdue", "reported_at")
    list_filter = ("status", "tier", "channel", "is_overdue")
    search_fields = ("number", "title")

    def has_change_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Case | None = None) -> bool:
        return False
