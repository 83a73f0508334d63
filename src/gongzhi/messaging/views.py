"""Inbox pages: the bell's unread count (a partial HTMX polls), the list of one's messages (opening one marks it
read and leads to its object), "mark all read"; and the staff page of failed deliveries with "send again"."""

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
from gongzhi.core.http import AuthedRequest
from gongzhi.messaging import selectors, services
from gongzhi.messaging.choices import DeliveryState

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
