"""Notice pages: the list of notices in scope with their read %, the send form, the notice page (read statistics per
community and grid, who has not read, a grid worker's "confirmed in person / by phone"), and the resident's page
behind their read link (no account: opening it records the read).

Views hold no business logic: reads through ``notices.selectors``, writes through ``notices.services``. A service's
refusal (``ValidationFailed``) is shown on the form; ``NotFound`` / ``Forbidden`` go to the error middleware.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from gongzhi.accounts import pages
from gongzhi.core.errors import Forbidden, NotFound, ValidationFailed
from gongzhi.core.forms import add_service_errors
from gongzhi.core.http import AuthedRequest
from gongzhi.core.middleware import is_htmx
from gongzhi.core.privacy import mask_phone
from gongzhi.notices import selectors, services
from gongzhi.notices.forms import ConfirmForm, NoticeForm
from gongzhi.notices.models import NoticeDelivery
from gongzhi.registry.choices import TagKind
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import NodeKind

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

LIST_PAGE_SIZE = 25
UNREAD_PAGE_SIZE = 30
SEND_FIELDS = {"area_id": "area", "sender_body_id": "sender_body", "joins_notice_id": None}


def _tag_labels(tags: list[str]) -> list[str]:
    labels = dict(TagKind.choices)
    return [str(labels.get(t, t)) for t in tags]


# --- the list ---------------------------------------------------------------------------------------------------------


@login_required
@pages.page("notices-list")
def notice_list(request: AuthedRequest) -> HttpResponse:
    """通知: notices sent to my ground (or above it), newest first, with how many of my households have read."""
    q = request.GET.get("q", "").strip()
    page = Paginator(selectors.notice_list(user=request.user, q=q or None), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    notices: list[Any] = list(page.object_list)
    rows = [
        {
            "notice": n,
            "tags": _tag_labels(n.tags),
            "delivered": n.delivered_count,
            "read": n.read_count,
            "unread": n.delivered_count - n.read_count,
            "percent": selectors.percent(n.read_count, n.delivered_count),
        }
        for n in notices
    ]
    return render(
        request,
        "notices/list.html",
        {"page": page, "rows": rows, "q": q, "may_send": selectors.may_send(user=request.user)},
    )


# --- sending ----------------------------------------------------------------------------------------------------------


def _area_choices(user: User) -> list[Any]:
    """The places the user may send to, grouped by community (the subdistrict on its own)."""
    groups: list[Any] = []
    loose: list[tuple[int, str]] = []
    current: list[tuple[int, str]] | None = None
    current_code = ""
    for node in selectors.sendable_areas(user=user):
        if node.kind == NodeKind.SUBDISTRICT:
            loose.append((node.pk, _("%(name)s (whole subdistrict)") % {"name": node.name}))
        elif node.kind in (NodeKind.COMMUNITY, NodeKind.VILLAGE):
            current = [(node.pk, _("%(name)s (all grids)") % {"name": node.name})]
            current_code = node.code
            groups.append((node.name, current))
        elif current is not None and node.code.startswith(current_code):
            current.append((node.pk, node.name))
        else:
            loose.append((node.pk, node.name))
    return loose + groups


def _body_choices(user: User) -> list[tuple[int, str]]:
    scope = user.scope_for("notices.notice", "add")
    if not scope.bodies:
        return []
    return [(b.pk, b.name) for b in territory.body_list(user=user).filter(pk__in=sorted(scope.bodies))]


def _sent_message(result: services.SendResult) -> str:
    if result.already_delivered:
        return _("Delivered to %(new)s households (%(already)s already had it from %(others)s).") % {
            "new": result.new_households,
            "already": result.already_delivered,
            "others": "、".join(result.already_from) or _("another sender"),
        }
    return _("Delivered to %(new)s households.") % {"new": result.new_households}


@login_required
@require_http_methods(["GET", "POST"])
def notice_new(request: AuthedRequest) -> HttpResponse:
    """发通知: title, text, where to (a community or grid in scope), optionally only a tag group."""
    if not selectors.may_send(user=request.user):
        raise Forbidden(_("You may not send notices."))
    kwargs = {"area_choices": _area_choices(request.user), "body_choices": _body_choices(request.user)}
    status = 200
    if request.method == "POST":
        form = NoticeForm(request.POST, **kwargs)
        if form.is_valid():
            try:
                result = services.deliver_notice(actor=request.user, **form.service_kwargs())
            except (ValidationFailed, Forbidden, NotFound) as exc:
                add_service_errors(form, exc, SEND_FIELDS)
            else:
                messages.success(request, _sent_message(result))
                return redirect("notices-detail", notice_id=result.notice.pk)
        status = 400
    else:
        form = NoticeForm(**kwargs)
    return render(request, "notices/new.html", {"form": form}, status=status)


# --- the notice page --------------------------------------------------------------------------------------------------


def _unread_rows(user: User, deliveries: list[NoticeDelivery]) -> list[dict[str, Any]]:
    may_confirm = selectors.confirmable_ids(user=user, delivery_ids=[d.pk for d in deliveries])
    return [_row(d, d.pk in may_confirm) for d in deliveries]


def _row(d: NoticeDelivery, may_confirm: bool) -> dict[str, Any]:
    household = d.household
    return {
        "delivery": d,
        "household": household,
        "building": household.parent.name if household.parent_id and household.parent else "",
        "grid": getattr(d, "grid_name", "") or "",
        "community": getattr(d, "community_name", "") or "",
        "contact": getattr(d, "contact_name", "") or "",
        "phone_masked": mask_phone(getattr(d, "contact_phone_raw", "") or ""),
        "may_confirm": may_confirm,
    }


@login_required
def notice_detail(request: AuthedRequest, notice_id: int) -> HttpResponse:
    notice = selectors.notice_get(user=request.user, notice_id=notice_id)
    stats = selectors.delivery_stats(user=request.user, notice=notice)
    within = request.GET.get("within", "").strip()
    if within and not (within.isdigit() and within in {g.code for g in stats.by_grid + stats.by_community}):
        within = ""
    unread = Paginator(
        selectors.unread_list(user=request.user, notice=notice, within_code=within or None), UNREAD_PAGE_SIZE
    ).get_page(request.GET.get("page"))
    rows = _unread_rows(request.user, list(unread.object_list))
    context = {
        "notice": notice,
        "tags": _tag_labels(notice.tags),
        "senders": selectors.notice_senders(notice=notice),
        "stats": stats,
        "page": unread,
        "rows": rows,
        "within": within,
        "within_name": next((a.name for a in stats.by_grid + stats.by_community if a.code == within), ""),
        "multi_community": len(stats.by_community) > 1,
    }
    if is_htmx(request) and request.GET.get("part") == "unread":
        return render(request, "notices/_unread.html", context)
    return render(request, "notices/detail.html", context)


@login_required
@require_POST
def delivery_confirm(request: AuthedRequest, delivery_id: int) -> HttpResponse:
    """A grid worker confirms a household has read the notice. HTMX: the row comes back updated."""
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(_("Confirm reading in person or by phone."))
    delivery = services.confirm_read(actor=request.user, delivery_id=delivery_id, via=form.cleaned_data["via"])
    if is_htmx(request):
        row = selectors.delivery_get(user=request.user, delivery_id=delivery.pk)
        return render(request, "notices/_unread_row.html", {"r": _row(row, False)})
    messages.success(request, _("Reading confirmed."))
    return redirect("notices-detail", notice_id=delivery.notice_id)


# --- the resident's page ----------------------------------------------------------------------------------------------


@never_cache
def notice_read(request: HttpRequest, token: str) -> HttpResponse:
    """The resident's read link (no account): shows the notice and records that the household has read it."""
    delivery = services.mark_read(token=token)
    notice = delivery.notice
    senders = selectors.notice_senders(notice=notice)
    names: list[str] = []
    for s in senders:
        name = s.body.name if s.body is not None else ""
        if name and name not in names:
            names.append(name)
    response = render(
        request,
        "notices/read.html",
        {"notice": notice, "delivery": delivery, "sender_names": names},
    )
    response["Referrer-Policy"] = "no-referrer"  # the link is the household's key
    response["X-Robots-Tag"] = "noindex"
    return response
