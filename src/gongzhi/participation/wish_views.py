"""微心愿 (点亮心愿) pages: the staff list and a wish's page (record, claim, give up, fulfil, confirm), and the public
pages readable without an account — a community's wish wall (心愿墙) and its projects' progress.

The public pages follow the public case pages (``cases.views.public_*``): no log-in, the site's CSP (no inline
script), counted per client address (``core.throttle``, rate ``public_wall``), and they read only what the public
may see through ``selectors.public_wall`` / ``public_projects`` (no person, phone, ID or household).
Views hold no business logic: reads through ``participation.selectors``, writes through ``participation.services``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gongzhi.accounts import pages
from gongzhi.core import throttle
from gongzhi.core.errors import Conflict, ValidationFailed
from gongzhi.core.forms import add_service_errors
from gongzhi.core.http import AuthedRequest, int_param
from gongzhi.core.privacy import mask_id_number
from gongzhi.participation import selectors, services
from gongzhi.participation.choices import ClaimantKind, WishState
from gongzhi.participation.forms import FulfilForm, WishForm
from gongzhi.territory import selectors as territory

PAGE_SIZE = 20



# --- staff and claimants ---------------------------------------------------------------------------------------------


@login_required
@pages.page("participation-wishes")
def wish_list(request: AuthedRequest) -> HttpResponse:
    """The wishes on the user's ground (grid workers, staff) or theirs to take on (units, party members)."""
    user = request.user
    place_id = int_param(request.GET.get("place"))
    place = territory.node_get(user=user, node_id=place_id) if place_id else None
    state = request.GET.get("state") or None
    stage = request.GET.get("stage") or None
    kind = request.GET.get("claimant_kind") or None
    mine = request.GET.get("mine") == "1"
    qs = selectors.wish_list(user=user, place=place, state=state, stage=stage, claimant_kind=kind, mine=mine)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "participation/wishes/list.html",
        {
            "page": page,
            "place": place,
            "state": state,
            "stage": stage,
            "claimant_kind": kind,
            "mine": mine,
            "states": WishState.choices,
            "kinds": ClaimantKind.choices,
            "communities": selectors.communities(user=user),
            "may_record": not user.scope_for("participation.wish", "add").is_empty,
            "may_claim": services.claimant_of(user) is not None,
        },
    )


def _wish_context(request: AuthedRequest, wish_id: int, **extra: Any) -> dict[str, Any]:
    user = request.user
    wish = selectors.wish_get(user=user, wish_id=wish_id)
    staff = selectors.may(user=user, label="participation.wish", action="add", place_code=wish.place_code)
    claimant = services.claimant_of(user)
    own = wish.claimant_id == user.pk or (
        wish.claimant_unit_id is not None and claimant is not None and claimant[1] is not None
        and claimant[1].pk == wish.claimant_unit_id
    )  # fmt: skip
    return {
        "wish": wish,
        "staff": staff,
        "may_claim": claimant is not None and wish.state == WishState.PUBLISHED,
        "may_give_up": wish.state == WishState.CLAIMED and (own or staff),
        "may_fulfil": wish.state == WishState.CLAIMED and own,
        "may_confirm": staff and wish.state == WishState.FULFILLED,
        "may_withdraw": staff and wish.state == WishState.PUBLISHED,
        "may_reveal": staff and not user.scope_for("participation.wish", "reveal").is_empty,
        "fulfil_form": extra.pop("fulfil_form", None) or FulfilForm(),
        "wall_code": wish.community_code,
        **extra,
    }


@login_required
@pages.page("participation-wishes")
def wish_detail(request: AuthedRequest, wish_id: int) -> HttpResponse:
    return render(request, "participation/wishes/detail.html", _wish_context(request, wish_id))


@login_required
@pages.page("participation-wish-new")
@require_http_methods(["GET", "POST"])
def wish_new(request: AuthedRequest) -> HttpResponse:
    user = request.user
    people = [
        (p.pk, f"{p.name}（{mask_id_number(p.id_number)}）")
        for p in selectors.people_for_wishes(user=user)[:500]
    ]  # fmt: skip
    wanted = int_param(request.GET.get("person") or request.POST.get("person"))
    if wanted and all(pk != wanted for pk, _label in people):  # a resident beyond the first 500, opened by id
        extra = selectors.people_for_wishes(user=user).filter(pk=wanted).first()
        if extra is not None:
            people.insert(0, (extra.pk, f"{extra.name}（{mask_id_number(extra.id_number)}）"))
    initial = {"person": wanted}
    form = WishForm(request.POST or None, initial=initial, people=people, categories=selectors.categories())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            wish = services.record_wish(
                actor=user, person_id=d["person"], title=d["title"], description=d["description"],
                category_id=d["category"], consent_note=d["consent_note"],
            )  # fmt: skip
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The wish is on the wish wall."))
            return redirect("participation-wish", wish_id=wish.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "participation/wishes/new.html", {"form": form}, status=status)


