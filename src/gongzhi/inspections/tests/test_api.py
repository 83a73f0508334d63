"""The inspections API: a round submitted ten times with one idempotency key is one submission with one answer."""

from __future__ import annotations

from django.utils import timezone

from gongzhi.core.models import IdempotencyKey
from gongzhi.inspections.models import Hazard, Round
from gongzhi.inspections.tests.conftest import answers


def test_round_submission_replayed_ten_times_is_one(api, ground, round_):  # type: ignore[no-untyped-def]
    api.as_user(ground["worker"])
    url = f"/api/v1/inspections/rounds/{round_.pk}/submit"
    body = {"answers": answers(round_, {7: "minor"}), "note": "一楼应急灯不亮"}
    headers = {**api.headers, "Idempotency-Key": "phone-1-abc"}
    replies = [api.post(url, body, headers=headers) for _ in range(10)]
    assert {r.status_code for r in replies} == {200}
    assert len({r.content for r in replies}) == 1  # the same answer every time
    # core.idempotency answers the nine replays (as for a case report or a visit): the first answer, stored.
    assert [r.headers.get("Idempotent-Replayed") for r in replies] == [None] + ["true"] * 9
    assert IdempotencyKey.objects.get(key="phone-1-abc").scope == "inspections.round"
    assert replies[0].json()["done_at"] is not None and replies[0].json()["failed"] == 1
    assert Hazard.objects.filter(round=round_).count() == 1
    assert Round.objects.get(pk=round_.pk).client_key == "phone-1-abc"
    # The key in the body works the same; without one, a second submission is a conflict in the one error shape.
    again = api.post(url, {**body, "client_key": "phone-1-abc"})
    assert again.status_code == 200 and again.content == replies[0].content
    conflict = api.post(url, body)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "conflict"
    # The key with another submission: refused in the one error shape, nothing changed.
    reused = api.post(url, {**body, "note": "另一次"}, headers=headers)
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert Round.objects.get(pk=round_.pk).note == "一楼应急灯不亮"


def test_a_round_done_by_someone_else_meanwhile_is_a_clear_conflict(api, ground, round_):  # type: ignore[no-untyped-def]
    """The phone sends a round completed offline; the building head did it meanwhile: 409, who did it and when, the
    key free again (a refusal keeps no key)."""
    url = f"/api/v1/inspections/rounds/{round_.pk}/submit"
    body = {"answers": answers(round_, {})}
    api.as_user(ground["head"])
    assert api.post(url, body, headers={**api.headers, "Idempotency-Key": "head-1"}).status_code == 200
    api.as_user(ground["worker"])
    late = api.post(url, body, headers={**api.headers, "Idempotency-Key": "worker-1"})
    assert late.status_code == 409 and late.json()["error"]["code"] == "conflict"
    assert str(ground["head"]) in late.json()["error"]["message"]
    assert not IdempotencyKey.objects.filter(key="worker-1").exists()
    assert Round.objects.get(pk=round_.pk).done_by == ground["head"]


def test_bad_answers_in_the_one_error_shape(api, ground, round_):  # type: ignore[no-untyped-def]
    api.as_user(ground["worker"])
    reply = api.post(f"/api/v1/inspections/rounds/{round_.pk}/submit", {"answers": [{"item": 0, "result": "maybe"}]})
    assert reply.status_code == 400
    assert {d["field"] for d in reply.json()["error"]["details"]} == {"answers"}
    assert Round.objects.get(pk=round_.pk).done_at is None


def test_hazards_recheck_case_map_and_figures(api, ground, round_, tree):  # type: ignore[no-untyped-def]
    api.as_user(ground["worker"])
    api.post(f"/api/v1/inspections/rounds/{round_.pk}/submit", {"answers": answers(round_, {8: "major"})})
    hazard = Hazard.objects.get(round=round_)
    listed = api.get("/api/v1/inspections/hazards?status=open").json()
    assert [h["id"] for h in listed["items"]] == [hazard.pk]
    pins = api.get("/api/v1/inspections/hazards/map").json()
    assert pins["total"] == 1 and pins["items"][0]["severity"] == "major"
    turned = api.post(f"/api/v1/inspections/hazards/{hazard.pk}/case", {}).json()
    assert turned["case_number"]
    closed = api.post(f"/api/v1/inspections/hazards/{hazard.pk}/recheck", {"rectified": True}).json()
    assert closed["status"] == "closed" and closed["rectified_on_time"] is True
    assert api.get("/api/v1/inspections/hazards/map").json()["total"] == 0
    api.as_user(ground["staff"])
    month = timezone.localdate().strftime("%Y-%m")
    shown = api.get(f"/api/v1/inspections/figures?place_id={tree.communities[0].pk}&month={month}").json()
    assert shown["counts"]["rounds_due"] == 2 and shown["counts"]["rounds_done"] == 1 and shown["coverage"] == 50.0
    assert shown["counts"]["hazards_cases"] == 1 and shown["counts"]["hazards_on_time"] == 1
