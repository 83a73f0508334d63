"""Suggested matches: which resources could serve which needs, best first, each explained in words.

Pure computation on plain rows (no database): the selectors load the rows, this module scores them.

The score of a (need, resource) pair is a weighted sum of six parts, each in [0, 1]:

* **text** — cosine similarity of the Chinese texts (title, description, category, beneficiaries), as TF-IDF over
  character unigrams and bigrams (scikit-learn's ``TfidfVectorizer(analyzer="char", ngram_range=(1, 2))``) fitted
  on the resources' texts and kept per set of resources (:func:`text_index`): Chinese has no spaces, and characters
  and character pairs carry the words (老人, 助餐, 课后, 辅导);
* **category** — 1 when the resource's category is the need's;
* **distance** — ``1 / (1 + d / 1 km)`` of the distance between the need's and the resource's places;
* **time** — 1 when the resource is available when help is wanted (weekdays / weekends / evenings; a need that names
  no time takes any), else 0;
* **capacity** — the share of the need's beneficiaries the resource's capacity left can serve (at most 1);
* **past performance** — the unit's completed projects of the need's category, 5 or more counting fully.

A resource with **no capacity left is never suggested** (its score is −∞). Everything is computed for all pairs at
once as matrices (numpy, a sparse product for the texts): a community's 1,000 needs × 2,000 resources is one
product and a few broadcasts (see ``bench``), where :func:`naive_scores` — the same scoring, pair by pair — is the
reference the tests and the benchmark compare it with.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.utils.translation import gettext_lazy as _
from sklearn.feature_extraction.text import TfidfVectorizer

from gongzhi.core.messages import fmt, join
from gongzhi.participation.choices import SLOT_BITS, Slot

WEIGHTS = {"text": 0.35, "category": 0.25, "distance": 0.15, "time": 0.10, "capacity": 0.05, "performance": 0.10}
PERFORMANCE_FULL = 5  # completed similar projects that count as a full track record
DISTANCE_SCALE_M = 1000.0
EARTH_RADIUS_M = 6_371_000.0
TEXT_SIMILAR = 0.2  # a text similarity worth naming in the explanation
NEAR_M = 3000.0  # a distance worth naming


def slot_bits(slots: Sequence[str] | None) -> int:
    return sum(SLOT_BITS.get(s, 0) for s in set(slots or ()))  # type: ignore[call-overload]  # Slot values are str


@dataclass
class NeedRow:
    id: int
    text: str
    category_id: int
    category_name: str
    lat: float | None
    lng: float | None
    slots: int  # bits (SLOT_BITS)
    beneficiary_count: int


@dataclass
class ResourceRow:
    id: int
    text: str
    category_id: int | None
    unit_id: int
    lat: float | None
    lng: float | None
    slots: int
    capacity_left: int


@dataclass
class Suggestion:
    need_id: int
    resource_id: int
    score: float
    parts: dict[str, float]
    distance_m: float | None
    similar_done: int
    reasons: list[Any] = field(default_factory=list)  # lazy messages (translated when shown)

    @property
    def explanation(self) -> Any:
        return join(self.reasons, "；")


@dataclass
class Scored:
    """Every part of every pair: matrices of shape (needs, resources)."""

    needs: list[NeedRow]
    resources: list[ResourceRow]
    score: np.ndarray
    parts: dict[str, np.ndarray]
    distance_m: np.ndarray
    similar_done: np.ndarray


def _vectoriser() -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)


@dataclass
class TextIndex:
    """The resources' texts as TF-IDF vectors, the vectoriser fitted on them (the IDF of what is offered; an n-gram
    no resource has counts for nothing). Built once per set of resources and kept (:func:`text_index`): a need's
    page then only vectorises the need."""

    vectoriser: TfidfVectorizer
    matrix: Any  # scipy CSR, one row per resource


_INDEXES: dict[tuple[tuple[int, str], ...], TextIndex] = {}
_INDEXES_KEPT = 16


def text_index(resources: Sequence[ResourceRow]) -> TextIndex:
    """The index of these resources' texts, from the process's cache when the same texts were indexed before."""
    key = tuple((r.id, r.text) for r in resources)
    found = _INDEXES.get(key)
    if found is None:
        vec = _vectoriser()
        found = TextIndex(vec, vec.fit_transform([r.text for r in resources]).tocsr())
        if len(_INDEXES) >= _INDEXES_KEPT:
            _INDEXES.pop(next(iter(_INDEXES)))
        _INDEXES[key] = found
    return found


def _distance(lat1: np.ndarray, lng1: np.ndarray, lat2: np.ndarray, lng2: np.ndarray) -> np.ndarray:
    """Metres between points, on the local plane at the first point's latitude (equirectangular): within a
    subdistrict's few kilometres it is within 0.1 % of the great-circle distance, at a fraction of its cost."""
    dy = np.radians(lat2 - lat1)
    dx = np.radians(lng2 - lng1) * np.cos(np.radians(lat1))
    distance: np.ndarray = EARTH_RADIUS_M * np.sqrt(dx * dx + dy * dy)
    return distance


