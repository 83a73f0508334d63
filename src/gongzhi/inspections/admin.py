"""Checklists, plans and sites in the admin (the pages are the usual way: /inspections/checklists/, /plans/)."""

from __future__ import annotations

from django.contrib import admin

from gongzhi.inspections.models import Checklist, ChecklistItem, Plan, Site


class ItemInline(admin.TabularInline[ChecklistItem, Checklist]):
    model = ChecklistItem
    extra = 0
    fields = ("position", "question", "basis", "photo_required", "severity", "category_code", "is_active")


@admin.register(Checklist)
class ChecklistAdmin(admin.ModelAdmin[Checklist]):
    list_display = ("name", "kind", "area", "is_active")
    list_filter = ("kind", "is_active")
    raw_id_fields = ("area",)
    inlines = [ItemInline]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin[Plan]):
    list_display = ("name", "kind", "area", "every_months", "assign_to", "starts", "is_active")
    list_filter = ("kind", "every_months", "assign_to", "is_active")
    raw_id_fields = ("area", "created_by")


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin[Site]):
    list_display = ("building", "kind", "responsible")
    list_filter = ("kind",)
    raw_id_fields = ("building",)
