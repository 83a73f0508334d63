"""The triage model itself, free of Django: what the model sees, the pipeline, the threshold and the evaluation.

The same :func:`build_pipeline` is what ``gongzhi triage train`` stores and what ``gongzhi triage evaluate`` measures.
The model sees the citizen's words (:func:`citizen_words` strips what the dispatcher and the department added) and,
where it is known, the place (:func:`ticket`: the subdistrict, community and grid the case is filed under — the same
words mean another property company or committee in another 小区).
The decision threshold is chosen on held-out predictions of the *training* data only (:func:`choose_threshold` over
cross-validated probabilities, with a margin of two standard errors), never on the tickets it is then measured on.
"""

from __future__ import annotations

import csv
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from scipy.optimize import minimize_scalar
from scipy.sparse import csr_matrix, hstack
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

SEED = 0
INNER_FOLDS = 3  # the fewest examples a body needs to be learned (and the calibration's folds in older versions)
CALIBRATION_FOLDS = 5  # out-of-fold scores for the temperature and the threshold: each fold model sees 80 %
SVM_C = 1.0
THRESHOLD_SE = 2.0  # the threshold's precision must reach the target less this many standard errors of it
PLACE_MARK = "\x1f"  # between a ticket's words and its place code (a character no citizen types)
PLACE_LEVELS = (9, 12, 15)  # the place's subdistrict, community (or village) and grid: territory code prefixes
PLACE_WEIGHT = 0.2  # each level's feature value, against the words' TF-IDF vector of length one (docs/triage.md)

_ROUTING = re.compile(r"请[^。！!]*?(核实|处理|办理)[^。！!]*[。！!]?")
_DESK_NOTE = re.compile(r"[（(]请职能局[^）)]*[）)]")
_CALLER = re.compile(r"^\s*市民(来电|公众号|微信|网上|来信)?反映[:：]\s*")


def citizen_words(text: str) -> str:
    """The part of a ticket a triage model may see: the first line, without the dispatcher's routing notes."""
    text = (text or "").replace("\r\n", "\n").split("\n")[0]
    text = _ROUTING.sub("", text)
    text = _DESK_NOTE.sub("", text)
    text = re.sub(r"[（(]\s*$", "", text)  # what the routing note left of the desk's bracket
    return _CALLER.sub("", text).strip()


def ticket(words: str, place_code: str = "") -> str:
    """What the model reads of a case: its words and, after :data:`PLACE_MARK`, the code of its place if known."""
    return f"{words}{PLACE_MARK}{place_code}" if place_code else words


def _parts(tickets: Sequence[str]) -> tuple[list[str], list[str]]:
    words: list[str] = []
    places: list[str] = []
    for one in tickets:
        text, _mark, place = str(one).partition(PLACE_MARK)
        words.append(text)
        places.append(place)
    return words, places


def _place_keys(code: str) -> list[str]:
    return [f"{n}:{code[:n]}" for n in PLACE_LEVELS if len(code) >= n]


class TicketFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """A ticket's features: TF-IDF of the words' character 1–3-grams, then one feature per level of its place
    (:data:`PLACE_LEVELS`, value :data:`PLACE_WEIGHT`) among the places seen in training. A ticket without a place
    (a CSV export) has the words' features only."""

    def __init__(self, place_weight: float = PLACE_WEIGHT) -> None:
        self.place_weight = place_weight

    def fit(self, X: Sequence[str], y: Any = None) -> TicketFeatures:
        words, places = _parts(X)
        self.words_ = TfidfVectorizer(
            analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=1, max_features=300_000
        ).fit(words)
        keys = sorted({key for place in places for key in _place_keys(place)})
        self.places_ = {key: i for i, key in enumerate(keys)}
        return self

    def transform(self, X: Sequence[str]) -> Any:
        words, places = _parts(X)
        rows: list[int] = []
        cols: list[int] = []
        for row, place in enumerate(places):
            for key in _place_keys(place):
                col = self.places_.get(key)
                if col is not None:
                    rows.append(row)
                    cols.append(col)
        where = csr_matrix(
            (np.full(len(rows), self.place_weight), (rows, cols)), shape=(len(words), len(self.places_))
        )
        return hstack([self.words_.transform(words), where], format="csr")

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The n-grams, then the places as ``@<level>:<code>`` (never shown as words: they are not all letters)."""
        places = np.asarray([f"@{key}" for key in sorted(self.places_, key=self.places_.__getitem__)], dtype=object)
        return np.concatenate([self.words_.get_feature_names_out(), places])


class CalibratedSVM(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A linear SVM whose scores become probabilities by temperature scaling (a softmax of the scores divided by one
    temperature), the temperature fitted on out-of-fold scores of the training data. The same out-of-fold
    probabilities are kept (``oof_confidence_``, ``oof_correct_``) so the decision threshold is chosen on held-out
    predictions of the training data only, at the cost of ``folds`` + 1 SVM fits (run ``n_jobs`` at a time, in worker
    processes; ``fit_cpu_seconds_`` is their CPU time)."""

    def __init__(self, C: float = SVM_C, folds: int = CALIBRATION_FOLDS, n_jobs: int = 2) -> None:
        self.C = C
        self.folds = folds
        self.n_jobs = n_jobs

    def _svm(self) -> LinearSVC:
        return LinearSVC(C=self.C, random_state=SEED)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> CalibratedSVM:
        """``sample_weight``: how much each ticket counts in the SVM fits (a correction of the desk more than one
        closed case); the temperature and the held-out confidences count each ticket once."""
        y = np.asarray(y, dtype=object)
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=float)
        self.classes_ = np.unique(y)
        index = {c: i for i, c in enumerate(self.classes_)}
        truth = np.array([index[v] for v in y])
        scores = np.full((len(y), len(self.classes_)), -10.0)
        splits = list(_cv(list(y), self.folds).split(np.zeros(len(y)), y))

        def one(train: np.ndarray | None) -> tuple[LinearSVC, float]:
            started = time.process_time()
            if train is None:
                svm = self._svm().fit(X, y, sample_weight=weight)
            else:
                svm = self._svm().fit(X[train], y[train], sample_weight=None if weight is None else weight[train])
            return svm, time.process_time() - started

        # Worker processes, not threads: liblinear's random generator is global to a process, so two fits in
        # threads of one process would not be reproducible.
        fitted = Parallel(n_jobs=self.n_jobs)(delayed(one)(train) for train in [None, *[t for t, _ in splits]])
        self.svm_ = fitted[0][0]
        self.fit_cpu_seconds_ = float(sum(cpu for _, cpu in fitted))
        for (svm, _), (_, test) in zip(fitted[1:], splits, strict=True):
            cols = [index[c] for c in svm.classes_]
            decision = svm.decision_function(X[test])
            if decision.ndim == 1:
                decision = np.column_stack([-decision, decision])
            scores[np.ix_(test, cols)] = decision
        self.temperature_ = _fit_temperature(scores, truth)
        proba = _softmax(scores / self.temperature_)
        best = proba.argmax(axis=1)
        self.oof_confidence_ = proba[np.arange(len(y)), best]
        self.oof_correct_ = best == truth
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        decision = self.svm_.decision_function(X)
        if decision.ndim == 1:
            decision = np.column_stack([-decision, decision])
        return np.asarray(decision)

    def predict_proba(self, X: Any) -> np.ndarray:
        return _softmax(self.decision_function(X) / self.temperature_)

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_[self.decision_function(X).argmax(axis=1)])

    def weights(self, label: str) -> np.ndarray:
        """The linear weights that push towards ``label`` (for explaining a suggestion)."""
        coef = self.svm_.coef_
        i = list(self.classes_).index(label)
        if coef.shape[0] == 1:
            return np.asarray(coef[0] if i == 1 else -coef[0]).ravel()
        return np.asarray(coef[i]).ravel()


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True))


