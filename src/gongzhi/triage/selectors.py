"""Reads of the triage app: the versions, the active model (loaded once per process) and suggestions in scope."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import joblib
import numpy as np
from django.db.models import QuerySet

from gongzhi.triage import learn
from gongzhi.triage.models import ModelVersion

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def forget_loaded() -> None:
    with _lock:
        _loaded.clear()


def versions(*, user: User) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.restrict(user, "view").order_by("-created_at", "-pk")


def active_bundle() -> tuple[ModelVersion, dict[str, Any]] | None:
    """The version in use and its fitted pipelines (read from private storage once per version and process)."""
    version = ModelVersion.objects.filter(is_active=True).first()
    if version is None:
        return None
    with _lock:
        if _loaded.get("pk") != version.pk:
            from gongzhi.triage.services import model_dir

            path = model_dir() / version.file
            if not path.exists():
                return None
            _loaded.clear()
            _loaded.update(pk=version.pk, bundle=joblib.load(path))
        return version, _loaded["bundle"]


def weighed_words(pipeline: Any, text: str, label: str, limit: int = 5) -> list[str]:
    """The n-grams of ``text`` that pushed most towards ``label``: feature value × the linear model's weight."""
    features = pipeline.named_steps["features"]
    model = pipeline.named_steps["model"]
    vector = features.transform([text]).tocsr()
    classes = list(pipeline.classes_)
    if label not in classes:
        return []
    weights = model.weights(label)
    names = features.get_feature_names_out()
    scores: dict[str, float] = {}
    for col, value in zip(vector.indices, vector.data, strict=True):
        word = str(names[col]).strip()
        if not word or len(word) < 2:
            continue
        score = value * weights[col]
        if score > 0 and score > scores.get(word, 0):
            scores[word] = score
    ranked = sorted(scores, key=lambda w: -scores[w])
    chosen: list[str] = []
    for word in ranked:  # a longer n-gram already shown covers its parts
        if any(word in other or other in word for other in chosen):
            continue
        chosen.append(word)
        if len(chosen) == limit:
            break
    return chosen


@dataclass
class Suggestion:
    id: int
    name: str
    confidence: float
    words: list[str]


@dataclass
class Suggestions:
    version: int | None
    threshold: float | None
    bodies: list[Suggestion]
    categories: list[Suggestion]
    confident: bool


def _ranked(pipeline: Any, text: str) -> list[tuple[str, float]]:
    proba = pipeline.predict_proba([text])[0]
    order = np.argsort(-proba)
    return [(str(pipeline.classes_[i]), float(proba[i])) for i in order]


def suggest(*, user: User, text: str, node_code: str = "", limit: int = 3) -> Suggestions:
    """The top bodies and categories for these words, each with its confidence and the words that weighed most.

    Only bodies the user may see are named (a hidden body is skipped, never shown, even as a number)."""
    from gongzhi.cases.models import Category
    from gongzhi.territory.models import Body

    loaded = active_bundle()
    if loaded is None:
        return Suggestions(version=None, threshold=None, bodies=[], categories=[], confident=False)
    version, bundle = loaded
    words = learn.citizen_words(text)
    bodies: list[Suggestion] = []
    ranked = _ranked(bundle["body"], words)
    ids = [int(label) for label, _ in ranked[: max(limit * 4, 12)] if label.isdigit()]
    visible = {b.pk: b for b in Body.objects.restrict(user, "view").filter(pk__in=ids)}
    for label, confidence in ranked:
        if not label.isdigit() or int(label) not in visible:
            continue
        body = visible[int(label)]
        bodies.append(Suggestion(body.pk, body.name, round(confidence, 4), weighed_words(bundle["body"], words, label)))
        if len(bodies) == limit:
            break
    categories: list[Suggestion] = []
    if bundle.get("category") is not None:
        cranked = _ranked(bundle["category"], words)[:limit]
        names = Category.objects.restrict(user, "view").in_bulk([int(lab) for lab, _ in cranked if lab.isdigit()])
        for label, confidence in cranked:
            category = names.get(int(label)) if label.isdigit() else None
            if category is not None:
                categories.append(
                    Suggestion(
                        category.pk,
                        category.name,
                        round(confidence, 4),
                        weighed_words(bundle["category"], words, label),
                    )
                )
    top_is_first = bool(bodies) and str(bodies[0].id) == ranked[0][0]
    confident = top_is_first and bodies[0].confidence >= version.threshold
    return Suggestions(version.pk, version.threshold, bodies, categories, confident)


WAITING = ("reported", "accepted", "returned")


def case_suggestions(*, user: User, case_id: int) -> Suggestions | None:
    """Suggestions for a case the user may change that waits to be dispatched; None otherwise (or out of scope)."""
    from gongzhi.cases.models import Case

    case = Case.objects.restrict(user, "change").filter(pk=case_id, status__in=WAITING).first()
    if case is None:
        return None
    return suggest(user=user, text=f"{case.title}。{case.description}", node_code=case.place_code)