def _act(request: AuthedRequest, wish_id: int, action: Any, done: str) -> HttpResponse:
    """Run a wish's action; a conflict (another claimant won) is shown on the wish's page with a 409."""
    try:
        action()
    except Conflict as exc:
        context = _wish_context(request, wish_id, conflict=str(exc.message))
        return render(request, "participation/wishes/detail.html", context, status=409)
    messages.success(request, done)
    return redirect("participation-wish", wish_id=wish_id)


@login_required
@require_POST
def wish_claim(request: AuthedRequest, wish_id: int) -> HttpResponse:
    return _act(
        request, wish_id, lambda: services.claim_wish(actor=request.user, wish_id=wish_id),
        _("You claimed the wish. Thank you!"),
    )  # fmt: skip


@login_required
@require_POST
def wish_give_up(request: AuthedRequest, wish_id: int) -> HttpResponse:
    return _act(
        request, wish_id, lambda: services.give_up_wish(actor=request.user, wish_id=wish_id),
        _("The claim was given up: the wish is back on the wall."),
    )  # fmt: skip


@login_required
@require_POST
def wish_confirm(request: AuthedRequest, wish_id: int) -> HttpResponse:
    return _act(
        request, wish_id, lambda: services.confirm_wish(actor=request.user, wish_id=wish_id),
        _("Confirmed: the wish is lit."),
    )  # fmt: skip


@login_required
@require_POST
def wish_withdraw(request: AuthedRequest, wish_id: int) -> HttpResponse:
    return _act(
        request, wish_id, lambda: services.withdraw_wish(actor=request.user, wish_id=wish_id),
        _("The wish was taken off the wall."),
    )  # fmt: skip


@login_required
@require_POST
def wish_fulfil(request: AuthedRequest, wish_id: int) -> HttpResponse:
    form = FulfilForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.fulfil_wish(
                actor=request.user, wish_id=wish_id, note=form.cleaned_data["note"], photo=form.cleaned_data["photo"]
            )
        except ValidationFailed as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            context = _wish_context(request, wish_id, conflict=str(exc.message))
            return render(request, "participation/wishes/detail.html", context, status=409)
        else:
            messages.success(request, _("Reported fulfilled: the grid worker will confirm it with the resident."))
            return redirect("participation-wish", wish_id=wish_id)
    context = _wish_context(request, wish_id, fulfil_form=form)
    return render(request, "participation/wishes/detail.html", context, status=400)


@login_required
@require_POST
def wish_reveal(request: AuthedRequest, wish_id: int) -> HttpResponse:
    person = services.reveal_wisher(actor=request.user, wish_id=wish_id)
    context = _wish_context(request, wish_id, wisher=person)
    return render(request, "participation/wishes/detail.html", context)


@login_required
@require_GET
def wish_photo(request: AuthedRequest, wish_id: int) -> HttpResponseBase:
    wish = selectors.wish_get(user=request.user, wish_id=wish_id)
    if not wish.evidence_photo:
        raise Http404
    return FileResponse(wish.evidence_photo.open("rb"))


# --- public (no account) ---------------------------------------------------------------------------------------------


def _public_throttled(request: HttpRequest) -> bool:
    return not throttle.hit_request(request, "public_wall")


def _community_or_404(code: str) -> Any:
    community = selectors.public_community(code=code)
    if community is None:
        raise Http404
    return community


def _too_many(request: HttpRequest) -> HttpResponse:
    return render(
        request, "participation/public/too_many.html", {"error": _("Too many requests. Please try again later.")},
        status=429,
    )  # fmt: skip


@require_GET
def public_index(request: HttpRequest) -> HttpResponse:
    """The communities, each with its wish wall and its projects' page."""
    if _public_throttled(request):
        return _too_many(request)
    return render(request, "participation/public/index.html", {"communities": selectors.public_communities()})


@require_GET
def public_wall(request: HttpRequest, code: str) -> HttpResponse:
    """心愿墙: a community's wishes, no personal data; a logged-in party member, volunteer or unit may claim."""
    if _public_throttled(request):
        return _too_many(request)
    community = _community_or_404(code)
    user = request.user
    may_claim = bool(user.is_authenticated and services.claimant_of(user))
    return render(
        request,
        "participation/public/wall.html",
        {"community": community, "wishes": selectors.public_wall(community=community), "may_claim": may_claim},
    )


@require_GET
def public_projects(request: HttpRequest, code: str) -> HttpResponse:
    """A community's projects: title, unit, state, progress %, milestones, photos — no personal data."""
    if _public_throttled(request):
        return _too_many(request)
    community = _community_or_404(code)
    return render(
        request,
        "participation/public/projects.html",
        {"community": community, "projects": selectors.public_projects(community=community)},
    )


@require_GET
def public_photo(request: HttpRequest, code: str, report_id: int) -> HttpResponseBase:
    community = _community_or_404(code)
    report = selectors.public_photo(community=community, report_id=report_id)
    if report is None:
        raise Http404
    return FileResponse(report.photo.open("rb"))
