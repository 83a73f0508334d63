"""The GeoReport v2 endpoints under ``/open311/v2/`` (docs/open311.md): plain views, each answering JSON or XML by
its suffix, errors in the spec's own format (not the project API's). ``api_key`` (issued in the admin) is required
to post and optional to read; every request counts against its key's rate per minute, or, without a key, against
the client address's ``open311`` rate."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from gongzhi.core import throttle
from gongzhi.core.errors import ValidationFailed
from gongzhi.core.messages import fmt as fmt_message
from gongzhi.open311 import render, selectors, services

if TYPE_CHECKING:  # annotations only
    from gongzhi.cases.models import Category
    from gongzhi.open311.models import ApiKey
    from gongzhi.territory.models import Node

SPEC = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-07T00:00:00+08:00"  # when these endpoints last changed
ATTRIBUTE = re.compile(r"^attribute\[(.{1,60})\]$")
MAX_DESCRIPTION = 4000


class Refused(Exception):
    def __init__(self, status: int, description: object) -> None:
        super().__init__(str(description))
        self.http_status = status
        self.description = description


def _param(request: HttpRequest, name: str) -> str:
    source = request.POST if request.method == "POST" else request.GET
    return (source.get(name) or "").strip()


def _client(request: HttpRequest, *, key_required: bool = False) -> tuple[ApiKey | None, Node]:
    """The client's key (checked; a bad or missing-when-required one: 403), its rate (429), and the subdistrict it
    reads: the key's, or the one ``jurisdiction_id`` names (required when there are several)."""
    secret = _param(request, "api_key")
    key = services.key_for(secret) if secret else None
    if (secret or key_required) and key is None:
        raise Refused(403, _("api_key is missing or not valid."))
    if key is not None:
        within = throttle.hit("open311_key", str(key.pk), throttle.Rate(key.rate_limit, 60))
    else:
        within = throttle.hit_request(request, "open311")
    if not within:
        raise Refused(429, _("Too many requests: wait a minute."))
    jurisdiction = _param(request, "jurisdiction_id")
    if key is not None:
        if jurisdiction and jurisdiction != key.subdistrict.code:
            raise Refused(400, _("jurisdiction_id is not the one this api_key is issued for."))
        return key, key.subdistrict
    if jurisdiction:
        subdistrict = selectors.subdistrict_by_code(jurisdiction)
        if subdistrict is None:
            raise Refused(404, fmt_message(_("No jurisdiction %(id)s."), id=jurisdiction))
        return None, subdistrict
    found = selectors.subdistricts()
    if len(found) != 1:
        raise Refused(400, _("jurisdiction_id is required: this server serves several subdistricts."))
    return None, found[0]


View = Callable[..., HttpResponse]


