from django.contrib import admin
from django.http import HttpRequest

from gongzhi.core.models import AuditLog


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin[AuditLog]):
    list_display = ("at", "actor", "action", "object_type", "object_repr", "node_code")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "node_code")

    def has_change_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditLog | None = None) -> bool:
        return False
