"""Training and activating triage model versions (the only writes of the triage app)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from gongzhi.core import audit
from gongzhi.core.errors import Conflict, DomainError, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gongzhi.core.messages import system_note
from gongzhi.core.templatetags.confidence import confidence as confidence_percent
from gongzhi.core.uploads import private_root
from gongzhi.territory.models import Body
from gongzhi.triage import learn
from gongzhi.triage.models import (
    AutoDispatch,
    BodySuccessor,
    CaseSuggestion,
    Feedback,
    FeedbackKind,
    ModelVersion,
)

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

log = logging.getLogger(__name__)

TOO_FEW = _("There is not enough history to learn from: at least two bodies with three handled cases each.")
CLOSED_STATUSES = ("closed", "followed_up")


def model_dir() -> Path:
    path = private_root() / "triage"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def successor_map() -> dict[int, int]:
    """Former body → the body that carries on its work now (chains followed, cycles cut)."""
    direct = dict(BodySuccessor.objects.values_list("body_id", "successor_id"))
    resolved: dict[int, int] = {}
    for body in direct:
        seen = {body}
        current = direct[body]
        while current in direct and current not in seen:
            seen.add(current)
            current = direct[current]
        resolved[body] = current
    return resolved


# How much one correction of the desk weighs in the next training against one closed case of the history: a return
# of the model's dispatch or a dispatch elsewhere than its top body says the model was wrong, so it counts more.
CORRECTION_WEIGHT = 3


@dataclass
class Lesson:
    """One case as the next training reads it: what the model sees (``learn.ticket``: words and place), the body
    that handled it (after renames), its category, and how much it counts."""

    ticket: str
    body: str
    category: str
    weight: float = 1.0


def desk_lessons(successors: dict[int, int]) -> dict[int, Lesson]:
    """The desk's feedback as training rows, by case: each case the desk dispatched (accepted or overridden) or whose
    model dispatch was returned teaches the body that finally handled it — the dispatched one, or for a return the
    body it went to next (none yet: nothing to learn). A correction weighs :data:`CORRECTION_WEIGHT`, an accepted
    suggestion 1."""
    from gongzhi.cases.models import Case
    from gongzhi.triage.models import Feedback, FeedbackKind

    weights: dict[int, int] = {}
    dispatched_to: dict[int, int] = {}
    for case_id, kind, body_id in Feedback.objects.order_by("pk").values_list("case_id", "kind", "body_id"):
        weight = 1 if kind == FeedbackKind.ACCEPTED else CORRECTION_WEIGHT
        weights[case_id] = max(weights.get(case_id, 0), weight)
        if kind != FeedbackKind.RETURNED and body_id:
            dispatched_to[case_id] = body_id
    lessons: dict[int, Lesson] = {}
    rows = Case.objects.filter(pk__in=list(weights)).values_list(
        "pk", "title", "description", "handler_body_id", "status", "category_id", "place_code"
    )
    for pk, title, description, handler, status, category_id, place_code in rows:
        if status in ("reported", "accepted", "returned"):
            continue  # back on the desk (or never dispatched): nobody handles it yet
        body = handler or dispatched_to.get(pk)
        if not body:
            continue
        words = learn.citizen_words(f"{title}。{description}")
        lessons[pk] = Lesson(
            learn.ticket(words, place_code), str(successors.get(body, body)), str(category_id), weights[pk]
        )
    return lessons


@dataclass
class History:
    """What a training reads: the tickets, their bodies, categories and weights, and the span of reporting dates."""

    tickets: list[str]
    bodies: list[str]
    categories: list[str]
    weights: list[float]
    first: datetime | None
    last: datetime | None


def case_history() -> History:
    """Closed cases (their words and place, the body that handled them after renames, the category, the span of
    their reporting dates) with the desk's lessons (:func:`desk_lessons`): a closed case the desk corrected weighs
    what its correction does, and a lesson not closed yet is added."""
    from gongzhi.cases.models import Case

    successors = successor_map()
    lessons = desk_lessons(successors)
    rows = (
        Case.objects.filter(status__in=CLOSED_STATUSES, handler_body__isnull=False)
        .order_by("pk")
        .values_list("pk", "title", "description", "handler_body_id", "category_id", "reported_at", "place_code")
    )
    out = History([], [], [], [], None, None)
    for pk, title, description, body_id, category_id, reported, place_code in rows:
        lesson = lessons.pop(pk, None)
        out.tickets.append(learn.ticket(learn.citizen_words(f"{title}。{description}"), place_code))
        out.bodies.append(str(successors.get(body_id, body_id)))
        out.categories.append(str(category_id))
        out.weights.append(max(1.0, lesson.weight) if lesson is not None else 1.0)
        out.first = reported if out.first is None or reported < out.first else out.first
        out.last = reported if out.last is None or reported > out.last else out.last
    for lesson in lessons.values():
        out.tickets.append(lesson.ticket)
        out.bodies.append(lesson.body)
        out.categories.append(lesson.category)
        out.weights.append(lesson.weight)
    return out


def check_may_train(*, user: User) -> None:
    """May this user train or roll back (the subdistrict desk)? ``Forbidden`` otherwise."""
    _check(user)


def _check(user: User | None) -> None:
    """Training and activating are the subdistrict desk's (``add`` on model versions); the CLI acts as nobody."""
    if user is not None and user.scope_for("triage.modelversion", "add").is_empty:
        raise Forbidden()


