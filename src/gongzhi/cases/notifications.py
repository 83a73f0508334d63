"""Notifications after a transition commits. One per (case, recipient, topic): nobody is told the same thing twice,
even when overlapping bodies (a village and a community) both cover the case's place."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from gongzhi.cases.choices import Status
from gongzhi.cases.models import Case, CaseEvent, Notification

TOPIC_BY_STATUS: dict[str, str] = {
    Status.DISPATCHED: "dispatched",
    Status.RETURNED: "returned",
    Status.DISPOSED: "disposed",
    Status.CLOSED: "closed",
    Status.REJECTED: "rejected",
    Status.MERGED: "merged",
}


def _notify(case: Case, topic: str, message: str, *, user_id: int | None = None, phone: str = "") -> None:
    if not user_id and not phone:
        return
    try:
        with transaction.atomic():
            Notification.objects.create(
                case=case, user_id=user_id, phone="" if user_id else phone, topic=topic, message=message[:300]
            )
    except IntegrityError:
        pass  # already told


def recipients_for(case: Case, topic: str) -> list[tuple[int | None, str]]:
    """(user id, phone) pairs, de-duplicated."""
    from gongzhi.accounts.models import RoleAssignment

    out: list[tuple[int | None, str]] = []
    if topic in ("closed", "rejected", "merged", "disposed"):
        out.append((case.reporter_user_id, case.reporter_phone))
        for merged in case.merged_cases.all():
            out.append((merged.reporter_user_id, merged.reporter_phone))
    if topic == "dispatched":
        if case.handler_body_id:
            out += [
                (uid, "")
                for uid in RoleAssignment.objects.filter(body_id=case.handler_body_id, is_active=True).values_list(
                    "user_id", flat=True
                )
            ]
        if case.handler_node_id:
            out += [
                (uid, "")
                for uid in RoleAssignment.objects.filter(node_id=case.handler_node_id, is_active=True).values_list(
                    "user_id", flat=True
                )
            ]
    if topic == "returned" and case.dispatcher_id:
        out.append((case.dispatcher_id, ""))
    seen: set[tuple[int | None, str]] = set()
    unique = []
    for uid, phone in out:
        key = (uid, "" if uid else phone)
        if key not in seen and (uid or phone):
            seen.add(key)
            unique.append(key)
    return unique


def plan(case: Case, event: CaseEvent) -> tuple[str, str, list[tuple[int | None, str]]] | None:
    """Who to tell about a transition, decided inside the transaction (the state as the transition left it)."""
    topic = TOPIC_BY_STATUS.get(event.to_status) if event.from_status != event.to_status else None
    if topic is None:
        return None
    message = f"{case.number} {case.title}: {case.get_status_display()}"
    return topic, message, recipients_for(case, topic)


def send(case_id: int, planned: tuple[str, str, list[tuple[int | None, str]]] | None) -> None:
    """Run after commit: store the notifications, at most one per recipient and topic."""
    if planned is None:
        return
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return
    topic, message, recipients = planned
    for uid, phone in recipients:
        _notify(case, topic, message, user_id=uid, phone=phone)
