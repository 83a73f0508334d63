"""The learned triage in the demo (issue 23): a model trained on the year of cases at seed time, so the desk sees
explained suggestions at once; auto-dispatch on for the few categories the model gets right alone; a few new
reports the model dispatched itself (the timeline says so)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment
from gongzhi.cases import intake
from gongzhi.cases.models import Case
from gongzhi.core.errors import DomainError
from gongzhi.demo import names
from gongzhi.demo.cases import Tickets
from gongzhi.demo.context import BuildContext, Out
from gongzhi.triage import learn, selectors, services
from gongzhi.triage.models import AutoDispatch, ModelVersion

CLEAR_CATEGORIES = 3  # auto-dispatch is switched on for this many categories
MODEL_REPORTS = 4  # new reports the model dispatches in the demo
HISTORY_COLUMNS = (
    "pk", "title", "description", "handler_body_id", "category_id", "node_id", "lat", "lng", "address", "place_code"
)  # fmt: skip


def create_triage(ctx: BuildContext) -> int:
    """Train (copy 0, or the first copy that finds no version), switch auto-dispatch on for the clearest categories,
    store the suggestions of the cases waiting at the desk and let the model dispatch a few new reports."""
    assert ctx.subdistrict is not None
    if not ModelVersion.objects.filter(is_active=True).exists():
        try:
            services.train(user=None)
        except DomainError:
            return 0
    loaded = selectors.active_bundle()
    if loaded is None:
        return 0
    version, bundle = loaded
    history = list(
        Case.objects.filter(
            place_code__startswith=ctx.code, status__in=services.CLOSED_STATUSES, handler_body__isnull=False
        ).values_list(*HISTORY_COLUMNS)
    )
    if not history:
        return 0
    pipeline = bundle["body"]
    # What the product reads of a case (selectors._read): its words and, for a version that learned places, its place.
    place = bool(bundle.get("place"))
    read = [
        learn.ticket(learn.citizen_words(f"{row[1]}。{row[2]}"), row[9] if place else "") for row in history
    ]
    proba = pipeline.predict_proba(read)
    best = proba.argmax(axis=1)
    confident = proba[np.arange(len(history)), best] >= version.threshold
    right = pipeline.classes_[best] == np.array([str(b) for _pk, _t, _d, b, *_rest in history], dtype=object)
    by_category: dict[int, list[int]] = defaultdict(list)
    for i, row in enumerate(history):
        by_category[row[4]].append(i)
    # Clear: the model decides most of the category alone, and what it decides is right.
    score = {
        cat: float((confident[rows] & right[rows]).mean())
        for cat, rows in by_category.items()
        if len(rows) >= 10 and (right[rows] | ~confident[rows]).all()
    }
    clear = sorted(score, key=lambda c: -score[c])[:CLEAR_CATEGORIES]
    switch, _created = AutoDispatch.objects.get_or_create(subdistrict=ctx.subdistrict)
    switch.enabled = bool(clear)
    switch.save(update_fields=["enabled", "updated_at"])
    switch.categories.set(clear)
    waiting = Case.objects.filter(place_code__startswith=ctx.code, status__in=services.WAITING).values_list(
        "pk", flat=True
    )
    made = 0
    for case_id in waiting:  # suggested only: the demo's stories at the desk stay for the desk
        made += services.consider(case_id=case_id, dispatch=False) is not None
    operator = (
        RoleAssignment.objects.filter(role=Role.SUBDISTRICT_OPERATOR, node=ctx.subdistrict, is_active=True)
        .select_related("user")
        .order_by("pk")
        .first()
    )
    if operator is None or not clear:
        return made
    latest: dict[int, tuple[Any, ...]] = {}  # per clear category, its latest case the model decides alone
    for i, row in enumerate(history):
        if row[4] in clear and confident[i] and right[i]:
            latest[row[4]] = row
    examples = list(latest.values())
    examples = (examples * MODEL_REPORTS)[:MODEL_REPORTS]
    tickets = Tickets(ctx.k, f"{timezone.localtime(ctx.now):%Y-%m}", first=9801)  # after the desk stories' 95xx
    for _pk, title, description, _body, category_id, node_id, lat, lng, address, _place in examples:
        case = intake.report_case(
            actor=operator.user, channel="hotline", title=title, description=description, category_id=category_id,
            node_id=node_id, lat=lat, lng=lng, address=address, hotline_ticket=tickets(),
            reporter_name=names.person_name(ctx.rng), reporter_phone=names.phone_number(ctx.rng),
        )  # fmt: skip
        suggestion = services.consider(case_id=case.pk)
        made += suggestion is not None
    return made


def reset_triage(code: str, bodies: list[int], out: Out) -> int:
    """The copy's triage rows (before its cases, bodies and places go): suggestions and feedback on its cases or its
    bodies, and its auto-dispatch switch. The model versions stay (they are the whole database's)."""
    from django.db.models import Q

    from gongzhi.triage.models import CaseSuggestion, Feedback

    on_copy = Q(case__place_code__startswith=code) | Q(case__handler_body_id__in=bodies)
    total = 0
    for model in (CaseSuggestion, Feedback):
        total += model.objects.filter(on_copy).delete()[0]
    total += Feedback.objects.filter(Q(body_id__in=bodies) | Q(suggested_body_id__in=bodies)).delete()[0]
    total += AutoDispatch.objects.filter(subdistrict__code=code).delete()[0]
    return total
