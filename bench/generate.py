"""Bulk case generation for the benchmark: N cases with plausible states and KPI facts, written by PostgreSQL itself.

The territory (communities, grids, buildings, users, the demo's own year of ~10,800 cases) comes from
``gongzhi seed_demo --scale K``. On top of it this module inserts cases with ``INSERT … SELECT FROM
generate_series`` in chunks: the rows are made inside the server (deterministic with ``setseed``), so nothing is
shipped through Python and 1 M rows take well under a minute on 2 cores (10 M about ten times that). Each case:

* lies on a random building (or grid) of the seeded territory, owned by that place's lead body, with a point
  jittered around the place's centroid; category = a random active minor category; channel by realistic shares;
* is reported at a uniform time over the past 365 days;
* has a status that depends on its age (most of last year's cases closed or followed up, most of the last days'
  still open) and the facts the KPIs count, consistent with the status: ``disposed_at``, ``closed_at``,
  ``disposal_late``, ``closed_kind``, ``rating``/``resolved``/``responded``, ``is_overdue``/``overdue_count``,
  ``rework_count``, ``postpone_count``, ``escalation_count``, ``tier``, ``fixed_on_spot``, ``handler_node``.

No timeline events are generated: the pages measured (the to-do list and ``GET /api/v1/cases/{id}``) do not read
them. Generated cases are recognisable by their number (``Z`` + 11 digits).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

CHUNK = 250_000

# status → (share among open cases); the rest of the logic is in the SQL below.
_OPEN = [
    ("reported", 0.08),
    ("accepted", 0.08),
    ("dispatched", 0.15),
    ("acknowledged", 0.15),
    ("in_progress", 0.27),
    ("postponed", 0.05),
    ("disposed", 0.10),
    ("verifying", 0.09),
    ("rework", 0.03),
]
_CHANNELS = [
    ("patrol", 0.35),
    ("hotline", 0.25),
    ("resident", 0.15),
    ("building_head", 0.08),
    ("desk", 0.08),
    ("visit", 0.05),
    ("police", 0.02),
    ("meeting", 0.02),
]


def _pick(var: str, choices: list[tuple[str, float]]) -> str:
    """A SQL CASE picking a value by cumulative shares of a uniform random column."""
    parts, acc = [], 0.0
    for value, share in choices[:-1]:
        acc += share
        parts.append(f"WHEN {var} < {acc:.4f} THEN '{value}'")
    return f"(CASE {' '.join(parts)} ELSE '{choices[-1][0]}' END)"


PREPARE = """
DROP TABLE IF EXISTS bench_places;
CREATE TEMP TABLE bench_places AS
SELECT row_number() OVER (ORDER BY n.id) AS rn, n.id, n.lead_body_id,
       CASE WHEN n.kind = 'grid' THEN n.id ELSE n.parent_id END AS grid_id,
       n.code, CASE WHEN n.kind = 'grid' THEN n.code ELSE left(n.code, 15) END AS grid_code,
       n.kind, n.centroid_lat AS lat, n.centroid_lng AS lng