def _fit_temperature(scores: np.ndarray, truth: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of the true labels (a one-dimensional search)."""

    def nll(t: float) -> float:
        p = _softmax(scores / t)
        return float(-np.log(np.clip(p[np.arange(len(truth)), truth], 1e-12, None)).mean())

    return float(minimize_scalar(nll, bounds=(0.01, 10.0), method="bounded").x)


def build_pipeline() -> Pipeline:
    """The ticket's features (:class:`TicketFeatures`: TF-IDF of character 1–3-grams, and the place) → a linear SVM
    (C = 1), temperature-calibrated on out-of-fold scores."""
    return Pipeline([("features", TicketFeatures()), ("model", CalibratedSVM())])


def fit_pipeline(
    texts: Sequence[str], labels: Sequence[str], weights: Sequence[float] | None = None
) -> Pipeline:
    """:func:`build_pipeline` fitted on these tickets (:func:`ticket`), each counting its weight (1 without),
    leaving out bodies seen in fewer than three tickets (too rare to learn, and too few for the calibration folds to
    hold them out)."""
    names, counts = np.unique(np.asarray(labels, dtype=object), return_counts=True)
    keep = {name for name, count in zip(names, counts, strict=True) if count >= INNER_FOLDS}
    if len(keep) < 2:
        raise ValueError("at least two labels with three examples each are needed")
    given = [1.0] * len(texts) if weights is None else [float(w) for w in weights]
    rows = [(t, lab, w) for t, lab, w in zip(texts, labels, given, strict=True) if lab in keep]
    return build_pipeline().fit(
        [t for t, _, _ in rows],
        [lab for _, lab, _ in rows],
        model__sample_weight=None if weights is None else [w for _, _, w in rows],
    )


def _cv(labels: Sequence[str], folds: int) -> Any:
    counts = np.unique(np.asarray(labels), return_counts=True)[1]
    if counts.min() >= folds:
        return StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    return KFold(n_splits=folds, shuffle=True, random_state=SEED)


def choose_threshold(confidence: np.ndarray, correct: np.ndarray, target: float, *, se: float = 0.0) -> float:
    """The lowest confidence at which the tickets at or above it are right at least ``target`` of the time.

    Ranked by confidence (highest first), the cumulative precision is computed; the threshold is the confidence of
    the deepest rank where it still reaches ``target`` — less ``se`` standard errors of that precision
    (√(p(1−p)/n) over the n tickets above the rank) when ``se`` is given: the deepest rank of a noisy curve is an
    optimistic pick, and the fewer tickets above it, the more so (a flawless head keeps its precision of 1, so small
    clean histories still decide alone). Nothing qualifies → 1.01 (never decides alone).
    """
    if len(confidence) == 0:
        return 1.01
    order = np.argsort(-confidence, kind="stable")
    hits = np.cumsum(correct[order].astype(float))
    depth_n = np.arange(1, len(order) + 1)
    precision = hits / depth_n
    if se:
        precision = precision - se * np.sqrt(precision * (1 - precision) / depth_n)
    ok = np.flatnonzero(precision >= target)
    if len(ok) == 0:
        return 1.01
    depth = ok[-1]
    # Ties: the threshold must not let in tickets of the same confidence below the chosen depth.
    return float(confidence[order][depth])


@dataclass
class Fitted:
    pipeline: Pipeline
    threshold: float
    classes: list[str]
    train_seconds: float
    n: int
    metrics: dict[str, Any] = field(default_factory=dict)


def fit(
    texts: Sequence[str], labels: Sequence[str], *, target: float = 0.95, weights: Sequence[float] | None = None
) -> Fitted:
    """Fit the product's model on all these tickets (each counting its weight), with its threshold from held-out
    predictions of the same."""
    started = time.perf_counter()
    pipeline = fit_pipeline(list(texts), list(labels), weights)
    model = pipeline.named_steps["model"]
    # Held-out confidences of the training tickets; the margin of THRESHOLD_SE standard errors covers both the noise
    # of that estimate and the SVM refitted on all the tickets being a little surer than the fold SVMs.
    threshold = choose_threshold(model.oof_confidence_, model.oof_correct_, target, se=THRESHOLD_SE)
    return Fitted(
        pipeline=pipeline,
        threshold=threshold,
        classes=[str(c) for c in pipeline.classes_],
        train_seconds=time.perf_counter() - started,
        n=len(texts),
    )


def evaluate(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    folds: int = 5,
    target: float = 0.95,
    weights: Sequence[float] | None = None,
) -> dict[str, Any]:
    """k-fold cross-validation (shuffled, seed 0) of :func:`fit`: the figures ``gongzhi triage evaluate`` prints.
    ``weights`` weigh the training folds' tickets; every test ticket counts once."""
    texts_arr = np.asarray(texts, dtype=object)
    labels_arr = np.asarray(labels, dtype=object)
    weights_arr = None if weights is None else np.asarray(weights, dtype=float)
    top1 = top3 = decided = decided_right = 0
    train_seconds: list[float] = []
    latencies: list[float] = []
    for train, test in _cv(labels, folds).split(texts_arr, labels_arr):
        fitted = fit(
            list(texts_arr[train]),
            list(labels_arr[train]),
            target=target,
            weights=None if weights_arr is None else list(weights_arr[train]),
        )
        train_seconds.append(fitted.train_seconds)
        pipe = fitted.pipeline
        proba = pipe.predict_proba(texts_arr[test])
        classes = pipe.classes_
        ranked = np.argsort(-proba, axis=1)[:, :3]
        truth = labels_arr[test]
        first = classes[ranked[:, 0]]
        top1 += int((first == truth).sum())
        top3 += int(sum(truth[i] in set(classes[ranked[i]]) for i in range(len(test))))
        confident = proba[np.arange(len(test)), ranked[:, 0]] >= fitted.threshold
        decided += int(confident.sum())
        decided_right += int((confident & (first == truth)).sum())
        for text in texts_arr[test][:200]:
            started = time.perf_counter()
            pipe.predict_proba([text])
            latencies.append((time.perf_counter() - started) * 1000)
    n = len(texts_arr)
    return {
        "n": n,
        "classes": len(set(labels_arr)),
        "top1": round(top1 / n, 4),
        "top3": round(top3 / n, 4),
        "coverage_at_precision": round(decided / n, 4),
        "realised_precision": round(decided_right / decided, 4) if decided else None,
        "precision_target": target,
        "train_seconds": round(float(np.mean(train_seconds)), 2),
        "predict_ms_p50": round(float(np.percentile(latencies, 50)), 2),
        "predict_ms_p99": round(float(np.percentile(latencies, 99)), 2),
    }


def read_csv(path: str | Path, text_col: str, label_col: str) -> tuple[list[str], list[str]]:
    """Tickets from a CSV export: the cleaned text (no place: an export names none the territory knows) and the
    label; rows with either empty are skipped."""
    texts: list[str] = []
    labels: list[str] = []
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [col for col in (text_col, label_col) if col not in (reader.fieldnames or [])]
        if missing:
            raise KeyError(", ".join(missing))
        for row in reader:
            text = citizen_words(row[text_col] or "")
            label = (row[label_col] or "").strip()
            if text and label:
                texts.append(text)
                labels.append(label)
    return texts, labels
