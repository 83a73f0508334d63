"""Reads of the three lists. Every function that serves a user starts from ``restrict(user, action)``.

Suggestions are computed on what the user may see: a need's page suggests the resources the reader sees (a
community's staff: the resources on their ground and above it; a unit: its own), a resource's page the open needs
the reader sees (a unit: the needs of its ground — where it sits and the communities it signed with).
The past performance of a unit (completed projects per category) is an aggregate over all accepted projects: a
count, no project shown.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Q, QuerySet, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import ErrorDetail, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import CODE_LEVELS, ScopedQuerySet, code_prefix_q
from gongzhi.participation import matching
from gongzhi.participation.choices import (
    PUBLIC_WISH_STATES,
    ClaimantKind,
    NeedStatus,
    ProjectState,
    WishState,
)
from gongzhi.participation.models import (
    Match,
    Milestone,
    Need,
    NeedCategory,
    ProgressReport,
    Project,
    Resource,
    Wish,
    unit_grounds,
)
from gongzhi.registry.selectors import UNIT_KINDS
from gongzhi.territory import selectors as territory
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Body, Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

SUGGESTIONS = 5
MIN_YEAR, MAX_YEAR = 2000, 2100
SUBDISTRICT = CODE_LEVELS[0]


def categories() -> list[NeedCategory]:
    """Reference data: every active category (the same for everyone)."""
    return list(NeedCategory.objects.filter(is_active=True).order_by("order", "name"))


def communities(*, user: User) -> list[Node]:
    """The communities and villages whose lists the user may read (for the lists' place filter)."""
    return territory.places_for(
        user=user, label="participation.need", action="view", kinds=(NodeKind.COMMUNITY, NodeKind.VILLAGE)
    )


def places_for_needs(*, user: User) -> list[Node]:
    """Where the user may list a need: communities, villages, grids and buildings of their ground."""
    kinds = (NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID)
    return territory.places_for(user=user, label="participation.need", action="add", kinds=kinds)


def places_for_resources(*, user: User) -> list[Node]:
    kinds = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID)
    places = territory.places_for(user=user, label="participation.resource", action="add", kinds=kinds)
    if places:
        return places
    # A unit has no ground of its own: it offers where it sits and on the ground of its agreements.
    grounds = unit_grounds(user.scope_for("participation.resource", "add").bodies)
    if not grounds:
        return []
    within = Q(pk__in=[])
    for prefix in grounds:
        within |= code_prefix_q("code", prefix)
    return list(Node.objects.filter(within, kind__in=kinds).order_by("code")[:500])


def my_units(*, user: User, action: str = "add", label: str = "participation.match") -> list[Body]:
    """The units (co-building units, schools, companies …) the user acts for, with the right ``action``."""
    scope = user.scope_for(label, action)
    if not scope.bodies:
        return []
    return list(Body.objects.filter(pk__in=sorted(scope.bodies), kind__in=UNIT_KINDS).order_by("name"))


def unit_choices(*, user: User) -> list[Body]:
    """The units a resource can be listed for: the user's own units, or (staff) the units in scope."""
    mine = my_units(user=user, label="participation.resource")
    if mine:
        return mine
    return list(territory.body_list(user=user).filter(kind__in=UNIT_KINDS).order_by("name")[:500])


def _in_place(qs: ScopedQuerySet[Any], path: str, place: Node | None) -> ScopedQuerySet[Any]:
    return qs.filter(code_prefix_q(path, place.code)) if place is not None else qs


# --- needs ------------------------------------------------------------------------------------------------------------


def need_list(
    *,
    user: User,
    place: Node | None = None,
    status: str | None = None,
    category_id: int | None = None,
    q: str | None = None,
) -> QuerySet[Need]:
    qs = Need.objects.restrict(user, "view").select_related("category", "place", "unit")
    qs = _in_place(qs, "place_code", place)
    if status:
        qs = qs.filter(status=status)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q))
    return qs.order_by("-created_at", "-id")


