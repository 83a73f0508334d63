"""Reads for inspections. Every function that serves a user starts from ``restrict(user, action)``.

The figures (:func:`figures`) count the records that :func:`records` lists: a figure and its drill-down are the same
queryset, counted or paged, so a number always equals the rows behind it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Substr
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import ErrorDetail, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import code_prefix_q
from gongzhi.inspections.choices import HazardStatus, Severity
from gongzhi.inspections.models import Checklist, ChecklistItem, Hazard, HazardCheck, Plan, Round, RoundPhoto, Site
from gongzhi.territory.choices import CODE_LENGTH, NodeKind
from gongzhi.territory.models import Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

GRID_LEN = CODE_LENGTH[NodeKind.GRID]
TODO_DAYS = 31  # a round missed longer ago than this leaves the to-do list (it stays overdue in the figures)


def todo_since(today: datetime.date | None = None) -> datetime.date:
    return (today or timezone.localdate()) - datetime.timedelta(days=TODO_DAYS)


# --- checklists, plans --------------------------------------------------------------------------------------------


def checklist_list(*, user: User) -> QuerySet[Checklist]:
    return (
        Checklist.objects.restrict(user, "view")
        .filter(is_active=True)
        .select_related("area")
        .order_by("area__code", "kind")
    )


def checklist_get(*, user: User, checklist_id: int) -> Checklist:
    return get_in_scope(Checklist, user, checklist_id, queryset=Checklist.objects.select_related("area"))


def checklist_items(*, user: User, checklist: Checklist, active_only: bool = True) -> list[ChecklistItem]:
    qs = ChecklistItem.objects.restrict(user, "view").filter(checklist=checklist)
    if active_only:
        qs = qs.filter(is_active=True)
    return list(qs.order_by("position", "id"))


def plan_list(*, user: User) -> QuerySet[Plan]:
    return Plan.objects.restrict(user, "view").select_related("area").order_by("area__code", "kind", "id")


def site_of(*, user: User, building: Node) -> Site | None:
    return Site.objects.restrict(user, "view").filter(building=building).first()


# --- rounds -------------------------------------------------------------------------------------------------------


def round_list(
    *,
    user: User,
    mine: bool = False,
    todo: bool = False,
    done: bool | None = None,
    building_id: int | None = None,
    within_code: str | None = None,
    due_since: datetime.date | None = None,
) -> QuerySet[Round]:
    """Rounds in scope. ``mine``: assigned to me, or (a building head) of my buildings; ``todo``: not done yet;
    ``due_since``: due on or after that day (a to-do list leaves the long-missed rounds to the figures)."""
    qs = Round.objects.restrict(user, "view").select_related("building", "building__parent", "assignee", "plan")
    if mine:
        heads = [
            r.node.code
            for r in user.role_assignments.filter(is_active=True, role="building_head").select_related("node")
            if r.node
        ]
        q = Q(assignee_id=user.pk)
        for code in heads:
            q |= code_prefix_q("building__code", code)
        qs = qs.filter(q)
    if todo:
        qs = qs.filter(done_at__isnull=True)
    if done is not None:
        qs = qs.filter(done_at__isnull=not done)
    if building_id is not None:
        qs = qs.filter(building_id=building_id)
    if within_code:
        qs = qs.filter(code_prefix_q("building__code", within_code))
    if due_since is not None:
        qs = qs.filter(due__gte=due_since)
    order = ["due", "building__code", "id"] if todo or done is False else ["-due", "building__code", "id"]
    return qs.order_by(*order)


def round_get(*, user: User, round_id: int, action: str = "view") -> Round:
    return get_in_scope(
        Round,
        user,
        round_id,
        action,
        queryset=Round.objects.select_related(
            "building", "building__parent", "assignee", "done_by", "plan", "checklist"
        ),
    )


def round_rows(*, user: User, round_: Round) -> list[dict[str, Any]]:
    """The checklist's items with this round's answers and photos, in order (for the form and the record)."""
    items = ChecklistItem.objects.filter(checklist_id=round_.checklist_id).order_by("position", "id")
    answers = {a["item"]: a for a in round_.answers or []}
    photos: dict[int | None, list[RoundPhoto]] = {}
    for photo in RoundPhoto.objects.restrict(user, "view").filter(round=round_).order_by("id"):
        photos.setdefault(photo.item_id, []).append(photo)
    rows = []
    for item in items:
        if not item.is_active and item.pk not in answers:
            continue
        rows.append({"item": item, "answer": answers.get(item.pk), "photos": photos.get(item.pk, [])})
    return rows


def photo_get(*, user: User, photo_id: int) -> RoundPhoto:
    return get_in_scope(RoundPhoto, user, photo_id)


# --- hazards ------------------------------------------------------------------------------------------------------


def hazard_list(
    *,
    user: User,
    status: str | None = None,
    building_id: int | None = None,
    within_code: str | None = None,
    overdue: bool = False,
    today: datetime.date | None = None,
) -> QuerySet[Hazard]:
    qs = Hazard.objects.restrict(user, "view").select_related(
        "building", "building__parent", "case", "responsible_user"
    )
    if status:
        qs = qs.filter(status=status)
    if building_id is not None:
        qs = qs.filter(building_id=building_id)
    if within_code:
        qs = qs.filter(code_prefix_q("building__code", within_code))
    if overdue:
        qs = qs.filter(status=HazardStatus.OPEN, deadline__lt=today or timezone.localdate())
    return qs.order_by("-found_at", "-id")


def hazard_get(*, user: User, hazard_id: int, action: str = "view") -> Hazard:
    return get_in_scope(
        Hazard,
        user,
        hazard_id,
        action,
        queryset=Hazard.objects.select_related(
            "building", "building__parent", "case", "round", "item", "found_by", "closed_by", "responsible_user"
        ),
    )


def hazard_checks(*, user: User, hazard: Hazard) -> list[HazardCheck]:
    return list(HazardCheck.objects.restrict(user, "view").filter(hazard=hazard).select_related("checked_by"))


def hazards_of_case(*, user: User, case_id: int) -> list[Hazard]:
    """The hazards (in scope) that became this case: the case page's link back."""
    return list(Hazard.objects.restrict(user, "view").filter(case_id=case_id).select_related("building"))


