"""The need categories are an editable table (Django admin); the lists themselves are edited through the pages."""

from django.contrib import admin

from gongzhi.participation.models import NeedCategory, Project, Resource


@admin.register(NeedCategory)
class NeedCategoryAdmin(admin.ModelAdmin[NeedCategory]):
    list_display = ("name", "code", "order", "is_active")
    list_editable = ("order", "is_active")
    search_fields = ("name", "keywords")


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin[Resource]):
    list_display = ("title", "unit", "kind", "category", "capacity", "capacity_left", "is_active")
    list_filter = ("kind", "category", "is_active")
    search_fields = ("title",)
    raw_id_fields = ("unit", "place", "agreement", "created_by")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ("title", "unit", "state", "progress", "people_served")
    list_filter = ("state",)
    search_fields = ("title",)
    raw_id_fields = ("need", "match", "unit", "owner", "place", "agreement", "accepted_by")
