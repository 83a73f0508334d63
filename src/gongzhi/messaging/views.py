"""Inbox pages: the bell's unread count (a partial HTMX polls), the list of one's messages (opening one marks it
read and leads to its object), "mark all read", one's own preferences; the staff page of failed deliveries with
"send again"; the subdistrict's default channels per role and its bodies' WeCom duty groups."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from gongzhi.accounts import pages
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.forms import add_service_errors
from gongzhi.core.http import AuthedRequest
from gongzhi.messaging import selectors, services
from gongzhi.messaging.choices import DeliveryState
from gongzhi.messaging.forms import DutyGroupForm, PreferenceForm

PAGE_SIZE = 20


@never_cache
@login_required
def bell(request: AuthedRequest) -> HttpResponse:
    """The bell with the unread count (the partial ``base.html`` polls every 30 seconds)."""
    return render(request, "messaging/_bell.html", {"unread_count": selectors.unread_count(user=request.user)})


@login_required
@pages.page("messaging-inbox")
def inbox(request: AuthedRequest) -> HttpResponse:
    kind = request.GET.get("kind", "").strip()
    page = Paginator(selectors.inbox(user=request.user, kind=kind or None), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "messaging/inbox.html",
        {"page": page, "kind": kind, "kinds": selectors.kinds(user=request.user),
         "unread_count": selectors.unread_count(user=request.user)},
    )  # fmt: skip


@require_POST
@login_required
@pages.page("messaging-inbox")
def open_message(request: AuthedRequest, message_id: int) -> HttpResponse:
    """Mark the message read and go to its object (or back to the inbox when it has no link)."""
    message = services.mark_read(actor=request.user, message_id=message_id)
    link = message.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("messaging-inbox")


@require_POST
@login_required
@pages.page("messaging-inbox")
def read_all(request: AuthedRequest) -> HttpResponse:
    count = services.mark_all_read(actor=request.user)
    messages.success(request, _("%(count)s messages marked read.") % {"count": count})
    return redirect("messaging-inbox")


@login_required
@pages.page("messaging-deliveries")
def deliveries(request: AuthedRequest) -> HttpResponse:
    state = request.GET.get("state", "").strip()
    page = Paginator(selectors.failed_deliveries(user=request.user, state=state or None), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "messaging/deliveries.html", {"page": page, "state": state, "states": DeliveryState})


@require_POST
@login_required
@pages.page("messaging-deliveries")
def resend(request: AuthedRequest, delivery_id: int) -> HttpResponse:
    services.resend(actor=request.user, delivery_id=delivery_id)
    messages.success(request, _("Queued to be sent again."))
    return redirect("messaging-deliveries")


@login_required
@pages.page("messaging-preferences")
def preferences(request: AuthedRequest) -> HttpResponse:
    """One's own channels, quiet hours and digest (phone layout first)."""
    current = selectors.my_preferences(user=request.user)
    status = 200
    if request.method == "POST":
        form = PreferenceForm(request.POST)
        if form.is_valid():
            try:
                services.save_preferences(actor=request.user, **form.cleaned_data)
            except ValidationFailed as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Your notification settings are saved."))
                return redirect("messaging-preferences")
        status = 400
    else:
        initial = {k: current[k] for k in ("quiet_start", "quiet_end", "digest")}
        # A channel that cannot reach the user (no phone, no address) is not offered as on: saving it would fail.
        initial |= {
            "sms": current["sms"] and current["phone_known"],
            "email": current["email"] and current["email_known"],
        }
        form = PreferenceForm(initial=initial)
    form.fields["digest"].help_text = str(form.fields["digest"].help_text) % {"hour": services.digest_hour()}
    return render(request, "messaging/preferences.html", {"form": form, "current": current}, status=status)


@login_required
@pages.page("messaging-role-defaults")
def role_defaults(request: AuthedRequest) -> HttpResponse:
    """The subdistrict's default channels per role, for the users who never chose their own."""
    subdistricts = selectors.role_defaults(user=request.user)
    if request.method == "POST":
        node_id = request.POST.get("node", "")
        entry = next((s for s in subdistricts if str(s["node"].pk) == node_id), None)
        if entry is None:
            raise NotFound()
        defaults = {
            row["role"]: (
                request.POST.get(f"{row['role']}-sms") == "on",
                request.POST.get(f"{row['role']}-email") == "on",
            )
            for row in entry["rows"]
        }
        services.set_role_defaults(actor=request.user, node_id=entry["node"].pk, defaults=defaults)
        messages.success(request, _("The default channels are saved."))
        return redirect("messaging-role-defaults")
    return render(request, "messaging/role_defaults.html", {"subdistricts": subdistricts})


@login_required
@pages.page("messaging-duty-groups")
def duty_groups(request: AuthedRequest) -> HttpResponse:
    """The bodies' WeCom duty groups (the webhook URL masked: a secret, never shown back)."""
    rows = selectors.duty_groups(user=request.user)
    errors: dict[int, DutyGroupForm] = {}
    status = 200
    if request.method == "POST":
        body_id = request.POST.get("body", "")
        row = next((r for r in rows if str(r["body"].pk) == body_id), None)
        if row is None:
            raise NotFound()
        form = DutyGroupForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            url = "" if data["remove"] else (data["webhook_url"].strip() or None)
            try:
                services.set_duty_group(actor=request.user, body_id=row["body"].pk, webhook_url=url,
                                        is_active=data["is_active"])  # fmt: skip
            except (ValidationFailed, NotFound) as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The duty group of %(body)s is saved.") % {"body": row["body"].name})
                return redirect("messaging-duty-groups")
        errors[row["body"].pk] = form
        status = 400
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for r in page.object_list:
        r["form"] = errors.get(r["body"].pk) or DutyGroupForm(
            initial={"is_active": r["group"].is_active if r["group"] else True}, auto_id=f"dg{r['body'].pk}-%s"
        )
    return render(request, "messaging/duty_groups.html", {"page": page}, status=status)