def map_points(*, user: User, within_code: str | None = None, limit: int = 2000) -> dict[str, Any]:
    """Open hazards in scope at their building's point, serious first (the map's hazard layer)."""
    qs = hazard_list(user=user, status=HazardStatus.OPEN, within_code=within_code).filter(
        building__centroid_lat__isnull=False
    )
    total = qs.count()
    rank: dict[str, int] = {Severity.SERIOUS: 0, Severity.MAJOR: 1, Severity.MINOR: 2}
    rows = list(
        qs.order_by("deadline", "id").values(
            "id", "title", "severity", "deadline", "building__name", "building__centroid_lat", "building__centroid_lng"
        )[: limit * 3]
    )
    rows.sort(key=lambda r: (rank.get(r["severity"], 3), r["deadline"], r["id"]))
    today = timezone.localdate()
    items = [
        {
            "id": r["id"],
            "title": r["title"],
            "severity": r["severity"],
            "severity_label": str(Severity(r["severity"]).label),
            "building": r["building__name"],
            "deadline": r["deadline"],
            "overdue": r["deadline"] < today,
            "lat": r["building__centroid_lat"],
            "lng": r["building__centroid_lng"],
        }
        for r in rows[:limit]
    ]
    return {"items": items, "total": total, "truncated": total > len(items)}


# --- figures and their records ------------------------------------------------------------------------------------

ROUND_FIGURES = ("rounds_due", "rounds_done", "rounds_overdue")
HAZARD_FIGURES = (
    "hazards_found",
    "hazards_rectified",
    "hazards_on_time",
    "hazards_overdue",
    "hazards_cases",
    "hazards_repeat",
)
FIGURES = ROUND_FIGURES + HAZARD_FIGURES
FIGURE_LABELS = {
    "rounds_due": _("Rounds due"),
    "rounds_done": _("Rounds done"),
    "rounds_overdue": _("Rounds overdue"),
    "hazards_found": _("Hazards found"),
    "hazards_rectified": _("Rectified"),
    "hazards_on_time": _("Rectified on time"),
    "hazards_overdue": _("Overdue, not rectified"),
    "hazards_cases": _("Turned into cases"),
    "hazards_repeat": _("Repeat hazards"),
}


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date

    @property
    def label(self) -> str:
        return self.start.strftime("%Y-%m")


def month_period(value: str | None, today: datetime.date | None = None) -> Period:
    """``YYYY-MM`` (default: this month) as its first and last day."""
    today = today or timezone.localdate()
    try:
        year, month = (int(x) for x in (value or "").split("-"))
        first = datetime.date(year, month, 1)
        if not 2000 <= year <= 2999:
            raise ValueError(year)
    except (ValueError, TypeError):
        first = today.replace(day=1)
    nxt = datetime.date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return Period(first, nxt - datetime.timedelta(days=1))


def _bounds(period: Period) -> tuple[datetime.datetime, datetime.datetime]:
    tz = timezone.get_current_timezone()
    return (
        datetime.datetime.combine(period.start, datetime.time.min, tzinfo=tz),
        datetime.datetime.combine(period.end + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz),
    )