def _coords(rows: Sequence[NeedRow | ResourceRow]) -> tuple[np.ndarray, np.ndarray]:
    lat = np.array([r.lat if r.lat is not None else np.nan for r in rows], dtype=float)
    lng = np.array([r.lng if r.lng is not None else np.nan for r in rows], dtype=float)
    return lat, lng


def score_all(
    needs: Sequence[NeedRow], resources: Sequence[ResourceRow], done: dict[tuple[int, int], int] | None = None
) -> Scored:
    """Score every need against every resource at once. ``done``: completed projects per (unit id, category id)."""
    needs, resources = list(needs), list(resources)
    n, r = len(needs), len(resources)
    done = done or {}
    if n == 0 or r == 0:
        empty = np.zeros((n, r))
        return Scored(needs, resources, empty, {k: empty for k in WEIGHTS}, empty, empty.astype(int))
    index = text_index(resources)
    text = np.asarray((index.vectoriser.transform([x.text for x in needs]) @ index.matrix.T).todense())

    ncat = np.array([x.category_id for x in needs])
    rcat = np.array([x.category_id if x.category_id is not None else -1 for x in resources])
    category = (ncat[:, None] == rcat[None, :]).astype(float)

    nlat, nlng = _coords(needs)
    rlat, rlng = _coords(resources)
    distance_m = _distance(nlat[:, None], nlng[:, None], rlat[None, :], rlng[None, :])
    distance = np.where(np.isnan(distance_m), 0.5, 1.0 / (1.0 + np.nan_to_num(distance_m) / DISTANCE_SCALE_M))

    nslots = np.array([x.slots for x in needs])
    rslots = np.array([x.slots for x in resources])
    time = (((nslots[:, None] & rslots[None, :]) != 0) | (nslots[:, None] == 0)).astype(float)

    left = np.array([x.capacity_left for x in resources], dtype=float)
    wanted = np.array([max(x.beneficiary_count, 1) for x in needs], dtype=float)
    capacity = np.minimum(1.0, left[None, :] / wanted[:, None])

    units = sorted({x.unit_id for x in resources})
    unit_index = {u: i for i, u in enumerate(units)}
    cats = sorted({x.category_id for x in needs})
    cat_index = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(units), len(cats)), dtype=int)
    for (unit_id, category_id), count in done.items():
        if unit_id in unit_index and category_id in cat_index:
            table[unit_index[unit_id], cat_index[category_id]] = count
    rows_u = np.array([unit_index[x.unit_id] for x in resources])
    cols_c = np.array([cat_index[x.category_id] for x in needs])
    similar_done = table[rows_u[None, :], cols_c[:, None]]
    performance = np.minimum(1.0, similar_done / PERFORMANCE_FULL)

    parts = {
        "text": text,
        "category": category,
        "distance": distance,
        "time": time,
        "capacity": capacity,
        "performance": performance,
    }
    score = sum(WEIGHTS[k] * v for k, v in parts.items())
    score = np.where(left[None, :] > 0, score, -np.inf)
    return Scored(needs, resources, score, parts, distance_m, similar_done)


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` best finite scores of a vector, best first (ties: the lower index first)."""
    finite = np.flatnonzero(np.isfinite(scores))
    if finite.size == 0:
        return finite
    if finite.size > k:
        part = np.argpartition(-scores[finite], k - 1)[:k]
        finite = finite[part]
    order = np.lexsort((finite, -scores[finite]))
    return np.asarray(finite[order])


def _suggestion(scored: Scored, i: int, j: int, slot_labels: dict[int, Any]) -> Suggestion:
    need, res = scored.needs[i], scored.resources[j]
    parts = {k: float(v[i, j]) for k, v in scored.parts.items()}
    d = float(scored.distance_m[i, j])
    distance = None if math.isnan(d) else d
    done = int(scored.similar_done[i, j])
    return Suggestion(
        need_id=need.id,
        resource_id=res.id,
        score=round(float(scored.score[i, j]), 4),
        parts={k: round(v, 4) for k, v in parts.items()},
        distance_m=None if distance is None else round(distance),
        similar_done=done,
        reasons=explain(need, res, parts, distance, done, slot_labels),
    )


def for_each_need(scored: Scored, k: int = 5) -> dict[int, list[Suggestion]]:
    labels = _slot_labels()
    return {
        need.id: [_suggestion(scored, i, int(j), labels) for j in _top(scored.score[i], k)]
        for i, need in enumerate(scored.needs)
    }


def for_each_resource(scored: Scored, k: int = 5) -> dict[int, list[Suggestion]]:
    labels = _slot_labels()
    return {
        res.id: [_suggestion(scored, int(i), j, labels) for i in _top(scored.score[:, j], k)]
        for j, res in enumerate(scored.resources)
    }


@functools.cache
def _slots_text(bits: int) -> Any:
    """The times in these bits as one lazy text ("工作日、周末"): made once per combination (a lazy join is costly)."""
    labels = _slot_labels()
    return join([labels[b] for b in sorted(labels) if bits & b], "、")


def _slot_labels() -> dict[int, Any]:
    return {bit: Slot(slot).label for slot, bit in SLOT_BITS.items()}


def _distance_text(distance_m: float) -> Any:
    if distance_m < 1000:
        return fmt(_("%(metres)s m away"), metres=int(round(distance_m, -1)))
    return fmt(_("%(km)s km away"), km=f"{distance_m / 1000:.1f}")


def explain(
    need: NeedRow,
    res: ResourceRow,
    parts: dict[str, float],
    distance_m: float | None,
    similar_done: int,
    slot_labels: dict[int, Any] | None = None,
) -> list[Any]:
    """The suggestion in words, strongest reasons first:
    "同类别 助老；相距 800 米；该单位已完成 3 个类似项目；周末可用"."""
    reasons: list[Any] = []
    if parts["category"] >= 1:
        reasons.append(fmt(_("same category %(category)s"), category=need.category_name))
    if parts["text"] >= TEXT_SIMILAR:
        reasons.append(fmt(_("similar description (%(percent)s%%)"), percent=round(100 * parts["text"])))
    if distance_m is not None and distance_m <= NEAR_M:
        reasons.append(_distance_text(distance_m))
    if similar_done:
        reasons.append(fmt(_("this unit finished %(count)s similar projects"), count=similar_done))
    common = (need.slots & res.slots) if need.slots else res.slots
    if common:
        reasons.append(fmt(_("available %(when)s"), when=_slots_text(common)))
    if res.capacity_left < need.beneficiary_count:
        reasons.append(
            fmt(_("capacity left for %(left)s of %(wanted)s"), left=res.capacity_left, wanted=need.beneficiary_count)
        )
    return reasons


# --- the reference: the same scoring, pair by pair ------------------------------------------------------------------


def naive_scores(
    needs: Sequence[NeedRow], resources: Sequence[ResourceRow], done: dict[tuple[int, int], int] | None = None
) -> list[list[float]]:
    """Every pair scored one at a time in plain Python (the TF-IDF vectors as dictionaries): what :func:`score_all`
    must equal, and what the benchmark compares it with."""
    done = done or {}
    needs, resources = list(needs), list(resources)
    if not needs or not resources:
        return [[] for _ in needs]
    index = text_index(resources)

    def as_dict(matrix: Any) -> list[dict[int, float]]:
        return [
            dict(zip(matrix.indices[a:b].tolist(), matrix.data[a:b].tolist(), strict=True))
            for a, b in zip(matrix.indptr[:-1], matrix.indptr[1:], strict=True)
        ]

    nvec, rvec = as_dict(index.vectoriser.transform([x.text for x in needs]).tocsr()), as_dict(index.matrix)
    out: list[list[float]] = []
    for need, nv in zip(needs, nvec, strict=True):
        row: list[float] = []
        for res, rv in zip(resources, rvec, strict=True):
            row.append(pair_score(need, res, nv, rv, done))
        out.append(row)
    return out


def pair_score(
    need: NeedRow, res: ResourceRow, nv: dict[int, float], rv: dict[int, float], done: dict[tuple[int, int], int]
) -> float:
    if res.capacity_left <= 0:
        return -math.inf
    small, big = (nv, rv) if len(nv) <= len(rv) else (rv, nv)
    text = sum(w * big.get(t, 0.0) for t, w in small.items())
    category = 1.0 if res.category_id == need.category_id else 0.0
    if None in (need.lat, need.lng, res.lat, res.lng):
        distance = 0.5
    else:
        d = _distance_one(need.lat, need.lng, res.lat, res.lng)  # type: ignore[arg-type]  # checked above
        distance = 1.0 / (1.0 + d / DISTANCE_SCALE_M)
    time = 1.0 if (need.slots == 0 or need.slots & res.slots) else 0.0
    capacity = min(1.0, res.capacity_left / max(need.beneficiary_count, 1))
    performance = min(1.0, done.get((res.unit_id, need.category_id), 0) / PERFORMANCE_FULL)
    return (
        WEIGHTS["text"] * text
        + WEIGHTS["category"] * category
        + WEIGHTS["distance"] * distance
        + WEIGHTS["time"] * time
        + WEIGHTS["capacity"] * capacity
        + WEIGHTS["performance"] * performance
    )


def _distance_one(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    dy = math.radians(lat2 - lat1)
    dx = math.radians(lng2 - lng1) * math.cos(math.radians(lat1))
    return EARTH_RADIUS_M * math.sqrt(dx * dx + dy * dy)