def train(
    *,
    user: User | None,
    texts: Sequence[str] | None = None,
    labels: Sequence[str] | None = None,
    source: str = "cases",
    target: float = 0.95,
    activate: bool = True,
) -> ModelVersion:
    """Train a version (from the closed cases, or from the given texts and labels) and, by default, put it in use."""
    _check(user)
    categories: list[str] = []
    weights: list[float] | None = None
    data_from = data_to = None
    if texts is None or labels is None:
        history = case_history()
        texts, labels, categories, weights = history.tickets, history.bodies, history.categories, history.weights
        data_from, data_to = history.first, history.last
    if len({lab for lab in labels if list(labels).count(lab) >= learn.INNER_FOLDS}) < 2:
        raise Conflict(TOO_FEW)
    fitted = learn.fit(texts, labels, target=target, weights=weights)
    category_pipeline = None
    if categories and len(set(categories)) > 1:
        try:
            category_pipeline = learn.fit_pipeline(texts, categories, weights)
        except ValueError:
            category_pipeline = None
    name = f"model-{secrets.token_hex(8)}.joblib"
    # "place": the pipelines read tickets (learn.ticket: words and place); versions before it read words alone.
    bundle: dict[str, Any] = {
        "body": fitted.pipeline,
        "category": category_pipeline,
        "threshold": fitted.threshold,
        "place": True,
    }
    joblib.dump(bundle, model_dir() / name)
    with transaction.atomic():
        version = ModelVersion.objects.create(
            source=source[:200],
            file=name,
            n=fitted.n,
            classes=len(fitted.classes),
            threshold=fitted.threshold,
            precision_target=target,
            metrics=_metrics(fitted, labels),
            data_from=data_from,
            data_to=data_to,
            train_seconds=round(fitted.train_seconds, 2),
        )
        audit.record(actor=user, action="triage.train", obj=version, after={"n": version.n, "source": source})
        if activate:
            _activate(user=user, version=version)
    return version


def _metrics(fitted: learn.Fitted, labels: Sequence[str]) -> dict[str, Any]:
    """The version's figures on held-out predictions of its own training data (the calibration folds): the share
    right at the top (accuracy) and the share above the threshold (decided alone), and how many desk lessons."""
    model = fitted.pipeline.named_steps["model"]
    correct = getattr(model, "oof_correct_", None)
    confidence = getattr(model, "oof_confidence_", None)
    out: dict[str, Any] = {"labels": len(set(labels))}
    if correct is not None and confidence is not None and len(correct):
        out["accuracy"] = round(float(correct.mean()), 4)
        alone = confidence >= fitted.threshold
        out["coverage"] = round(float(alone.mean()), 4)
        out["precision_alone"] = round(float(correct[alone].mean()), 4) if alone.any() else None
    return out


