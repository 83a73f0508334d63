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
        if not word or len(word) < 2 or not all(ch.isalnum() for ch in word):  # "：府" explains nothing
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


def _read(bundle: dict[str, Any], text: str, node_code: str) -> str:
    """What the version's pipelines read of a case: its citizen's words and, for a version that learned places, the
    place too (``learn.ticket``)."""
    words = learn.citizen_words(text)
    return learn.ticket(words, node_code) if bundle.get("place") else words


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
    words = _read(bundle, text, node_code)
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


@dataclass
class Top:
    """What the model in use says of some words, unscoped (for the system's own use: never shown as it is)."""

    version: ModelVersion
    body: int | None
    confidence: float
    words: list[str]
    category: int | None
    category_confidence: float


def top(text: str, node_code: str = "") -> Top | None:
    """The active version's top body and category for these words at this place (None without a model in use)."""
    loaded = active_bundle()
    if loaded is None:
        return None
    version, bundle = loaded
    words = _read(bundle, text, node_code)
    ranked = _ranked(bundle["body"], words)
    label, confidence = ranked[0]
    category: int | None = None
    category_confidence = 0.0
    if bundle.get("category") is not None:
        clabel, category_confidence = _ranked(bundle["category"], words)[0]
        category = int(clabel) if clabel.isdigit() else None
    return Top(
        version=version,
        body=int(label) if label.isdigit() else None,
        confidence=round(confidence, 4),
        words=weighed_words(bundle["body"], words, label, limit=3),
        category=category,
        category_confidence=round(category_confidence, 4),
    )


@dataclass
class DeskRow:
    case_id: int
    body: str
    confidence: float
    words: list[str]
    category: str
    dispatched: bool


def desk_suggestions(*, user: User, case_ids: list[int]) -> list[DeskRow]:
    """The intake list's line per case: the top body (only one the user may see) and confidence the model gave when
    the case arrived, and the category it suggests. Cases out of the user's reach are left out."""
    from gongzhi.cases.models import Case
    from gongzhi.territory.models import Body
    from gongzhi.triage.models import CaseSuggestion

    visible = list(Case.objects.restrict(user, "view").filter(pk__in=case_ids[:200]).values_list("pk", flat=True))
    rows = list(
        CaseSuggestion.objects.restrict(user, "view").filter(case_id__in=visible).select_related("body", "category")
    )
    seen_bodies = set(
        Body.objects.restrict(user, "view")
        .filter(pk__in=[r.body_id for r in rows if r.body_id])
        .values_list("pk", flat=True)
    )
    out = []
    for r in rows:
        body = r.body.name if r.body is not None and r.body_id in seen_bodies else ""
        category = r.category.name if r.category is not None else ""
        if body or category:
            out.append(DeskRow(r.case_id, body, r.confidence if body else 0.0, r.words if body else [], category,
                               r.dispatched))  # fmt: skip
    # Cases that arrived before a model was in use (or whose task has not run yet): asked now, in the user's scope.
    stored = {r.case_id for r in rows}
    missing = Case.objects.filter(pk__in=[pk for pk in visible if pk not in stored][:50])
    for case in missing.only("pk", "title", "description", "place_code"):
        said = suggest(user=user, text=f"{case.title}。{case.description}", node_code=case.place_code, limit=1)
        if said.bodies or said.categories:
            top_body = said.bodies[0] if said.bodies else None
            out.append(
                DeskRow(
                    case.pk,
                    top_body.name if top_body else "",
                    top_body.confidence if top_body else 0.0,
                    top_body.words[:3] if top_body else [],
                    said.categories[0].name if said.categories else "",
                    False,
                )
            )
    return out


def case_suggestions_api(*, user: User, case_id: int) -> Suggestions:
    """The suggestions for one case the user may see (out of scope: 404), whatever its state."""
    from gongzhi.cases.models import Case
    from gongzhi.core.access import get_in_scope

    case = get_in_scope(Case, user, case_id)
    return suggest(user=user, text=f"{case.title}。{case.description}", node_code=case.place_code)


def auto_dispatch_of(subdistrict_code: str) -> Any:
    from gongzhi.triage.models import AutoDispatch

    return AutoDispatch.objects.filter(subdistrict__code=subdistrict_code).first()


def settings_for(*, user: User) -> list[tuple[Any, Any]]:
    """The subdistricts whose auto-dispatch the user may set, each with its settings (None: never set)."""
    from gongzhi.territory.models import Node
    from gongzhi.triage.models import AutoDispatch

    scope = user.scope_for("triage.autodispatch", "change")
    if scope.is_empty:
        return []
    nodes = [n for n in Node.objects.restrict(user, "view").filter(kind="subdistrict").order_by("code")
             if scope.everything or scope.covers(n.code)]  # fmt: skip
    rows = AutoDispatch.objects.restrict(user, "view").filter(subdistrict__in=nodes)
    mine = {a.subdistrict_id: a for a in rows.prefetch_related("categories", "bodies")}
    return [(n, mine.get(n.pk)) for n in nodes]


def feedback_counts(*, user: User, version: ModelVersion | None) -> dict[str, int]:
    """How the desk answered the version's suggestions (accepted, override, returned), in the user's scope."""
    from django.db.models import Count

    from gongzhi.triage.models import Feedback

    if version is None:
        return {}
    rows = Feedback.objects.restrict(user, "view").filter(version=version).values("kind").annotate(n=Count("pk"))
    return {r["kind"]: r["n"] for r in rows}


def switch_choices(*, user: User) -> dict[str, list[tuple[str, str]]]:
    """What the auto-dispatch switch may name: the active categories (minor ones under their major) and the bodies
    the user sees (not the subdistrict office itself)."""
    from gongzhi.cases.models import Category
    from gongzhi.territory.models import Body

    categories = Category.objects.restrict(user, "view").filter(is_active=True).select_related("parent")
    bodies = Body.objects.restrict(user, "view").exclude(kind="subdistrict_office").order_by("kind", "name")[:500]
    return {
        "categories": [
            (str(c.pk), f"{c.parent.name} · {c.name}" if c.parent is not None else c.name)
            for c in categories.order_by("kind", "code")[:500]
        ],
        "bodies": [(str(b.pk), b.name) for b in bodies],
    }
