"""The disputes' reference data edited in the Django admin: the kinds of dispute and each subdistrict's ladder.
Disputes themselves are read here only (their status moves through ``disputes/workflow.py``)."""

from django.contrib import admin
from django.http import HttpRequest

from gongzhi.disputes.models import Dispute, DisputeKind, LadderTier


@admin.register(DisputeKind)
class DisputeKindAdmin(admin.ModelAdmin[DisputeKind]):
    list_display = ("code", "name", "order", "follow_up_days", "is_active")
    list_filter = ("is_active",)
    search_fields = ("code", "name")


@admin.register(LadderTier)
class LadderTierAdmin(admin.ModelAdmin[LadderTier]):
    list_display = ("subdistrict", "level", "kind", "name", "body")
    list_filter = ("kind",)
    autocomplete_fields = ("body",)


@admin.register(Dispute)
class DisputeAdmin(admin.ModelAdmin[Dispute]):
    list_display = ("number", "summary", "kind", "status", "risk", "tier", "is_repeat", "received_at")
    list_filter = ("status", "risk", "tier_kind", "kind", "is_repeat")
    search_fields = ("number", "summary")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Dispute | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Dispute | None = None) -> bool:
        return False