def records(
    *,
    user: User,
    place: Node,
    period: Period,
    figure: str,
    grid: str | None = None,
    worker_id: int | None = None,
    building_id: int | None = None,
    today: datetime.date | None = None,
) -> QuerySet[Any]:
    """The records behind one figure: rounds due in the period (done, overdue) or hazards found in it (rectified,
    on time, overdue now, turned into cases, repeats of an earlier hazard of the same item in the same building) —
    under ``place``, optionally one grid (code), one worker (the round's assignee / the hazard's follower-up) or one
    building."""
    if figure not in FIGURES:
        raise ValidationFailed(
            _("No such figure."),
            [ErrorDetail(field="figure", message=fmt(_("expected one of %(values)s"), values=", ".join(FIGURES)))],
        )
    today = today or timezone.localdate()
    within = grid if grid and grid.startswith(place.code) else place.code
    if figure in ROUND_FIGURES:
        rounds = Round.objects.restrict(user, "view").filter(
            code_prefix_q("building__code", within), due__gte=period.start, due__lte=period.end
        )
        if worker_id is not None:
            rounds = rounds.filter(assignee_id=worker_id)
        if building_id is not None:
            rounds = rounds.filter(building_id=building_id)
        if figure == "rounds_done":
            rounds = rounds.filter(done_at__isnull=False)
        elif figure == "rounds_overdue":
            rounds = rounds.filter(done_at__isnull=True, due__lt=today)
        return rounds.select_related("building", "building__parent", "assignee").order_by("due", "building__code", "id")
    start, end = _bounds(period)
    hazards = Hazard.objects.restrict(user, "view").filter(
        code_prefix_q("building__code", within), found_at__gte=start, found_at__lt=end
    )
    if worker_id is not None:
        hazards = hazards.filter(responsible_user_id=worker_id)
    if building_id is not None:
        hazards = hazards.filter(building_id=building_id)
    if figure == "hazards_rectified":
        hazards = hazards.filter(status=HazardStatus.CLOSED)
    elif figure == "hazards_on_time":
        hazards = hazards.filter(status=HazardStatus.CLOSED, rectified_on_time=True)
    elif figure == "hazards_overdue":
        hazards = hazards.filter(status=HazardStatus.OPEN, deadline__lt=today)
    elif figure == "hazards_cases":
        hazards = hazards.filter(case__isnull=False)
    elif figure == "hazards_repeat":
        earlier = Hazard.objects.filter(
            building_id=OuterRef("building_id"), item_id=OuterRef("item_id"), found_at__lt=OuterRef("found_at")
        )
        hazards = hazards.filter(item__isnull=False).filter(Exists(earlier))
    return hazards.select_related("building", "building__parent", "case", "responsible_user").order_by(
        "-found_at", "-id"
    )


@dataclass
class Figures:
    place: Node
    period: Period
    counts: dict[str, int]
    mean_days_to_rectify: float | None
    by_grid: list[dict[str, Any]] = field(default_factory=list)
    by_worker: list[dict[str, Any]] = field(default_factory=list)
    repeat_buildings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def coverage(self) -> float | None:
        due = self.counts["rounds_due"]
        return None if not due else round(100.0 * self.counts["rounds_done"] / due, 1)

    @property
    def on_time_rate(self) -> float | None:
        found = self.counts["hazards_found"]
        return None if not found else round(100.0 * self.counts["hazards_on_time"] / found, 1)


def _round_breakdown(qs: QuerySet[Round], key: Any, today: datetime.date) -> list[dict[str, Any]]:
    rows = (
        qs.annotate(unit=key)
        .values("unit")
        .annotate(
            n_due=Count("id"),
            n_done=Count("id", filter=Q(done_at__isnull=False)),
            n_overdue=Count("id", filter=Q(done_at__isnull=True, due__lt=today)),
        )
        .order_by("unit")
    )
    return [{"unit": r["unit"], "due": r["n_due"], "done": r["n_done"], "overdue": r["n_overdue"]} for r in rows]


def figures(*, user: User, place: Node, period: Period, today: datetime.date | None = None) -> Figures:
    """The inspection figures of a place for a period, with coverage per grid and per worker and the buildings with
    repeat hazards. Every count is ``records(...).count()`` of the same arguments."""
    today = today or timezone.localdate()
    counts = {f: records(user=user, place=place, period=period, figure=f, today=today).count() for f in FIGURES}
    closed = records(user=user, place=place, period=period, figure="hazards_rectified", today=today)
    spans = [(c - f).total_seconds() / 86400 for f, c in closed.values_list("found_at", "closed_at") if c is not None]
    mean = round(sum(spans) / len(spans), 1) if spans else None
    rounds = records(user=user, place=place, period=period, figure="rounds_due", today=today).order_by()
    grid_rows = _round_breakdown(rounds, Substr("building__code", 1, GRID_LEN), today)
    names = dict(Node.objects.filter(code__in=[r["unit"] for r in grid_rows]).values_list("code", "name"))
    by_grid = [{**r, "code": r["unit"], "name": names.get(r["unit"], r["unit"])} for r in grid_rows]
    worker_rows = _round_breakdown(rounds, F("assignee_id"), today)
    from django.contrib.auth import get_user_model

    people = {u.pk: u for u in get_user_model().objects.filter(pk__in=[r["unit"] for r in worker_rows if r["unit"]])}
    by_worker = [{**r, "worker": people.get(r["unit"])} for r in worker_rows]
    repeats = (
        records(user=user, place=place, period=period, figure="hazards_repeat", today=today)
        .order_by()
        .values("building_id", "building__name", "building__parent__name")
        .annotate(count=Count("id"))
        .order_by("-count", "building__name")[:20]
    )
    for row in by_grid + by_worker:
        row["coverage"] = None if not row["due"] else round(100.0 * row["done"] / row["due"], 1)
    return Figures(place, period, counts, mean, by_grid, by_worker, list(repeats))
