from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from gongzhi.accounts.models import RoleAssignment, User


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ("node", "body")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "display_name", "is_active", "is_superuser")
    search_fields = ("username", "display_name")
    fieldsets = (*BaseUserAdmin.fieldsets, ("Gongzhi", {"fields": ("display_name", "phone")}))  # type: ignore[misc,operator]
    inlines = [RoleAssignmentInline]
