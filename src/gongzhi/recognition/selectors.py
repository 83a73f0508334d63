"""Reads of recognition (评选). Staff pages start from ``restrict(user, action)``; the public pages (a campaign open
to public voting, published results) read only what the public may see: the candidates' names as the campaign
shows them, their reasons and citations, the vote counts — never a phone, an ID number or a voter.

The past recognition of a registry household or person (:func:`household_awards`, :func:`person_awards`) is read
here and loaded into the registry's pages as an HTMX fragment, so the registry never imports this app.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Avg, Count, Q, QuerySet

from gongzhi.accounts.models import User
from gongzhi.accounts.models import User as UserModel
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import NotFound
from gongzhi.core.scope import ScopedQuerySet, code_prefix_q
from gongzhi.recognition import services
from gongzhi.recognition.choices import NominationStatus, Stage
from gongzhi.recognition.models import Campaign, Nomination, PanelMember, Review, Vote
from gongzhi.registry import selectors as registry
from gongzhi.registry.models import Person
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Node

SHOWN = (NominationStatus.NOMINATED, NominationStatus.CANDIDATE, NominationStatus.AWARDED, NominationStatus.NOT_AWARDED)


def campaign_list(*, user: User, stage: str | None = None) -> ScopedQuerySet[Campaign]:
    qs = (
        Campaign.objects.restrict(user, "view")
        .select_related("area", "owner_body")
        .annotate(
            candidates=Count("nominations", filter=Q(nominations__status__in=SHOWN), distinct=True),
        )
    )
    if stage:
        qs = qs.filter(stage=stage)
    return qs


def campaign_get(*, user: User, campaign_id: int) -> Campaign:
    """A campaign in scope, or one whose panel the user sits on (a secretary of another community on the panel)."""
    try:
        return get_in_scope(Campaign, user, campaign_id, "view", campaign_list(user=user))
    except NotFound:
        if not PanelMember.objects.filter(campaign_id=campaign_id, user=user).exists():
            raise
        return Campaign.objects.select_related("area", "owner_body").get(pk=campaign_id)


def may_manage(*, user: User, campaign: Campaign) -> bool:
    return services.may_manage(user, campaign)


def is_panel_member(*, user: User, campaign: Campaign) -> bool:
    return services.is_panel_member(user, campaign)


def panel(*, user: User, campaign: Campaign) -> QuerySet[PanelMember]:
    return PanelMember.objects.restrict(user, "view").filter(campaign=campaign).select_related("user")


def nominations(*, user: User, campaign: Campaign, status: str | None = None) -> QuerySet[Nomination]:
    """The nominations of a campaign the user may see (staff: all of the ground; a nominator: their own), with the
    votes (and how many of them are flagged) and the panel's approvals and mean score."""
    panel_member = is_panel_member(user=user, campaign=campaign)
    # The panel reads all the campaign's nominations, wherever its members' own ground is.
    base = Nomination.objects.all() if panel_member else Nomination.objects.restrict(user, "view")
    qs = (
        base.filter(campaign=campaign)
        .select_related("household", "person", "place__parent", "nominated_by")
        .annotate(
            vote_count=Count("votes", distinct=True),
            flagged_count=Count("votes", filter=Q(votes__flagged=True), distinct=True),
            approvals=Count("reviews", filter=Q(reviews__approve=True), distinct=True),
            review_count=Count("reviews", distinct=True),
            mean_score=Avg("reviews__score"),
        )
        .order_by("status", "-vote_count", "id")
    )
    if status:
        qs = qs.filter(status=status)
    return qs


def nomination_get(*, user: User, nomination_id: int) -> Nomination:
    base = Nomination.objects.select_related("campaign__area", "household", "person", "place")
    try:
        return get_in_scope(Nomination, user, nomination_id, "view", base)
    except NotFound:
        found = base.filter(pk=nomination_id, campaign__panel__user=user).first()
        if found is None:
            raise
        return found


def my_reviews(*, user: User, campaign: Campaign) -> dict[int, Review]:
    rows = Review.objects.restrict(user, "view").filter(nomination__campaign=campaign, member=user)
    return {r.nomination_id: r for r in rows}


def flagged_votes(*, user: User, campaign: Campaign) -> QuerySet[Vote]:
    """The flagged votes, for the panel (no phone: only its hash's first characters identify a voter)."""
    base = Vote.objects.all() if is_panel_member(user=user, campaign=campaign) else Vote.objects.restrict(user, "view")
    return base.filter(campaign=campaign, flagged=True).select_related("nomination__household", "nomination__person")


def flag_counts(*, user: User, campaign: Campaign) -> dict[str, int]:
    counts: dict[str, int] = {}
    for flags in flagged_votes(user=user, campaign=campaign).values_list("flags", flat=True):
        for flag in flags or []:
            counts[flag] = counts.get(flag, 0) + 1
    return counts


def my_votes(*, user: Any, campaign: Campaign) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Vote.objects.restrict(user, "view").filter(campaign=campaign, user=user).values_list("nomination_id", flat=True)
    )