FROM territory_node n
WHERE n.kind IN ('building', 'grid') AND n.centroid_lat IS NOT NULL;
CREATE UNIQUE INDEX ON bench_places (rn);
DROP TABLE IF EXISTS bench_cats;
CREATE TEMP TABLE bench_cats AS
SELECT row_number() OVER (ORDER BY c.id) AS rn, c.id, c.name, c.default_urgency
FROM cases_category c WHERE c.parent_id IS NOT NULL AND c.is_active;
CREATE UNIQUE INDEX ON bench_cats (rn);
ANALYZE bench_places; ANALYZE bench_cats;
"""

INSERT = """
WITH r AS MATERIALIZED (
    SELECT g, random() AS r_age, random() AS r_place, random() AS r_cat, random() AS r_ch, random() AS r_st,
           random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5
    FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
), b AS MATERIALIZED (
    SELECT r.*, p.id AS node_id, p.lead_body_id, p.grid_id, p.code AS place_code, p.grid_code, p.kind AS node_kind,
           p.lat + (r.r1 - 0.5) * 0.0008 AS lat, p.lng + (r.r2 - 0.5) * 0.0010 AS lng,
           c.id AS category_id, c.name AS category_name, c.default_urgency,
           %(now)s::timestamptz - r.r_age * 365 * interval '1 day' AS reported_at,
           r.r_age * 365 AS age_days,
           {channel} AS channel
    FROM r
    JOIN bench_places p ON p.rn = 1 + floor(r.r_place * %(n_places)s)::int
    JOIN bench_cats c ON c.rn = 1 + floor(r.r_cat * %(n_cats)s)::int
), s AS MATERIALIZED (
    SELECT b.*,
        CASE WHEN b.r_st < (CASE WHEN age_days < 2 THEN 0.85 WHEN age_days < 7 THEN 0.45 WHEN age_days < 30
                                 THEN 0.12 WHEN age_days < 90 THEN 0.03 ELSE 0.006 END)
             THEN {open_status}
             WHEN b.r3 < 0.03 THEN 'rejected'
             WHEN b.r3 < 0.05 THEN 'cancelled'
             WHEN b.r3 < 0.55 THEN 'closed'
             ELSE 'followed_up' END AS status,
        CASE WHEN b.r4 < 0.25 THEN 1 WHEN b.r4 < 0.72 THEN 2 WHEN b.r4 < 0.90 THEN 3 WHEN b.r4 < 0.95 THEN 4
             ELSE 5 END AS tier
    FROM b
), f AS MATERIALIZED (
    SELECT s.*,
        s.status IN ('disposed', 'verifying', 'closed', 'followed_up') AS is_disposed,
        s.status IN ('closed', 'followed_up') AS is_closed,
        s.status IN ('reported', 'accepted', 'dispatched', 'acknowledged', 'returned', 'in_progress',
                     'postponed', 'disposed', 'verifying', 'rework') AS is_open,
        s.status NOT IN ('reported', 'accepted', 'rejected', 'cancelled') AS is_dispatched,
        (s.r5 < 0.08) AS late
    FROM s
), t AS (
    SELECT f.*,
        CASE WHEN f.is_disposed THEN least(f.reported_at + (1 + f.r3 * 96) * interval '1 hour', %(now)s::timestamptz)
        END AS disposed_at,
        CASE WHEN f.is_open AND f.r4 < 0.15 THEN true ELSE false END AS overdue_now
    FROM f
)
INSERT INTO cases_case (
    number, title, description, category_id, urgency, channel, status, tier, node_id, place_code, handler_code,
    unplaced, category_unconfirmed, category_text, lat, lng, address,
    owner_body_id, owner_user_id, handler_body_id, handler_node_id, dispatcher_id, reporter_user_id, reporter_name,
    reporter_phone, tracking_code, hotline_ticket, merged_into_id, due_step, due_at, is_overdue, overdue_count,
    postponed_until, rework_count, return_count, escalation_count, fixed_on_spot, disposal_late, postpone_count,
    disposed_by_id, responded, closed_kind, rating, resolved, reported_at, accepted_at, dispatched_at,
    acknowledged_at, disposed_at, closed_at, rated_at, created_at, updated_at)