def _activate(*, user: User | None, version: ModelVersion) -> None:
    before = ModelVersion.objects.filter(is_active=True).values_list("pk", flat=True).first()
    ModelVersion.objects.filter(is_active=True).exclude(pk=version.pk).update(is_active=False)
    ModelVersion.objects.filter(pk=version.pk).update(is_active=True)
    version.is_active = True
    audit.record(
        actor=user, action="triage.activate", obj=version, before={"active": before}, after={"active": version.pk}
    )
    from gongzhi.triage import selectors

    selectors.forget_loaded()


def activate(*, user: User | None, version: ModelVersion) -> ModelVersion:
    """Put this version in use (rolling back = activating an older one)."""
    _check(user)
    with transaction.atomic():
        _activate(user=user, version=version)
    return version


# --- what the model does with new cases, and what it learns from the desk -------------------------------------------

MODEL_DISPATCH_NOTE = _("Dispatched by the triage model v%(version)s: %(body)s, confidence %(confidence)s%%.")
WAITING = ("reported", "accepted", "returned")  # suggested; the model dispatches only the first two (never a return)


def consider(*, case_id: int, dispatch: bool = True) -> CaseSuggestion | None:
    """A new case, after its commit (``tasks.arrived``): what the model in use says of it is stored (the desk's list
    shows it), and where its subdistrict's switch covers it (its category, or the top body) and the top body is at or
    above the version's threshold, the model dispatches it (``cases.workflow.dispatch_by_model``). Any refusal
    leaves the case on the desk as it was. None when no model is in use or the case is no longer waiting."""
    from gongzhi.cases import workflow
    from gongzhi.cases.models import Case
    from gongzhi.triage import selectors

    case = Case.objects.filter(pk=case_id).first()
    if case is None or case.status not in WAITING:
        return None
    said = selectors.top(f"{case.title}。{case.description}", node_code=case.place_code)
    if said is None:
        return None
    with transaction.atomic():
        suggestion, _created = CaseSuggestion.objects.update_or_create(
            case_id=case.pk,
            defaults={
                "version": said.version,
                "body_id": said.body if said.body and Body.objects.filter(pk=said.body).exists() else None,
                "confidence": said.confidence,
                "words": said.words,
                "category_id": said.category if said.category and _category_exists(said.category) else None,
                "category_confidence": said.category_confidence,
            },
        )
    if case.status == "returned" or not dispatch or suggestion.body_id is None:
        return suggestion
    if said.confidence < said.version.threshold:
        return suggestion
    switch = AutoDispatch.objects.filter(subdistrict__code=case.place_code[:9], enabled=True).first()
    if switch is None or not (
        switch.categories.filter(pk=case.category_id).exists() or switch.bodies.filter(pk=suggestion.body_id).exists()
    ):
        return suggestion
    body = Body.objects.get(pk=suggestion.body_id)
    note = system_note(
        MODEL_DISPATCH_NOTE, version=said.version.pk, body=body.name, confidence=confidence_percent(said.confidence)
    )
    try:
        with transaction.atomic():
            workflow.dispatch_by_model(
                case_id=case.pk, handler_body_id=body.pk, version=said.version.pk, confidence=said.confidence,
                note=note,
            )  # fmt: skip
            CaseSuggestion.objects.filter(pk=suggestion.pk).update(dispatched=True)
            suggestion.dispatched = True
    except DomainError as exc:  # moved on meanwhile, nobody acts for the body…: the desk dispatches it
        log.info("case %s left on the desk: %s", case.pk, exc.message)
    return suggestion


def _category_exists(pk: int) -> bool:
    from gongzhi.cases.models import Category

    return Category.objects.filter(pk=pk).exists()


