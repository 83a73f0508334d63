"""The API end to end: the station files a notice → the grid visits and answers (a dispute) → on-site mediation
fails → the station holds two sessions (face to face, separately) → agreement drafted, signed, downloaded → the
follow-up closes it; the police station reads the feedback. Errors in the one shape; outsiders get 404."""

from __future__ import annotations

import datetime

from django.utils import timezone

from gongzhi.disputes import document


def _ok(response, status=200):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.content
    return response.json()


def test_the_journey(world, api, client) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.core.testing import ApiClient

    w = world
    police, grid, station = api.as_user(w.police), ApiClient(client).as_user(w.worker), None
    due = (timezone.now() + datetime.timedelta(days=2)).isoformat()
    notice = _ok(police.post("/api/v1/police-notices", {
        "title": "楼上漏水引发口角", "ask": "请上门回访并调解", "node_id": w.tree.households[0].pk,
        "people": "张三、李四", "people_phone": "13812345678", "due_at": due}), 201)  # fmt: skip
    assert notice["status"] == "sent" and notice["people_phone"] == "138****5678"

    grid = ApiClient(client).as_user(w.worker)
    assert [n["id"] for n in _ok(grid.get("/api/v1/police-notices"))["items"]] == [notice["id"]]
    _ok(grid.post(f"/api/v1/police-notices/{notice['id']}/receive"))
    answered = _ok(grid.post(f"/api/v1/police-notices/{notice['id']}/answer", {
        "result": "dispute", "feedback": "上门了解，双方同意调解", "dispute_kind_id": w.kind.pk,
        "parties": [{"name": "张三", "phone": "13812345678"}, {"role": "respondent", "name": "李四"}]}))  # fmt: skip
    (dispute_id,) = answered["dispute_ids"]

    d = _ok(grid.get(f"/api/v1/disputes/{dispute_id}"))
    assert d["parties"]["visible"] and d["parties"]["parties"][0]["phone"] == "138****5678"
    assert d["allowed_actions"][0] == "start"
    _ok(grid.post(f"/api/v1/disputes/{dispute_id}/actions", {"action": "start"}))
    d = _ok(grid.post(f"/api/v1/disputes/{dispute_id}/actions", {"action": "escalate", "note": "现场调解未果"}))
    assert (d["tier"], d["tier_kind"], d["handler_body"]["id"]) == (2, "station", w.team.pk)

    station = ApiClient(client).as_user(w.mediator)
    parties = [p["id"] for p in _ok(station.get(f"/api/v1/disputes/{dispute_id}/parties"))["parties"]]
    for mode, notes in (("face_to_face", ""), ("separate", "李四愿意承担维修费")):
        _ok(station.post(f"/api/v1/disputes/{dispute_id}/sessions", {
            "held_at": timezone.now().isoformat(), "mode": mode, "where": "综治站调解室", "attendee_ids": parties,
            "summary": "调解", "result": "progress", "private_notes": notes}), 201)  # fmt: skip
    sessions = _ok(station.get(f"/api/v1/disputes/{dispute_id}/sessions"))
    assert [s["mode"] for s in sessions] == ["face_to_face", "separate"]
    assert sessions[1]["private_notes"] == "李四愿意承担维修费"
    assert [s["private_notes"] for s in _ok(grid.get(f"/api/v1/disputes/{dispute_id}/sessions"))] == [None, None]

    agreement = _ok(station.post(f"/api/v1/disputes/{dispute_id}/agreement", {
        "terms": [{"text": "李四修复防水", "how": "自行维修", "by": "2026-12-31"}], "performance": "按约履行"}))  # fmt: skip
    wrong = station.post(f"/api/v1/disputes/{dispute_id}/actions", {"action": "agree", "signed_on": "2026-02-30"})
    assert wrong.status_code == 400 and wrong.json()["error"]["details"][0]["field"] == "signed_on"  # nothing written
    assert _ok(station.get(f"/api/v1/disputes/{dispute_id}"))["status"] != "agreed"
    d = _ok(station.post(f"/api/v1/disputes/{dispute_id}/actions", {"action": "agree", "signed_on": "2026-12-07"}))
    assert d["status"] == "agreed"
    response = station.get(f"/api/v1/disputes/agreements/{agreement['id']}/docx")
    assert response.status_code == 200 and response["Content-Type"] == document.CONTENT_TYPE
    assert "人民调解协议书" in document.read_text(response.content)
    follow = _ok(station.get("/api/v1/disputes/follow-ups?mine=true&until=2027-12-31"))["items"]
    assert [f["dispute_id"] for f in follow] == [dispute_id]
    d = _ok(station.post(f"/api/v1/disputes/{dispute_id}/follow-up", {"performance": "performed", "note": "已修复"}))
    assert d["status"] == "closed"

    mine = _ok(police.get("/api/v1/police-notices?sent_by_me=true"))["items"]
    assert [(n["status"], n["result"], n["feedback"]) for n in mine] == [("answered", "dispute", "上门了解，双方同意调解")]
    timeline = [e["action"] for e in _ok(station.get(f"/api/v1/disputes/{dispute_id}/timeline"))]
    assert timeline[0] == "register" and "escalate" in timeline and timeline[-1] == "close"


def test_errors_and_scope(world, api) -> None:  # type: ignore[no-untyped-def]
    w = world
    api.as_user(w.worker)
    bad = api.post("/api/v1/disputes", {"kind_id": w.kind.pk, "summary": " ", "node_id": w.tree.grids[0].pk})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "summary"
    assert bad.json()["error"]["message"] == "无法登记该纠纷。"  # in the request's language (Chinese by default)
    extra = api.post("/api/v1/disputes", {"kind_id": w.kind.pk, "summary": "x", "status": "closed"})
    assert extra.status_code == 400  # unknown (read-only) field
    d = _ok(api.post("/api/v1/disputes", {"kind_id": w.kind.pk, "summary": "噪音", "node_id": w.tree.grids[0].pk,
                                          "parties": [{"name": "王五", "phone": "13700001111"}]}), 201)  # fmt: skip
    conflict = api.post(f"/api/v1/disputes/{d['id']}/actions", {"action": "agree"})
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "conflict"
    api.as_user(w.other_worker)
    for url in (f"/api/v1/disputes/{d['id']}", f"/api/v1/disputes/{d['id']}/parties",
                f"/api/v1/disputes/{d['id']}/sessions"):  # fmt: skip
        response = api.get(url)
        assert response.status_code == 404 and "13700001111" not in response.content.decode()
    assert _ok(api.get("/api/v1/disputes"))["count"] == 0


def test_figures_endpoint(world, api) -> None:  # type: ignore[no-untyped-def]
    api.as_user(world.operator)
    from urllib.parse import urlencode

    since = (timezone.now() - datetime.timedelta(days=30)).isoformat()
    until = (timezone.now() + datetime.timedelta(days=1)).isoformat()
    figures = _ok(api.get("/api/v1/disputes/figures?" + urlencode({"since": since, "until": until})))
    assert {f["key"] for f in figures} >= {"success_rate", "cycle_days", "repeat", "red_open", "notices_on_time"}