SELECT
    'Z' || lpad(g::text, 11, '0'),
    category_name || ' #' || g,
    '',
    category_id,
    default_urgency,
    channel,
    status,
    tier,
    node_id,
    place_code,
    CASE WHEN is_dispatched THEN grid_code ELSE '' END,
    false,
    false,
    '',
    lat,
    lng,
    '',
    lead_body_id,
    NULL,
    NULL,
    CASE WHEN is_dispatched THEN grid_id END,
    NULL,
    NULL,
    '',
    '',
    'Z' || lpad(to_hex(g), 10, '0'),
    CASE WHEN channel = 'hotline' THEN 'ZT' || g END,
    NULL,
    CASE WHEN is_open AND NOT is_disposed THEN 'dispose' WHEN status IN ('disposed', 'verifying') THEN 'verify'
         ELSE '' END,
    CASE WHEN is_open THEN reported_at + interval '3 days' END,
    overdue_now,
    CASE WHEN overdue_now OR late THEN 1 ELSE 0 END,
    CASE WHEN status = 'postponed' THEN reported_at + interval '10 days' END,
    CASE WHEN r1 < 0.04 AND (is_closed OR status = 'rework') THEN 1 ELSE 0 END,
    CASE WHEN r2 < 0.02 THEN 1 ELSE 0 END,
    CASE WHEN tier >= 4 THEN 1 ELSE 0 END,
    (channel = 'patrol' AND is_closed AND r2 < 0.25),
    (late AND (is_disposed OR is_open)),
    CASE WHEN status = 'postponed' OR r3 < 0.02 THEN 1 ELSE 0 END,
    NULL,
    CASE WHEN status = 'followed_up' THEN r1 < 0.95 END,
    CASE WHEN is_closed THEN (CASE WHEN late THEN 'overdue' WHEN r2 < 0.02 THEN 'special' ELSE 'normal' END)
         ELSE '' END,
    CASE WHEN status = 'followed_up' THEN
        (CASE WHEN r4 < 0.80 THEN 'satisfied' WHEN r4 < 0.95 THEN 'basically_satisfied' ELSE 'dissatisfied' END)
         ELSE '' END,
    CASE WHEN status = 'followed_up' THEN r5 < 0.9 END,
    reported_at,
    CASE WHEN status <> 'reported' THEN reported_at + interval '10 minutes' END,
    CASE WHEN is_dispatched THEN reported_at + (0.2 + r2) * interval '1 hour' END,
    CASE WHEN is_dispatched AND status <> 'dispatched' THEN reported_at + (0.5 + 2 * r2) * interval '1 hour' END,
    disposed_at,
    CASE WHEN is_closed THEN least(disposed_at + (1 + r4 * 48) * interval '1 hour', %(now)s::timestamptz) END,
    CASE WHEN status = 'followed_up' THEN least(disposed_at + (2 + r4 * 60) * interval '1 hour',
                                               %(now)s::timestamptz) END,
    reported_at,
    coalesce(disposed_at, reported_at)
FROM t
""".format(channel=_pick("r.r_ch", _CHANNELS), open_status=_pick("b.r1", _OPEN))


def generate_cases(
    conn: Any, *, total: int, first: int = 1, seed: float = 0.42, now: Any = None, say: Callable[[str], None] = print
) -> dict[str, Any]:
    """Insert ``total`` cases numbered from ``first`` (psycopg 3 connection, autocommit off). Returns timings."""
    started = time.perf_counter()
    with conn.cursor() as cur:
        cur.execute("SELECT setseed(%s)", [seed])
        cur.execute(PREPARE)
        cur.execute("SELECT count(*) FROM bench_places")
        n_places = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM bench_cats")
        n_cats = cur.fetchone()[0]
        if not n_places or not n_cats:
            raise RuntimeError("no territory or categories: run seed_demo first")
        if now is None:
            cur.execute("SELECT now()")
            now = cur.fetchone()[0]
        # Secondary indexes are rebuilt once at the end (much faster than maintaining ~20 of them row by row);
        # the unique constraints stay.
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'cases_case' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = 'cases_case'::regclass)"
        )
        indexes = cur.fetchall()
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        conn.commit()
        done = 0
        try:
            while done < total:
                n = min(CHUNK, total - done)
                t0 = time.perf_counter()
                cur.execute(
                    INSERT,
                    {"lo": first + done, "hi": first + done + n - 1, "now": now, "n_places": n_places,
                     "n_cats": n_cats},
                )  # fmt: skip
                conn.commit()
                done += n
                say(f"  cases {done:>11,} / {total:,}  ({n / (time.perf_counter() - t0):,.0f} rows/s)")
        finally:
            # The indexes come back even when the generation fails half-way (the database stays usable).
            conn.rollback()
            t_insert = time.perf_counter() - started
            t0 = time.perf_counter()
            for _, definition in indexes:
                cur.execute(definition)
            conn.commit()
            t_index = time.perf_counter() - t0
        say(f"  {len(indexes)} indexes rebuilt in {t_index:.1f} s")
        cur.execute("ANALYZE cases_case")
        conn.commit()
    return {
        "cases": total,
        "places": n_places,
        "categories": n_cats,
        "insert_s": round(t_insert, 2),
        "indexes_rebuilt": len(indexes),
        "index_s": round(t_index, 2),
        "total_s": round(time.perf_counter() - started, 2),
    }