def _guarded(view: View) -> View:
    """Refusals in the spec's error format."""

    def wrapper(request: HttpRequest, fmt: str, **kwargs: str) -> HttpResponse:
        try:
            response: HttpResponse = view(request, fmt, **kwargs)
            return response
        except Refused as refused:
            return render.error(fmt, refused.http_status, str(refused.description))
        except ValidationFailed as failed:
            lines = [f"{d.field}: {d.message}" if d.field else str(d.message) for d in failed.details]
            return render.error(fmt, 400, lines or [str(failed.message)])

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@require_GET
@_guarded
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311-root"))
    data = {
        "changeset": CHANGESET,
        "contact": getattr(settings, "GONGZHI_OPEN311_CONTACT", ""),
        "key_service": getattr(settings, "GONGZHI_OPEN311_KEY_SERVICE", ""),
        "endpoints": [
            {
                "specification": SPEC,
                "url": base.rstrip("/"),
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render.respond(fmt, data, root="discovery")


def _service(category: Category) -> dict[str, object]:
    return {
        "service_code": selectors.service_code(category),
        "service_name": category.name,
        "description": str(category),
        "metadata": False,  # no category asks for extra attributes (docs/open311.md)
        "type": "realtime",
        "keywords": ",".join(category.keyword_list),
        "group": str(category.parent) if category.parent else "",
    }


@require_GET
@_guarded
def services_list(request: HttpRequest, fmt: str) -> HttpResponse:
    _client(request)
    rows = [_service(c) for c in selectors.reportable_categories()]
    return render.respond(fmt, rows, root="services", item="service")


@require_GET
@_guarded
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    """No category has attributes, so no service has a definition: a 404 for every code (docs/open311.md)."""
    _client(request)
    category = selectors.category_for(code)
    if category is None:
        raise Refused(404, fmt_message(_("No service %(code)s."), code=code))
    raise Refused(404, fmt_message(_("Service %(code)s has no attributes to define."), code=code))


def _w3c(value: str, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(value.replace(" ", "+"))  # a "+08:00" sent unencoded in a query string arrives as " "
    except ValueError:
        parsed = None
    if parsed is None:
        raise Refused(400, fmt_message(_("%(name)s is not a W3C date and time."), name=name))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _int(value: str, name: str, default: int) -> int:
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise Refused(400, fmt_message(_("%(name)s must be a positive whole number."), name=name))
    return int(value)


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _filters(request: HttpRequest) -> selectors.Filters:
    statuses = _list(_param(request, "status").lower())
    if any(s not in ("open", "closed") for s in statuses):
        raise Refused(400, _("status is open or closed."))
    start = _w3c(_param(request, "start_date"), "start_date")
    end = _w3c(_param(request, "end_date"), "end_date")
    if start and end and start > end:
        raise Refused(400, _("start_date is after end_date."))
    return selectors.Filters(
        ids=_list(_param(request, "service_request_id")),
        service_codes=_list(_param(request, "service_code")),
        start=start,
        end=end,
        statuses=statuses,
        page=_int(_param(request, "page"), "page", 1),
        page_size=_int(_param(request, "page_size"), "page_size", selectors.MAX_REQUESTS),
    )


@csrf_exempt  # a client app's POST, authenticated by its api_key, never by a browser session
@require_http_methods(["GET", "POST"])
@_guarded
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    subdistrict = _client(request)[1]
    rows = selectors.request_rows(selectors.requests(subdistrict, _filters(request)))
    return render.respond(fmt, rows, root="service_requests", item="request")


def _float(value: str, name: str) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        raise Refused(400, fmt_message(_("%(name)s is not a number."), name=name)) from None


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    key, subdistrict = _client(request, key_required=True)
    assert key is not None
    code = _param(request, "service_code")
    if not code:
        raise Refused(400, _("service_code is required."))
    category = selectors.category_for(code)
    if category is None:
        raise Refused(400, fmt_message(_("service_code %(code)s is not a service of this server."), code=code))
    lat, lng = _float(_param(request, "lat"), "lat"), _float(_param(request, "long"), "long")
    if (lat is None) != (lng is None):
        raise Refused(400, _("lat and long go together."))
    address = _param(request, "address_string")
    address_id = _param(request, "address_id")
    node_id = None
    if address_id:
        node = selectors.node_in(subdistrict, address_id)
        if node is None:
            raise Refused(400, fmt_message(_("address_id %(id)s is no place of this jurisdiction."), id=address_id))
        node_id = node.pk
    if lat is None and not address and node_id is None:
        raise Refused(400, _("A location is required: lat and long, address_string or address_id."))
    description = _param(request, "description")
    if len(description) > MAX_DESCRIPTION:
        raise Refused(400, fmt_message(_("description is at most %(n)s characters."), n=MAX_DESCRIPTION))
    attributes = {m.group(1): str(v).strip() for k, v in request.POST.items() if (m := ATTRIBUTE.match(k))}
    name = " ".join(p for p in (_param(request, "first_name"), _param(request, "last_name")) if p)
    phone = "".join(ch for ch in _param(request, "phone") if ch.isdigit())[-20:]
    title = description.splitlines()[0][:60] if description else category.name
    case = services.submit_request(
        key=key,
        category_id=category.pk,
        title=title,
        description=description,
        lat=lat,
        lng=lng,
        address=address[:200],
        node_id=node_id,
        reporter_name=name[:60],
        reporter_phone=phone,
        email=_param(request, "email"),
        device_id=_param(request, "device_id"),
        account_id=_param(request, "account_id"),
        media_url=_param(request, "media_url"),
        attributes=attributes,
        files=request.FILES.getlist("media"),
    )
    notice = str(_("Placed at the subdistrict desk: the location matched no grid.")) if case.unplaced else ""
    row = {
        "service_request_id": case.number,
        "service_notice": notice,
        "account_id": _param(request, "account_id") or None,
    }
    return render.respond(fmt, [row], root="service_requests", item="request", status=201)


@require_GET
@_guarded
def request_detail(request: HttpRequest, fmt: str, service_request_id: str) -> HttpResponse:
    subdistrict = _client(request)[1]
    case = selectors.request_by_id(subdistrict, service_request_id)
    if case is None:
        raise Refused(404, fmt_message(_("No request %(id)s."), id=service_request_id))
    return render.respond(fmt, selectors.request_rows([case]), root="service_requests", item="request")


@require_GET
@_guarded
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    """Requests are created at once, so a request's token is its id (docs/open311.md)."""
    subdistrict = _client(request)[1]
    case = selectors.request_by_id(subdistrict, token)
    if case is None:
        raise Refused(404, fmt_message(_("No request for token %(token)s."), token=token))
    row = {"service_request_id": case.number, "token": token}
    return render.respond(fmt, [row], root="service_requests", item="request")
