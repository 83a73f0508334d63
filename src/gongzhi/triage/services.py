"""Training and activating triage model versions (the only writes of the triage app)."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import joblib
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from gongzhi.core import audit
from gongzhi.core.errors import Conflict, Forbidden
from gongzhi.core.uploads import private_root
from gongzhi.triage import learn
from gongzhi.triage.models import BodySuccessor, ModelVersion

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

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


def case_history() -> tuple[list[str], list[str], list[str], datetime | None, datetime | None]:
    """Closed cases: their words (title + description), the body that handled them (after renames) and the category."""
    from gongzhi.cases.models import Case

    successors = successor_map()
    rows = (
        Case.objects.filter(status__in=CLOSED_STATUSES, handler_body__isnull=False)
        .order_by("pk")
        .values_list("title", "description", "handler_body_id", "category_id", "created_at")
    )
    texts: list[str] = []
    bodies: list[str] = []
    categories: list[str] = []
    first: datetime | None = None
    last: datetime | None = None
    for title, description, body_id, category_id, created in rows:
        texts.append(learn.citizen_words(f"{title}。{description}"))
        bodies.append(str(successors.get(body_id, body_id)))
        categories.append(str(category_id))
        first = created if first is None or created < first else first
        last = created if last is None or created > last else last
    return texts, bodies, categories, first, last


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
    data_from = data_to = None
    if texts is None or labels is None:
        texts, labels, categories, data_from, data_to = case_history()
    if len({lab for lab in labels if list(labels).count(lab) >= learn.INNER_FOLDS}) < 2:
        raise Conflict(TOO_FEW)
    fitted = learn.fit(texts, labels, target=target)
    category_pipeline = None
    if categories and len(set(categories)) > 1:
        try:
            category_pipeline = learn.fit_pipeline(texts, categories)
        except ValueError:
            category_pipeline = None
    name = f"model-{secrets.token_hex(8)}.joblib"
    bundle: dict[str, Any] = {"body": fitted.pipeline, "category": category_pipeline, "threshold": fitted.threshold}
    joblib.dump(bundle, model_dir() / name)
    with transaction.atomic():
        version = ModelVersion.objects.create(
            source=source[:200],
            file=name,
            n=fitted.n,
            classes=len(fitted.classes),
            threshold=fitted.threshold,
            precision_target=target,
            metrics={"labels": len(set(labels))},
            data_from=data_from,
            data_to=data_to,
            train_seconds=round(fitted.train_seconds, 2),
        )
        audit.record(actor=user, action="triage.train", obj=version, after={"n": version.n, "source": source})
        if activate:
            _activate(user=user, version=version)
    return version


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