def need_get(*, user: User, need_id: int, action: str = "view") -> Need:
    queryset = Need.objects.select_related("category", "place", "unit", "source_case", "created_by")
    return get_in_scope(Need, user, need_id, action, queryset=queryset)


def active_match(*, need: Need) -> Match | None:
    return need.matches.filter(state__in=["confirmed", "claimed"]).select_related("unit", "resource").first()


# --- resources ------------------------------------------------------------------------------------------------------


def resource_list(
    *,
    user: User,
    place: Node | None = None,
    unit_id: int | None = None,
    kind: str | None = None,
    category_id: int | None = None,
    q: str | None = None,
    available: bool = False,
) -> QuerySet[Resource]:
    qs = Resource.objects.restrict(user, "view").select_related("unit", "category", "place")
    if place is not None:
        # What serves a place: resources on it and under it, and those offered above it (the subdistrict's units).
        above = [place.code[:n] for n in CODE_LEVELS if n < len(place.code)]
        qs = qs.filter(code_prefix_q("place__code", place.code) | Q(place__code__in=above))
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    if kind:
        qs = qs.filter(kind=kind)
    if category_id:
        qs = qs.filter(category_id=category_id)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(description__icontains=q))
    if available:
        qs = qs.filter(is_active=True, capacity_left__gt=0)
    return qs.order_by("-created_at", "-id")


def resource_get(*, user: User, resource_id: int, action: str = "view") -> Resource:
    queryset = Resource.objects.select_related("unit", "category", "place", "agreement")
    return get_in_scope(Resource, user, resource_id, action, queryset=queryset)


def may_reveal_contact(*, user: User, resource: Resource) -> bool:
    return Resource.objects.restrict(user, "reveal").filter(pk=resource.pk).exists()


# --- projects -------------------------------------------------------------------------------------------------------


def project_list(
    *,
    user: User,
    place: Node | None = None,
    state: str | None = None,
    unit_id: int | None = None,
    year: int | None = None,
    reached: bool = False,
) -> QuerySet[Project]:
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed(
            _("The list cannot be shown."),
            [ErrorDetail(field="year", message=fmt(_("a year from %(low)s to %(high)s"), low=MIN_YEAR, high=MAX_YEAR))],
        )
    qs = Project.objects.restrict(user, "view").select_related("unit", "need", "need__category", "place")
    qs = _in_place(qs, "place_code", place)
    if state:
        qs = qs.filter(state=state)
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    if year:
        qs = qs.filter(created_at__year=year)
    if reached:
        qs = qs.filter(people_served__gt=0)
    return qs.order_by("-created_at", "-id")


def project_get(*, user: User, project_id: int, action: str = "view") -> Project:
    queryset = Project.objects.select_related(
        "unit", "need", "need__category", "place", "agreement", "owner", "match", "match__resource"
    )
    return get_in_scope(Project, user, project_id, action, queryset=queryset)


def milestones(*, user: User, project: Project) -> list[Milestone]:
    return list(Milestone.objects.restrict(user, "view").filter(project=project).order_by("order", "id"))


def reports(*, user: User, project: Project) -> list[ProgressReport]:
    qs = ProgressReport.objects.restrict(user, "view").filter(project=project).select_related("author")
    return list(qs.order_by("-created_at", "-id"))


def may(*, user: User, label: str, action: str, place_code: str) -> bool:
    """May the user ``action`` rows of ``label`` on this place through their ground (not through a body)?"""
    scope = user.scope_for(label, action)
    return scope.everything or any(place_code.startswith(p) for p in scope.prefixes)


# --- suggestions ----------------------------------------------------------------------------------------------------


