"""Demo hazard inspections (issue 19): the subdistrict's default checklists, the market buildings as shop fronts and a
few construction sites and small venues, a monthly plan for every residential building and a quarterly one for the
shops — and a year of their rounds at a believable completion rate (85–95 % a month, this month in progress), the
hazards those rounds found (most rectified, some late, a few open and overdue; a few turned into cases through the
case intake), and rounds due today for ``gridworker`` and ``buildinghead``.

Bulk-written (a year is ~28,000 rounds a copy); the checklists and the cases go through the services.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from typing import Any

from django.utils import timezone

from gongzhi.accounts import selectors as accounts
from gongzhi.accounts.models import User
from gongzhi.demo import names
from gongzhi.demo.context import BuildContext, Out
from gongzhi.inspections import services
from gongzhi.inspections.choices import HazardStatus, PlaceKind, Result, Severity, rectify_deadline
from gongzhi.inspections.models import Checklist, ChecklistItem, Hazard, HazardCheck, Plan, Round, RoundPhoto, Site

BATCH = 2000
MONTHS = 12
FAIL_RATE = 0.012  # per item answered: ~9 % of residential rounds find something
CONSTRUCTION_SITES = 4
VENUES = 12
CASES = 4  # open serious hazards turned into cases through the intake (each is a real case)
RESPONSIBLE = {
    PlaceKind.RESIDENTIAL: ["物业公司", "住户", "业主委员会"],
    PlaceKind.SHOP: ["商户"],
    PlaceKind.CONSTRUCTION: ["施工单位"],
    PlaceKind.VENUE: ["经营者"],
}


def _month_start(day: date, back: int) -> date:
    index = day.year * 12 + day.month - 1 - back
    return date(index // 12, index % 12 + 1, 1)


def _at(day: date, rng: random.Random) -> datetime:
    moment = time(hour=rng.randint(8, 17), minute=rng.randint(0, 59))
    return datetime.combine(day, moment, tzinfo=timezone.get_current_timezone())


def create_inspections(ctx: BuildContext) -> int:
    """Checklists, sites, plans, a year of rounds and their hazards. Returns the rounds made."""
    assert ctx.subdistrict is not None
    rng = random.Random(f"inspections:{ctx.k}")
    today = timezone.localtime(ctx.now).date()
    sub = ctx.subdistrict
    services.ensure_checklists(actor=None, subdistrict_id=sub.pk)
    checklists = {c.kind: c for c in Checklist.objects.filter(area=sub, is_active=True)}
    items = {
        kind: list(ChecklistItem.objects.filter(checklist=c, is_active=True).order_by("position"))
        for kind, c in checklists.items()
    }

    # Kinds of place: the markets are shop fronts; a few buildings are construction sites or small venues.
    kind_of: dict[int, str] = {}
    residential = [b for b in ctx.buildings if b.node is not None and not b.is_market]
    for b in ctx.buildings:
        if b.node is not None and b.is_market:
            kind_of[b.node.pk] = PlaceKind.SHOP
    spare = [b for b in residential if not (ctx.is_main and b.grid.community.name == names.JINHE_COMMUNITY)]
    for b in rng.sample(spare, min(len(spare), CONSTRUCTION_SITES + VENUES)):
        assert b.node is not None
        kind_of[b.node.pk] = PlaceKind.CONSTRUCTION if len(kind_of) % 4 == 0 else PlaceKind.VENUE
    Site.objects.bulk_create(
        [
            Site(building_id=pk, kind=kind, responsible=rng.choice(RESPONSIBLE[PlaceKind(kind)]))
            for pk, kind in kind_of.items()
        ]
    )

    # Plans: every residential building monthly, the shops quarterly, the others monthly — a year back.
    starts = _month_start(today, MONTHS - 1)
    plans = {
        PlaceKind.RESIDENTIAL: Plan(
            area=sub,
            name=f"{ctx.name}住宅楼栋月度安全隐患排查",
            kind=PlaceKind.RESIDENTIAL,
            every_months=1,
            starts=starts,
        ),
        PlaceKind.SHOP: Plan(
            area=sub, name=f"{ctx.name}沿街商铺季度安全隐患排查", kind=PlaceKind.SHOP, every_months=3, starts=starts
        ),
        PlaceKind.CONSTRUCTION: Plan(
            area=sub, name=f"{ctx.name}建筑工地月度安全检查", kind=PlaceKind.CONSTRUCTION, every_months=1, starts=starts
        ),
        PlaceKind.VENUE: Plan(
            area=sub, name=f"{ctx.name}小场所月度消防安全检查", kind=PlaceKind.VENUE, every_months=1, starts=starts
        ),
    }
    Plan.objects.bulk_create(list(plans.values()))

    workers = accounts.grid_workers_under(code=ctx.code)
    buildings = [
        (b.node.pk, b.node.code, kind_of.get(b.node.pk, PlaceKind.RESIDENTIAL)) for b in ctx.buildings if b.node
    ]
    heads = services.building_heads([code for _pk, code, _kind in buildings])
    rate_of_grid = {g.node.code: rng.uniform(0.85, 0.95) for g in ctx.grids if g.node is not None}

    rounds: list[Round] = []
    for back in range(MONTHS - 1, -1, -1):
        month = _month_start(today, back)
        for pk, code, kind in buildings:
            plan = plans[PlaceKind(kind)]
            start, end = services.period_of(plan, month)
            if start != month:
                continue  # a quarterly plan's round is made in the quarter's first month
            assignee = workers.get(code[:15])
            row = Round(
                plan=plan, checklist=checklists[kind], building_id=pk, period_start=start, due=end, assignee_id=assignee
            )
            rate = rate_of_grid.get(code[:15], 0.9)
            if end < today:
                done = rng.random() < rate
                last = end
            else:  # this period: done so far in proportion to the days gone
                share = (today - start).days / max(1, (end - start).days + 1)
                done = rng.random() < rate * share
                last = today - timedelta(days=1)
            if done and last >= start:
                day = start + timedelta(days=rng.randint(0, (last - start).days))
                row.done_at = _at(day, rng)
                row.done_by_id = assignee
            rounds.append(row)

    # Today's work for the demo log-ins: a few of gridworker's rounds and buildinghead's own are due today.
    demo_users = dict(User.objects.filter(username__in=["gridworker", "buildinghead"]).values_list("username", "pk"))
    if ctx.is_main:
        current = [r for r in rounds if r.due >= today and r.done_at is None]
        mine = [r for r in current if r.assignee_id == demo_users.get("gridworker")][:4]
        head_id = demo_users.get("buildinghead")
        head_buildings = {code for code, uid in heads.items() if uid == head_id}
        codes = {pk: code for pk, code, _kind in buildings}
        theirs = [r for r in rounds if r.due >= today and codes[r.building_id] in head_buildings][:1]
        for r in mine:
            r.due = today
        for r in theirs:  # still to do, and the building head's own
            r.due = today
            r.assignee_id = head_id
            r.done_at = None
            r.done_by_id = None
    for r in rounds:
        if r.done_at is not None:
            r.answers, r.failed = _answers(items[PlaceKind(r.checklist.kind)], rng)
    Round.objects.bulk_create(rounds, batch_size=BATCH)
    ctx.counts["inspection rounds done"] += sum(1 for r in rounds if r.done_at is not None)

    made = _hazards(ctx, rounds, items, heads, today, rng)
    ctx.counts["hazards"] += made
    # The hazards of the last days on the desk as cases (the real intake: numbered, placed, on the desk's queue).
    candidates = (
        Hazard.objects.filter(
            building__code__startswith=ctx.code,
            status=HazardStatus.OPEN,
            severity=Severity.SERIOUS,
            case__isnull=True,
            responsible_user__isnull=False,
        )
        .select_related("responsible_user")
        .order_by("-found_at")[:CASES]
    )
    for hazard in candidates:
        assert hazard.responsible_user is not None
        services.hazard_to_case(actor=hazard.responsible_user, hazard_id=hazard.pk)
        ctx.counts["hazards turned into cases"] += 1
    services.notify_due_today(today=today)
    return len(rounds)


def _answers(items: list[ChecklistItem], rng: random.Random) -> tuple[list[dict[str, Any]], int]:
    answers = []
    failed = 0
    for item in items:
        roll = rng.random()
        if roll < FAIL_RATE:
            result = Result.FAIL
            failed += 1
        elif roll < FAIL_RATE + 0.03:
            result = Result.NA
        else:
            result = Result.PASS
        answer: dict[str, Any] = {"item": item.pk, "result": result}
        if result == Result.FAIL:
            answer["severity"] = item.severity
        answers.append(answer)
    return answers, failed


def _hazards(
    ctx: BuildContext,
    rounds: list[Round],
    items: dict[str, list[ChecklistItem]],
    heads: dict[str, int],
    today: date,
    rng: random.Random,
) -> int:
    by_id = {i.pk: i for group in items.values() for i in group}
    hazards: list[Hazard] = []
    checks: list[tuple[int, HazardCheck]] = []
    open_items: set[tuple[int, int]] = set()
    for r in sorted((r for r in rounds if r.failed), key=lambda r: r.done_at or ctx.now):
        assert r.done_at is not None
        for answer in r.answers:
            if answer["result"] != Result.FAIL:
                continue
            item = by_id[answer["item"]]
            key = (r.building_id, item.pk)
            if key in open_items:
                continue
            found = r.done_at
            severity = item.severity if rng.random() < 0.8 else Severity.MINOR
            deadline = rectify_deadline(timezone.localtime(found).date(), severity)
            h = Hazard(
                building_id=r.building_id,
                round=r,
                item=item,
                title=item.question,
                basis=item.basis,
                severity=severity,
                found_at=found,
                found_by_id=r.done_by_id,
                first_deadline=deadline,
                deadline=deadline,
                responsible=rng.choice(RESPONSIBLE[PlaceKind(r.checklist.kind)]),
                responsible_user_id=r.assignee_id,
            )
            days = rng.choice([1, 1, 2, 2, 3, 3, 4, 5, 6, 7, 9, 12, 16])
            closed = found + timedelta(days=days, hours=rng.randint(0, 6))
            if closed.date() < today or (closed <= ctx.now and rng.random() < 0.5):
                h.status = HazardStatus.CLOSED
                h.closed_at = closed
                h.closed_by_id = r.done_by_id
                h.rectified_on_time = timezone.localtime(closed).date() <= deadline
                checks.append(
                    (len(hazards), HazardCheck(checked_at=closed, checked_by_id=r.done_by_id, rectified=True))
                )
            else:
                open_items.add(key)
            hazards.append(h)
    # A few old ones still open (the overdue the community chases): re-opened as not rectified on their re-check.
    closed_old = [
        i
        for i, h in enumerate(hazards)
        if h.status == HazardStatus.CLOSED and h.found_at.date() > today - timedelta(days=60)
    ]
    for i in rng.sample(closed_old, min(len(closed_old), max(3, len(hazards) // 60))):
        h = hazards[i]
        if (h.building_id, h.item_id) in open_items:
            continue
        h.status = HazardStatus.OPEN
        h.closed_at = None
        h.closed_by_id = None
        h.rectified_on_time = None
        open_items.add((h.building_id, h.item_id or 0))
        checks = [(j, c) for j, c in checks if j != i]
    Hazard.objects.bulk_create(hazards, batch_size=BATCH)
    for index, check in checks:
        check.hazard_id = hazards[index].pk
    HazardCheck.objects.bulk_create([c for _i, c in checks], batch_size=BATCH)
    ctx.counts["open hazards"] += sum(1 for h in hazards if h.status == HazardStatus.OPEN)
    return len(hazards)


def reset_inspections(code: str, bodies: list[int], out: Out) -> int:
    """The copy's inspections (before its cases, places and people)."""
    total = HazardCheck.objects.filter(hazard__building__code__startswith=code).delete()[0]
    total += Hazard.objects.filter(building__code__startswith=code).delete()[0]
    total += RoundPhoto.objects.filter(round__building__code__startswith=code).delete()[0]
    total += Round.objects.filter(building__code__startswith=code).delete()[0]
    total += Plan.objects.filter(area__code__startswith=code).delete()[0]
    total += Site.objects.filter(building__code__startswith=code).delete()[0]
    total += Checklist.objects.filter(area__code__startswith=code).delete()[0]
    return int(total)
