from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext, gettext_lazy

from gongzhi.accounts import services
from gongzhi.accounts.models import ApiToken, RoleAssignment, User


def _actor(request: HttpRequest) -> User:
    """Who acts in the admin: a signed-in staff user (the admin site lets no one else in)."""
    assert isinstance(request.user, User)
    return request.user


class RoleAssignmentInline(admin.TabularInline[RoleAssignment, User]):
    model = RoleAssignment
    extra = 0
    raw_id_fields = ("node", "body")


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ("username", "display_name", "is_active", "is_superuser")
    search_fields = ("username", "display_name")
    # django-stubs types ModelAdmin.fieldsets as optional; UserAdmin's is always set
    fieldsets = (*BaseUserAdmin.fieldsets, ("Gongzhi", {"fields": ("display_name", "phone")}))  # type: ignore[misc]
    inlines = [RoleAssignmentInline]
    actions = ["revoke_api_tokens"]

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.end_tokens(actor=_actor(request), user=obj, reason="deactivated")

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        before = User.objects.filter(pk=id).values_list("password", flat=True).first()
        response = super().user_change_password(request, id, form_url)
        user = User.objects.filter(pk=id).first()
        if user is not None and before is not None and user.password != before:
            services.end_tokens(actor=_actor(request), user=user, reason="password_changed")
        return response

    @admin.action(description=gettext_lazy("Revoke the API tokens of the selected users"))
    def revoke_api_tokens(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        ended = sum(services.end_tokens(actor=_actor(request), user=user, reason="revoked") for user in queryset)
        self.message_user(request, gettext("%(count)d API tokens revoked.") % {"count": ended}, messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """API tokens: who holds one, since when, last used. Only revoking is possible (audited)."""

    list_display = ("user", "created_at", "expires_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__username", "user__display_name")
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # revoking goes through the audited action below

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("revoke", None)
        return actions

    @admin.action(description=gettext_lazy("Revoke the selected API tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = 0
        for token in queryset:
            services.revoke_token(actor=_actor(request), token_id=token.pk)
            count += 1
        self.message_user(request, gettext("%(count)d API tokens revoked.") % {"count": count}, messages.SUCCESS)
