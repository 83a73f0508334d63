"""The deliveries in the admin: with no provider configured, the recording channel answers "recorded" — those rows
are what would have been sent (filter by the answer)."""

from __future__ import annotations

from django.contrib import admin

from gongzhi.messaging.models import Delivery, Message, Preference


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = ("created_at", "channel", "address", "subject", "state", "attempts", "last_answer")
    list_filter = ("channel", "state", "last_answer")
    search_fields = ("address", "subject", "body", "key")
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin[Message]):
    list_display = ("created_at", "user", "kind", "body", "read_at")
    list_filter = ("kind",)
    raw_id_fields = ("user",)
    readonly_fields = [f.name for f in Message._meta.fields]


@admin.register(Preference)
class PreferenceAdmin(admin.ModelAdmin[Preference]):
    list_display = ("user", "sms", "email", "quiet_start", "quiet_end", "digest")
    raw_id_fields = ("user",)
