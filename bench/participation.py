"""Suggestions for a community's needs against its resources (issue 20): ``gongzhi.participation.matching``.

Synthetic but realistic rows (the demo's need and resource texts, varied; places scattered over a community's few
square kilometres; categories, times, capacity — some resources used up), no database: the scoring is what is
timed. Side by side in one run:

* **vectorised** (what the pages use): ``score_all`` — TF-IDF over character 1–2-grams fitted on the resources'
  texts (once: ``text_index``, kept per set of resources, its build time reported apart), one
  sparse product for every pair, numpy broadcasts for category, distance, time, capacity and track record — then
  the best 5 of each row;
* **naive**: ``naive_scores`` — the same scoring, one pair at a time in Python (the same TF-IDF vectors, as
  dictionaries), then the best 5 of each row by sorting.

Per need (a need's page: that need against every resource) and the whole list (every need of the community).
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path
from typing import Any

from gongzhi.participation import matching
from gongzhi.participation.choices import SLOT_BITS

WORDS = (
    "老人",
    "孩子",
    "楼道",
    "社区",
    "志愿者",
    "周末",
    "上门",
    "宣传",
    "培训",
    "健康",
    "安全",
    "居民",
    "服务",
    "活动",
)


def rows(n_needs: int, n_resources: int, seed: int = 20) -> tuple[Any, Any, Any]:
    from gongzhi.demo.participation import NEEDS, RESOURCES  # the demo's texts (after django.setup())

    rng = random.Random(seed)
    cats = sorted({c for _, c, *_ in NEEDS} | {r[3] for r in RESOURCES})
    cat_id = {c: i + 1 for i, c in enumerate(cats)}
    lat0, lng0 = 42.05, 123.35
    bits = list(SLOT_BITS.values())

    def text(base: str) -> str:
        return base + "，" + "".join(rng.sample(WORDS, 3))

    needs = []
    for i in range(n_needs):
        title, cat, who, (lo, hi), _slots, desc = rng.choice(NEEDS)
        needs.append(
            matching.NeedRow(
                id=i + 1, text=text(f"{title} {desc} {who}"), category_id=cat_id[cat], category_name=cat,
                lat=lat0 + rng.uniform(0, 0.03), lng=lng0 + rng.uniform(0, 0.04),
                slots=sum(rng.sample(bits, rng.randint(0, 2))), beneficiary_count=rng.randint(lo, hi),
            )
        )  # fmt: skip
    resources = []
    for j in range(n_resources):
        _key, title, _kind, cat, cap, _slots, desc = rng.choice(RESOURCES)
        resources.append(
            matching.ResourceRow(
                id=j + 1, text=text(f"{title} {desc}"), category_id=cat_id[cat], unit_id=rng.randint(1, 150),
                lat=lat0 + rng.uniform(-0.01, 0.04), lng=lng0 + rng.uniform(-0.01, 0.05),
                slots=sum(rng.sample(bits, rng.randint(1, 3))),
                capacity_left=0 if rng.random() < 0.1 else rng.randint(1, cap),
            )
        )  # fmt: skip
    done = {(rng.randint(1, 150), rng.randint(1, len(cats))): rng.randint(1, 6) for _ in range(300)}
    return needs, resources, done


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def naive_top(
    needs: list[matching.NeedRow], resources: list[matching.ResourceRow], done: Any, k: int = 5
) -> list[list[int]]:
    scores = matching.naive_scores(needs, resources, done)
    out = []
    for row in scores:
        ranked = sorted((-s, j) for j, s in enumerate(row) if s != float("-inf"))
        out.append([resources[j].id for _, j in ranked[:k]])
    return out


def run(
    n_needs: int = 1000, n_resources: int = 2000, per_need_sample: int = 100, naive_whole: bool = True
) -> dict[str, Any]:
    needs, resources, done = rows(n_needs, n_resources)
    rng = random.Random(5)
    sample = rng.sample(needs, min(per_need_sample, len(needs)))
    matching._INDEXES.clear()
    t0 = time.perf_counter()
    matching.text_index(resources)  # what the first page of a community pays once (then kept in the process)
    index_build = time.perf_counter() - t0

    fast_each, slow_each = [], []
    agree = 0
    for need in sample:  # alternate the two, need by need, so that the machine's load hits both alike
        t0 = time.perf_counter()
        fast = matching.for_each_need(matching.score_all([need], resources, done), 5)[need.id]
        fast_each.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        slow = naive_top([need], resources, done)[0]
        slow_each.append(time.perf_counter() - t0)
        agree += [s.resource_id for s in fast] == slow

    t0 = time.perf_counter()
    whole = matching.for_each_need(matching.score_all(needs, resources, done), 5)
    fast_whole = time.perf_counter() - t0
    slow_whole = None
    whole_agree = None
    if naive_whole:
        t0 = time.perf_counter()
        slow_lists = naive_top(needs, resources, done)
        slow_whole = time.perf_counter() - t0
        whole_agree = sum(
            [s.resource_id for s in whole[n.id]] == ids for n, ids in zip(needs, slow_lists, strict=True)
        ) / len(needs)
    return {
        "needs": n_needs,
        "resources": n_resources,
        "resources_without_capacity": sum(r.capacity_left == 0 for r in resources),
        "per_need_sample": len(sample),
        "text_index_build_ms": round(index_build * 1000, 2),
        "per_need_p50_ms": round(statistics.median(fast_each) * 1000, 2),
        "per_need_p99_ms": round(_pct(fast_each, 99) * 1000, 2),
        "naive_per_need_p50_ms": round(statistics.median(slow_each) * 1000, 2),
        "naive_per_need_p99_ms": round(_pct(slow_each, 99) * 1000, 2),
        "per_need_same_top5": agree / len(sample),
        "whole_list_s": round(fast_whole, 3),
        "naive_whole_list_s": None if slow_whole is None else round(slow_whole, 3),
        "whole_list_same_top5": whole_agree,
    }


def merge(path: str) -> None:
    """Run this step alone and put its figures into an existing ``bench/results.json`` (and its summary), replacing
    the step's figures of an earlier run: ``python -m bench.participation``."""
    import json
    from pathlib import Path

    from bench.run import Results, add_participation, summary_md

    out = Path(path)
    kept = json.loads((out / "results.json").read_text()) if (out / "results.json").exists() else {}
    res = Results()
    res.meta, res.setup = kept.get("meta", {}), kept.get("setup", {})
    res.figures = [f for f in kept.get("figures", []) if not f["name"].startswith("participation_")]
    add_participation(res, run())
    (out / "results.json").write_text(
        json.dumps({"meta": res.meta, "setup": res.setup, "figures": res.figures}, indent=2, ensure_ascii=False) + "\n"
    )
    try:
        (out / "summary.md").write_text(summary_md(res))
    except KeyError:  # an older results.json whose figures lack fields the summary reads: leave its summary alone
        print("summary.md left as it was (the results.json it summarises is of an older shape)")


if __name__ == "__main__":
    import os
    import sys

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.config.settings")
    django.setup()
    merge(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parent))