def done_counts() -> dict[tuple[int, int], int]:
    """Completed (accepted) projects per (unit, need category): the units' track record, an aggregate."""
    rows = (
        Project.objects.filter(state=ProjectState.ACCEPTED)
        .values_list("unit_id", "need__category_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(unit_id, category_id): n for unit_id, category_id, n in rows}


def need_row(need: Need) -> matching.NeedRow:
    text = " ".join(filter(None, [need.title, need.description, need.category.name, need.beneficiaries]))
    return matching.NeedRow(
        id=need.pk,
        text=text,
        category_id=need.category_id,
        category_name=need.category.name,
        lat=need.lat,
        lng=need.lng,
        slots=matching.slot_bits(need.slots),
        beneficiary_count=need.beneficiary_count,
    )


def resource_row(res: Resource) -> matching.ResourceRow:
    category = res.category.name if res.category is not None else ""
    return matching.ResourceRow(
        id=res.pk,
        text=" ".join(filter(None, [res.title, res.description, category])),
        category_id=res.category_id,
        unit_id=res.unit_id,
        lat=res.lat,
        lng=res.lng,
        slots=matching.slot_bits(res.slots),
        capacity_left=res.capacity_left,
    )


@dataclass
class Suggested:
    suggestion: matching.Suggestion
    resource: Resource | None = None
    need: Need | None = None


def candidate_resources(*, user: User, need: Need) -> QuerySet[Resource]:
    qs = Resource.objects.restrict(user, "view").filter(is_active=True, capacity_left__gt=0)
    return qs.filter(code_prefix_q("place__code", need.place_code[:SUBDISTRICT])).select_related("unit", "category")


def candidate_needs(*, user: User, resource: Resource) -> QuerySet[Need]:
    qs = Need.objects.restrict(user, "view").filter(status=NeedStatus.OPEN)
    return qs.filter(code_prefix_q("place_code", resource.place.code[:SUBDISTRICT])).select_related("category", "place")


def need_suggestions(*, user: User, need: Need, k: int = SUGGESTIONS) -> list[Suggested]:
    """The resources that could serve this need, best first, each explained (none once the need is taken)."""
    if need.status != NeedStatus.OPEN:
        return []
    resources = {r.pk: r for r in candidate_resources(user=user, need=need)}
    scored = matching.score_all([need_row(need)], [resource_row(r) for r in resources.values()], done_counts())
    found = matching.for_each_need(scored, k).get(need.pk, [])
    return [Suggested(s, resource=resources[s.resource_id]) for s in found]


def resource_suggestions(*, user: User, resource: Resource, k: int = SUGGESTIONS) -> list[Suggested]:
    """The open needs this resource could serve, best first, each explained (none once its capacity is used up)."""
    if not resource.is_active or resource.capacity_left <= 0:
        return []
    needs = {n.pk: n for n in candidate_needs(user=user, resource=resource)}
    scored = matching.score_all([need_row(n) for n in needs.values()], [resource_row(resource)], done_counts())
    found = matching.for_each_resource(scored, k).get(resource.pk, [])
    return [Suggested(s, need=needs[s.need_id]) for s in found]


def needs_for_unit(*, user: User, resources: list[Resource], k: int = 8) -> list[Suggested]:
    """The open needs a unit could take on with its resources, best first (one scoring of every pair): each need
    once, with the resource that fits it best and why."""
    offered = [r for r in resources if r.is_active and r.capacity_left > 0]
    if not offered:
        return []
    within = Q(pk__in=[])
    for prefix in sorted({r.place.code[:SUBDISTRICT] for r in offered}):
        within |= code_prefix_q("place_code", prefix)
    open_needs = Need.objects.restrict(user, "view").filter(within, status=NeedStatus.OPEN)
    needs = {n.pk: n for n in open_needs.select_related("category", "place")[:2000]}
    by_id = {r.pk: r for r in offered}
    scored = matching.score_all(
        [need_row(n) for n in needs.values()], [resource_row(r) for r in offered], done_counts()
    )
    best = [found[0] for found in matching.for_each_need(scored, 1).values() if found]
    best.sort(key=lambda s: -s.score)
    return [Suggested(s, resource=by_id[s.resource_id], need=needs[s.need_id]) for s in best[:k]]


def community_suggestions(*, user: User, place: Node, k: int = SUGGESTIONS) -> dict[int, list[matching.Suggestion]]:
    """Suggestions for every open need of a place at once (one scoring of all pairs)."""
    needs = list(need_list(user=user, place=place, status=NeedStatus.OPEN))
    resources = list(resource_list(user=user, place=place, available=True))
    scored = matching.score_all([need_row(n) for n in needs], [resource_row(r) for r in resources], done_counts())
    return matching.for_each_need(scored, k)


# --- a unit's year ----------------------------------------------------------------------------------------------------


@dataclass
class Contribution:
    unit: Body
    year: int
    projects: int = 0
    by_state: dict[str, int] = field(default_factory=dict)
    hours: Decimal = Decimal(0)
    funds: Decimal = Decimal(0)
    people_served: int = 0
    rows: list[Project] = field(default_factory=list)


def unit_get(*, user: User, unit_id: int) -> Body:
    return territory.body_get(user=user, body_id=unit_id)


def contribution(*, user: User, unit: Body, year: int) -> Contribution:
    """A unit's year: its projects begun that year (as the reader sees them), hours, funds and people served."""
    qs = project_list(user=user, unit_id=unit.pk, year=year)
    sums = qs.order_by().aggregate(
        hours=Coalesce(Sum("hours"), Decimal(0)),
        funds=Coalesce(Sum("funds"), Decimal(0)),
        people=Coalesce(Sum("people_served"), 0),
    )
    by_state = dict(qs.order_by().values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    rows = list(qs)
    return Contribution(
        unit=unit,
        year=year,
        projects=len(rows),
        by_state=by_state,
        hours=sums["hours"],
        funds=sums["funds"],
        people_served=sums["people"],
        rows=rows,
    )


# --- figures --------------------------------------------------------------------------------------------------------


@dataclass
class Figure:
    key: str
    value: int | float
    drill: dict[str, Any]  # the list and its filters whose rows make the value


@dataclass
class UnitFigure:
    unit_id: int
    name: str
    projects: int
    hours: Decimal
    funds: Decimal
    people_served: int


def figures(*, user: User, place: Node) -> dict[str, Any]:
    """The participation figures of a place: needs open / matched / closed, projects by state, beneficiaries
    reached, and each unit's contribution — each one exactly the rows of the list it links to."""
    needs = need_list(user=user, place=place).order_by()
    need_counts = dict(needs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    projects = project_list(user=user, place=place).order_by()
    project_counts = dict(projects.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    reached = projects.aggregate(n=Coalesce(Sum("people_served"), 0))["n"]
    out: list[Figure] = []
    for status in (NeedStatus.OPEN, NeedStatus.MATCHED, NeedStatus.CLOSED):
        out.append(Figure(f"needs_{status}", need_counts.get(status, 0), {"list": "needs", "status": status}))
    for state in ProjectState.values:
        out.append(Figure(f"projects_{state}", project_counts.get(state, 0), {"list": "projects", "state": state}))
    out.append(Figure("people_reached", reached, {"list": "projects", "reached": "1"}))
    units = (
        projects.values("unit_id", "unit__name")
        .annotate(
            n=Count("id"),
            hours=Coalesce(Sum("hours"), Decimal(0)),
            funds=Coalesce(Sum("funds"), Decimal(0)),
            people=Coalesce(Sum("people_served"), 0),
        )
        .order_by("-n", "unit__name")
    )
    unit_rows = [UnitFigure(u["unit_id"], u["unit__name"], u["n"], u["hours"], u["funds"], u["people"]) for u in units]
    return {"figures": out, "units": unit_rows}


def this_year() -> int:
    return datetime.date.today().year


# --- micro-wishes (微心愿) -------------------------------------------------------------------------------------------

# The stages a wish has reached (the figures count them, the list filters by them): every wish put on the wall,
# those claimed (and still held or done), those fulfilled, those confirmed, those waiting for a claimant.
WISH_STAGES = {
    "published": ~Q(state=WishState.WITHDRAWN),
    "waiting": Q(state=WishState.PUBLISHED),
    "claimed": Q(state__in=(WishState.CLAIMED, WishState.FULFILLED, WishState.CONFIRMED)),
    "fulfilled": Q(state__in=(WishState.FULFILLED, WishState.CONFIRMED)),
    "confirmed": Q(state=WishState.CONFIRMED),
}


def wish_list(
    *,
    user: User,
    place: Node | None = None,
    state: str | None = None,
    stage: str | None = None,
    claimant_kind: str | None = None,
    mine: bool = False,
) -> QuerySet[Wish]:
    qs = Wish.objects.restrict(user, "view").select_related("place", "claimant_unit", "category")
    qs = _in_place(qs, "place_code", place)
    if state:
        qs = qs.filter(state=state)
    if stage in WISH_STAGES:
        qs = qs.filter(WISH_STAGES[stage])
    if claimant_kind:
        qs = qs.filter(claimant_kind=claimant_kind)
    if mine:
        qs = qs.filter(
            Q(claimant=user) | Q(claimant_unit_id__in=sorted(user.scope_for("participation.wish", "change").bodies))
        )
    return qs.order_by("-created_at", "-id")


def wish_get(*, user: User, wish_id: int, action: str = "view") -> Wish:
    queryset = Wish.objects.select_related("place", "claimant_unit", "category", "recorded_by", "claimant")
    return get_in_scope(Wish, user, wish_id, action, queryset=queryset)


def people_for_wishes(*, user: User) -> QuerySet[Any]:
    """The residents a grid worker may record a wish for (the registry, in scope)."""
    from gongzhi.registry.models import Person

    return Person.objects.restrict(user, "view").filter(is_active=True, household__isnull=False).order_by("name", "id")


@dataclass(frozen=True)
class PublicWish:
    """What the public wall shows of a wish — nothing else is read."""

    id: int
    title: str
    description: str
    category: str
    public_name: str
    age_band: str
    grid: str
    state: str
    state_label: str
    claimed_by: str
    created_at: datetime.datetime


def public_community(*, code: str) -> Node | None:
    """A community (or village) by its code, for the public pages (no account): only its name and code are shown."""
    return Node.objects.filter(code=code, kind__in=(NodeKind.COMMUNITY, NodeKind.VILLAGE)).first()


def public_communities() -> list[Node]:
    return list(Node.objects.filter(kind__in=(NodeKind.COMMUNITY, NodeKind.VILLAGE)).order_by("code")[:200])


def public_wall(*, community: Node, limit: int = 200) -> list[PublicWish]:
    """心愿墙: a community's wishes as the public sees them — never the person, their phone, ID or household; a
    party member or volunteer claimant shown by kind only, a unit by its name."""
    labels = dict(WishState.choices)
    kinds = dict(ClaimantKind.choices)
    rows = (
        Wish.objects.filter(community_code=community.code, state__in=PUBLIC_WISH_STATES)
        .order_by("state", "-created_at", "-id")
        .values(
            "id", "title", "description", "category__name", "public_name", "age_band", "place__name", "state",
            "claimant_kind", "claimant_unit__name", "created_at",
        )[:limit]
    )  # fmt: skip
    order: dict[str, int] = {str(s): i for i, s in enumerate(PUBLIC_WISH_STATES)}
    out = [
        PublicWish(
            id=r["id"],
            title=r["title"],
            description=r["description"],
            category=r["category__name"] or "",
            public_name=r["public_name"],
            age_band=r["age_band"],
            grid=r["place__name"],
            state=r["state"],
            state_label=str(labels.get(r["state"], "")),
            claimed_by=(r["claimant_unit__name"] or str(kinds.get(r["claimant_kind"], "")))
            if r["claimant_kind"]
            else "",
            created_at=r["created_at"],
        )
        for r in rows
    ]
    return sorted(out, key=lambda w: order.get(w.state, 9))


@dataclass(frozen=True)
class PublicProject:
    title: str
    unit: str
    state: str
    state_label: str
    progress: int
    people_served: int
    milestones: list[tuple[str, bool]]
    photos: list[int]  # progress report ids with a photo (served by the public photo view)


def public_projects(*, community: Node) -> list[PublicProject]:
    """A community's projects as the public sees them: title, unit, state, progress %, milestones, photos."""
    labels = dict(ProjectState.choices)
    projects = list(
        Project.objects.filter(place_code__startswith=community.code)
        .exclude(state=ProjectState.CANCELLED)
        .select_related("unit")
        .order_by("-created_at", "-id")[:100]
    )
    ids = [p.pk for p in projects]
    stones: dict[int, list[tuple[str, bool]]] = {}
    for m in Milestone.objects.filter(project_id__in=ids).order_by("order", "id"):
        stones.setdefault(m.project_id, []).append((m.title, m.done_at is not None))
    photos: dict[int, list[int]] = {}
    for pid, rid in ProgressReport.objects.filter(project_id__in=ids).exclude(photo="").values_list("project_id", "id"):
        photos.setdefault(pid, []).append(rid)
    return [
        PublicProject(
            title=p.title,
            unit=p.unit.name,
            state=p.state,
            state_label=str(labels.get(p.state, "")),
            progress=p.progress,
            people_served=p.people_served,
            milestones=stones.get(p.pk, []),
            photos=photos.get(p.pk, [])[:6],
        )
        for p in projects
    ]


def public_photo(*, community: Node, report_id: int) -> ProgressReport | None:
    return (
        ProgressReport.objects.filter(pk=report_id, project__place_code__startswith=community.code)
        .exclude(photo="")
        .exclude(project__state=ProjectState.CANCELLED)
        .first()
    )


@dataclass
class WishFigures:
    cards: list[Figure]
    by_kind: list[Figure]
    by_community: list[tuple[Node, list[Figure]]]
    days_to_fulfil: float | None


def wish_figures(*, user: User, place: Node) -> WishFigures:
    """Wishes published, claimed, fulfilled (and confirmed, and waiting) of a place, by claimant kind and by
    community, and the mean days from recording to fulfilment — each count exactly its list's rows."""
    wishes = wish_list(user=user, place=place).order_by()
    agg = wishes.aggregate(**{stage: Count("id", filter=q) for stage, q in WISH_STAGES.items()})
    cards = [Figure(f"wishes_{stage}", agg[stage], {"list": "wishes", "stage": stage}) for stage in WISH_STAGES]
    claimed = wishes.filter(WISH_STAGES["claimed"])
    per_kind = dict(claimed.values_list("claimant_kind").annotate(n=Count("id")).values_list("claimant_kind", "n"))
    by_kind = [
        Figure(kind, per_kind.get(kind, 0), {"list": "wishes", "stage": "claimed", "claimant_kind": kind})
        for kind in ClaimantKind.values
    ]
    communities = list(
        Node.objects.filter(code__startswith=place.code, kind__in=(NodeKind.COMMUNITY, NodeKind.VILLAGE)).order_by(
            "code"
        )
    )
    if place.kind in (NodeKind.COMMUNITY, NodeKind.VILLAGE):
        communities = [place]
    per_community: dict[str, dict[str, Any]] = {
        r["community_code"]: dict(r)
        for r in wishes.values("community_code").annotate(
            **{stage: Count("id", filter=WISH_STAGES[stage]) for stage in ("published", "claimed", "fulfilled")}
        )
    }
    by_community = [
        (
            c,
            [
                Figure(
                    stage,
                    per_community.get(c.code, {}).get(stage, 0),
                    {"list": "wishes", "stage": stage, "place": c.pk},
                )
                for stage in ("published", "claimed", "fulfilled")
            ],
        )
        for c in communities
        if c.code in per_community
    ]
    done = [
        (f - c).total_seconds()
        for c, f in wishes.filter(fulfilled_at__isnull=False).values_list("created_at", "fulfilled_at")
        if f is not None
    ]
    days = round(sum(done) / len(done) / 86400, 1) if done else None
    return WishFigures(cards=cards, by_kind=by_kind, by_community=by_community, days_to_fulfil=days)