# --- public (no account) ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicCandidate:
    id: int
    name: str
    where: str
    reasons: dict[str, str]
    votes: int
    awarded: bool
    citation: str


def public_campaign(*, campaign_id: int) -> Campaign | None:
    """A campaign the public may see: one that votes in public, or whose results are published."""
    return (
        Campaign.objects.select_related("area")
        .filter(pk=campaign_id)
        .filter(Q(public_voting=True) & Q(stage__in=[Stage.VOTING, Stage.REVIEW]) | Q(stage=Stage.PUBLISHED))
        .first()
    )


def public_campaigns() -> QuerySet[Campaign]:
    return (
        Campaign.objects.select_related("area")
        .filter(Q(public_voting=True, stage=Stage.VOTING) | Q(stage=Stage.PUBLISHED))
        .order_by("-published_at", "-created_at")
    )


def _public_name(n: Nomination) -> str:
    """A household as its building and door (1号楼1单元101), a person by name."""
    if n.household is not None:
        building = n.household.parent
        return f"{building.name if building else ''}{n.household.name}"
    return str(n.person.name if n.person else "")


def _where(n: Nomination) -> str:
    """The community (or village) the nominee lives in."""
    node: Any = n.place
    while node is not None and node.kind not in (NodeKind.COMMUNITY, NodeKind.VILLAGE):
        node = node.parent
    return str(node.name) if node is not None else ""


def public_candidates(*, campaign: Campaign, awarded_only: bool = False) -> list[PublicCandidate]:
    statuses = [NominationStatus.AWARDED] if awarded_only else [NominationStatus.CANDIDATE, NominationStatus.AWARDED]
    rows = (
        Nomination.objects.filter(campaign=campaign, status__in=statuses)
        .select_related("household__parent", "person", "place__parent__parent__parent__parent")
        .annotate(vote_count=Count("votes"))
        .order_by("id")
    )
    return [
        PublicCandidate(
            id=n.pk,
            name=_public_name(n),
            where=_where(n),
            reasons=dict(n.reasons or {}),
            votes=int(getattr(n, "vote_count", 0)),
            awarded=n.status == NominationStatus.AWARDED and campaign.stage == Stage.PUBLISHED,
            citation=n.citation if campaign.stage == Stage.PUBLISHED else "",
        )
        for n in rows
    ]


# --- past recognition of a household or person (the registry pages' fragment) -----------------------------------------


def _awards(user: User) -> QuerySet[Nomination]:
    return (
        Nomination.objects.restrict(user, "view")
        .filter(status=NominationStatus.AWARDED, campaign__stage=Stage.PUBLISHED)
        .select_related("campaign", "person")
        .order_by("-campaign__published_at", "-id")
    )


def household_awards(*, user: User, household_id: int) -> list[Nomination]:
    """The household's recognition and its residents' (in scope: 404 for a household the user may not see)."""
    node = registry.household_get(user=user, household_id=household_id)
    return list(_awards(user).filter(Q(household=node) | Q(person__household=node)))


def person_awards(*, user: User, person_id: int) -> list[Nomination]:
    person = registry.person_get(user=user, person_id=person_id)
    return list(_awards(user).filter(person=person))


def average(value: Any) -> Decimal | None:
    if value is None:
        return None
    return Decimal(value).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --- choices for the forms -------------------------------------------------------------------------------------------


def nominee_households(*, user: User, campaign: Campaign, q: str = "", limit: int = 30) -> list[Any]:
    """Households in the campaign's area the user may nominate: those they see, or (a resident) of their ground."""
    area = code_prefix_q("code", campaign.area.code)
    ground = Q(pk__in=[])
    for code in user.ground_codes():
        ground |= code_prefix_q("code", code)
    seen = Node.objects.restrict(user, "view").filter(kind=NodeKind.HOUSEHOLD).filter(area)
    own = Node.objects.filter(kind=NodeKind.HOUSEHOLD).filter(area).filter(ground)
    qs = seen if seen.exists() else own
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(parent__name__icontains=q))
    return list(qs.select_related("parent").order_by("code")[:limit])


def nominee_people(*, user: User, campaign: Campaign, q: str = "", limit: int = 30) -> list[Any]:
    qs = (
        Person.objects.restrict(user, "view")
        .filter(is_active=True)
        .filter(code_prefix_q("household__code", campaign.area.code))
        .select_related("household")
    )
    if q:
        qs = qs.filter(name__icontains=q)
    return list(qs.order_by("name", "id")[:limit])


def panel_choices(*, user: User, campaign: Campaign, limit: int = 200) -> list[Any]:
    """Users holding a role on the campaign's area (or above it), for naming the panel."""
    codes = [campaign.area.code[:n] for n in (9, 12) if len(campaign.area.code) >= n]
    q = code_prefix_q("role_assignments__node__code", campaign.area.code) | Q(role_assignments__node__code__in=codes)
    return list(UserModel.objects.filter(is_active=True).filter(q).distinct().order_by("username")[:limit])