def learn_from_step(case: Any, event: Any, actor: User | None) -> None:
    """A step of a case (``cases.events.listen``, in its transaction): a dispatch by someone at the desk is
    recorded against what the model suggested (accepted or override); a return of the model's own dispatch is
    recorded as returned. Nothing when the model had nothing to say of the case."""
    if event.action == "dispatch" and actor is not None:
        stored = CaseSuggestion.objects.filter(case_id=case.pk).select_related("version").first()
        if stored is not None and stored.body_id is not None:
            version, top_body, confidence = stored.version, stored.body_id, stored.confidence
        else:
            from gongzhi.triage import selectors

            said = selectors.top(f"{case.title}。{case.description}", node_code=case.place_code)
            if said is None or said.body is None:
                return
            version, top_body, confidence = said.version, said.body, said.confidence
        kind = FeedbackKind.ACCEPTED if case.handler_body_id == top_body else FeedbackKind.OVERRIDE
        _feedback(case, kind, version, top_body, case.handler_body_id, confidence, actor)
    elif event.action == "return":
        from gongzhi.cases import workflow
        from gongzhi.cases.models import CaseEvent

        last = CaseEvent.objects.filter(case_id=case.pk, action="dispatch").order_by("-at", "-pk").first()
        if last is None or last.actor_label != workflow.BY_MODEL:
            return
        body_id = last.data.get("handler_body_id")
        version = ModelVersion.objects.filter(pk=last.data.get("model_version")).first()
        _feedback(case, FeedbackKind.RETURNED, version, body_id, None, float(last.data.get("confidence") or 0), actor)


def _feedback(
    case: Any,
    kind: str,
    version: ModelVersion | None,
    suggested: int | None,
    body: int | None,
    confidence: float,
    actor: User | None,
) -> Feedback:
    row = Feedback.objects.create(
        case_id=case.pk,
        kind=kind,
        version=version,
        suggested_body_id=suggested if suggested and Body.objects.filter(pk=suggested).exists() else None,
        body_id=body,
        confidence=confidence,
        actor=actor,
    )
    audit.record(
        actor=actor,
        action=f"triage.feedback.{kind}",
        obj=row,
        node_code=case.place_code,
        after={"case": case.pk, "suggested": suggested, "body": body},
    )
    return row


# --- the subdistrict's settings ----------------------------------------------------------------------------------


def save_auto_dispatch(
    *,
    user: User,
    subdistrict_id: int,
    enabled: bool,
    category_ids: Sequence[int],
    body_ids: Sequence[int],
    train_every_days: int = 7,
) -> AutoDispatch:
    """Switch the model's own dispatches on or off for a subdistrict, for these categories or bodies (the
    subdistrict desk only: ``change`` on its settings there)."""
    from gongzhi.cases.models import Category
    from gongzhi.territory.models import Node

    node = Node.objects.restrict(user, "view").filter(pk=subdistrict_id, kind="subdistrict").first()
    if node is None:
        raise NotFound()
    if not user.scope_for("triage.autodispatch", "change").covers(node.code):
        raise Forbidden()
    if not 1 <= train_every_days <= 365:
        raise ValidationFailed(
            _("Train again every 1 to 365 days."),
            [ErrorDetail(field="train_every_days", message=_("1 to 365"))],
        )
    categories = list(Category.objects.restrict(user, "view").filter(pk__in=list(category_ids)))
    bodies = list(Body.objects.restrict(user, "view").filter(pk__in=list(body_ids)))
    with transaction.atomic():
        row, _created = AutoDispatch.objects.select_for_update().get_or_create(subdistrict=node)
        before = {
            "enabled": row.enabled,
            "categories": sorted(row.categories.values_list("pk", flat=True)),
            "bodies": sorted(row.bodies.values_list("pk", flat=True)),
            "train_every_days": row.train_every_days,
        }
        row.enabled = enabled
        row.train_every_days = train_every_days
        row.save(update_fields=["enabled", "train_every_days", "updated_at"])
        row.categories.set(categories)
        row.bodies.set(bodies)
        audit.record(
            actor=user,
            action="triage.auto_dispatch",
            obj=row,
            node_code=node.code,
            before=before,
            after={
                "enabled": enabled,
                "categories": sorted(c.pk for c in categories),
                "bodies": sorted(b.pk for b in bodies),
                "train_every_days": train_every_days,
            },
        )
    return row


def train_due(now: datetime | None = None) -> bool:
    """Is a training due (the scheduler's weekly one)? When no version exists, or the newest is older than the
    shortest interval a subdistrict asked for (7 days unless set)."""
    from datetime import timedelta

    from django.db.models import Min
    from django.utils import timezone

    now = now or timezone.now()
    newest = ModelVersion.objects.order_by("-created_at").values_list("created_at", flat=True).first()
    if newest is None:
        return True
    days = AutoDispatch.objects.aggregate(d=Min("train_every_days"))["d"] or 7
    return now - newest >= timedelta(days=days)
