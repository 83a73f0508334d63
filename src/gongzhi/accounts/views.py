"""Pages of the accounts app: log-in, revoking my API tokens (listed on the home page, ``config.workbench``), the
staff of a place and revealing a phone number.

Reads go through the selectors (scope applied there), writes through the services; a ``NotFound`` or
``Forbidden`` raised by either becomes the 404 / 403 page (see ``gongzhi.core.middleware``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from gongzhi.accounts import selectors, services
from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.models import RoleAssignment
from gongzhi.core.http import AuthedRequest
from gongzhi.core.privacy import mask_phone
from gongzhi.territory import selectors as territory_selectors
from gongzhi.territory.choices import NodeKind

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

# django-axes' lockout messages (axes ships no Chinese); listed here so that makemessages picks them up and our
# catalogue translates them.
AXES_MESSAGES = (
    _("Account locked: too many login attempts. Please try again later."),
    _("Account locked: too many login attempts. Contact an admin to unlock your account."),
)

# Grid staffing "1+3+N": the one, the three, and the other forces.
STAFF_GROUPS = (
    ("1", _("Grid leader"), (Post.GRID_LEADER,)),
    ("3", _("Grid workers and instructor"), (Post.FULL_TIME, Post.PART_TIME, Post.INSTRUCTOR)),
)


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("Wrong username or password. Both are case-sensitive."),
        "inactive": _("This account is switched off. Ask your administrator."),
    }


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@login_required
@require_POST
def token_revoke(request: AuthedRequest, token_id: int) -> HttpResponse:
    """Revoke one of my API tokens (audited by the service), back to my page."""
    services.revoke_token(actor=request.user, token_id=token_id)
    return redirect(f"{reverse('home')}#my-tokens")


def _staff_row(user: User, row: RoleAssignment) -> dict[str, Any]:
    return {
        "assignment": row,
        "person": row.user,
        "post_label": row.get_post_display() if row.post else "",
        "phone_masked": mask_phone(row.user.phone),
        "may_reveal": bool(row.user.phone) and selectors.may_reveal(user=user, target=row.user),
    }


def _effective_post(row: RoleAssignment) -> str:
    if row.post:
        return row.post
    return Post.GRID_LEADER if row.role == Role.GRID_LEADER else ""


@login_required
def staff(request: AuthedRequest, node_id: int) -> HttpResponse:
    """HTMX partial: who is posted on a place; for a grid grouped as "1+3+N". Phones masked."""
    node = territory_selectors.node_get(user=request.user, node_id=node_id)
    rows = selectors.staff_on(user=request.user, node_id=node.pk)
    groups: list[dict[str, Any]] = []
    if node.kind == NodeKind.GRID:
        taken: set[int] = set()
        for key, label, posts in STAFF_GROUPS:
            members = [r for r in rows if _effective_post(r) in posts]
            taken |= {r.pk for r in members}
            groups.append({"key": key, "label": label, "rows": [_staff_row(request.user, r) for r in members]})
        rest = [r for r in rows if r.pk not in taken]
        groups.append({"key": "N", "label": _("Other forces"), "rows": [_staff_row(request.user, r) for r in rest]})
    else:
        groups.append({"key": "", "label": _("Staff"), "rows": [_staff_row(request.user, r) for r in rows]})
    return render(request, "accounts/_staff.html", {"node": node, "groups": groups, "total": len(rows)})


@login_required
@require_POST
def reveal_phone(request: AuthedRequest, user_id: int) -> HttpResponse:
    """HTMX partial: one person's phone number in clear. In scope with the right only; audited by the service."""
    value = services.reveal_user_field(actor=request.user, user_id=user_id, field="phone")
    return render(request, "accounts/_phone_revealed.html", {"phone": value, "user_id": user_id})
