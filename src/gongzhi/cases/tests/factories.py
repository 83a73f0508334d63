from __future__ import annotations

from typing import Any

from gongzhi.cases import services, workflow
from gongzhi.cases.models import Case, Category

# How to reach each status from a new report, through the workflow only.
PATHS: dict[str, list[str]] = {
    "reported": [],
    "accepted": ["accept"],
    "rejected": ["reject"],
    "dispatched": ["accept", "dispatch"],
    "acknowledged": ["accept", "dispatch", "acknowledge"],
    "returned": ["accept", "dispatch", "return"],
    "in_progress": ["accept", "dispatch", "acknowledge", "start"],
    "postponed": ["accept", "dispatch", "acknowledge", "start", "postpone"],
    "disposed": ["accept", "dispatch", "acknowledge", "start", "dispose"],
    "verifying": ["accept", "dispatch", "acknowledge", "start", "dispose", "verify"],
    "rework": ["accept", "dispatch", "acknowledge", "start", "dispose", "verify", "rework"],
    "closed": ["accept", "dispatch", "acknowledge", "start", "dispose", "verify", "close"],
    "followed_up": ["accept", "dispatch", "acknowledge", "start", "dispose", "verify", "close", "follow_up"],
    "merged": ["merge"],
    "cancelled": ["cancel"],
}


def category(code: str = "0105", kind: str = "event") -> Category:
    """A category of the seeded taxonomy (re-seeded if a transactional test flushed it): an event class by default,
    ``kind="facility"`` for a facility (部件) class — their codes overlap."""
    if not Category.objects.filter(kind=kind, code=code).exists():
        seed_taxonomy()
    return Category.objects.get(kind=kind, code=code)


def seed_taxonomy() -> None:
    """The data migrations' categories again: the event classes (0002) and the facility classes with everyone's
    keywords (0012)."""
    import importlib

    from django.apps import apps

    if not Category.objects.filter(kind="event").exists():
        importlib.import_module("gongzhi.cases.migrations.0002_categories").load(apps, None)
    importlib.import_module("gongzhi.cases.migrations.0015_facility_categories").load(apps, None)


def new_case(actor: Any, node: Any, **kwargs: Any) -> Case:
    kwargs.setdefault("channel", "patrol")
    kwargs.setdefault("title", "小区门口积水")
    kwargs.setdefault("category_id", category().pk)
    return services.report_case(actor=actor, node_id=node.pk, **kwargs)


def payload_for(action: str, *, handler_body: Any = None, other_case: Any = None) -> dict[str, Any]:
    if action == "dispatch":
        return {"handler_body_id": handler_body.pk}
    if action == "merge":
        return {"into_case_id": other_case.pk}
    if action == "follow_up":
        return {"rating": "satisfied"}
    return {}


def ensure_someone_acts_for(body: Any) -> None:
    """A case can be dispatched to a body only when someone can act for it (``workflow.bodies_with_actors``): give a
    body that has nobody a department handler."""
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role

    if body is not None and not workflow.bodies_with_actors([body.pk]):
        user_with_role(Role.DEPARTMENT_HANDLER, body=body)


def walk(actor: Any, case: Case, status: str, *, handler_body: Any, other_case: Any = None) -> Case:
    if "dispatch" in PATHS[status]:
        ensure_someone_acts_for(handler_body)
    for action in PATHS[status]:
        workflow.perform(
            actor=actor,
            case_id=case.pk,
            action=action,
            note="测试",
            payload=payload_for(action, handler_body=handler_body, other_case=other_case),
        )
    case.refresh_from_db()
    assert case.status == status
    return case
