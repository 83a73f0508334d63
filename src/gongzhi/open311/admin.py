from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from gongzhi.core.messages import fmt
from gongzhi.open311 import services
from gongzhi.open311.models import ApiKey, Request


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    """Keys of client apps. A new key is shown once, in the message after saving; only its hash is kept. Every
    creation and change is audited (``open311.services``)."""

    list_display = ("name", "contact", "subdistrict", "rate_limit", "is_active", "key_prefix", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("name", "contact", "key_prefix")
    fields = ("name", "contact", "subdistrict", "rate_limit", "is_active", "key_prefix", "last_used_at")
    readonly_fields = ("key_prefix", "last_used_at")

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False  # deactivate instead: its requests keep their key

    def save_model(self, request: HttpRequest, obj: ApiKey, form: forms.ModelForm[ApiKey], change: bool) -> None:
        actor: Any = request.user
        if change:
            before = {f: form.initial.get(f.removesuffix("_id"), None) for f in services.KEY_FIELDS}
            services.update_key(actor=actor, key=obj, before=before)
            return
        new = services.create_key(
            actor=actor, name=obj.name, subdistrict=obj.subdistrict, contact=obj.contact, rate_limit=obj.rate_limit
        )
        obj.pk = new.key.pk
        obj.key_prefix = new.key.key_prefix
        obj.key_hash = new.key.key_hash
        shown = fmt(_("The key of %(name)s, shown this once — copy it now: %(key)s"), name=new.key.name, key=new.secret)
        messages.warning(request, str(shown))


@admin.register(Request)
class RequestAdmin(admin.ModelAdmin[Request]):
    list_display = ("case", "api_key", "created_at")
    list_filter = ("api_key",)
    readonly_fields = ("case", "api_key", "email", "device_id", "account_id", "media_url", "attributes", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
