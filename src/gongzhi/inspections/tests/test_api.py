"""The inspections API: a round submitted ten times with one idempotency key is one submission with one answer."""

from __future__ import annotations

from django.utils import timezone

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
    assert replies[0].json()["done_at"] is not None and replies[0].json()["failed"] == 1
    assert Hazard.objects.filter(round=round_).count() == 1
    assert Round.objects.get(pk=round_.pk).client_key == "phone-1-abc"
    # The key in the body works the same; without one, a second submission is a conflict in the one error shape.
    again = api.post(url, {**body, "client_key": "phone-1-abc"})
    assert again.status_code == 200 and again.content == replies[0].content
    conflict = api.post(url, body)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "conflict"


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
