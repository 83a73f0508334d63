"""The public record of a community carries no personal data; the figures equal their records (drill-down); the
API's journey; the pages open for the roles the page policy names."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.cases import workflow
from gongzhi.cases.tests.factories import category
from gongzhi.meetings import selectors, services
from gongzhi.meetings.choices import DecisionStatus
from gongzhi.meetings.models import Attendance
from gongzhi.meetings.tests.conftest import at, decided, kind

pytestmark = pytest.mark.django_db
PHONE = "13912345678"


@pytest.fixture
def record(tree, staff, resident, worker, night_talk):  # type: ignore[no-untyped-def]
    """A held night talk: a resident's topic and one a grid worker entered for a resident (name, phone), two
    decisions (one done as a task on time, one a case still open), three present."""
    mine = services.propose_topic(actor=resident, place_id=None, title="3号楼门前积水")
    theirs = services.propose_topic(actor=worker, place_id=tree.grids[0].pk, title="楼道灯不亮",
                                    proposer_name="王阿姨", proposer_phone=PHONE)  # fmt: skip
    services.sign_in(actor=resident, token=services.sign_in_token(night_talk))
    Attendance.objects.create(meeting=night_talk, name="李委员", member=True, invited=True, present=True)
    Attendance.objects.create(meeting=night_talk, name="张委员", member=True, invited=True, present=False)
    services.tick(actor=staff, meeting_id=night_talk.pk, present=True, name="赵大伯")
    services.hold(actor=staff, meeting_id=night_talk.pk)
    done = decided(staff, night_talk, theirs, text="更换楼道灯")
    services.track_as_task(actor=staff, decision_id=done.pk, owner_id=worker.pk,
                           due_on=timezone.localdate() + datetime.timedelta(days=3))  # fmt: skip
    services.report_task(actor=worker, decision_id=done.pk, progress=100)
    open_ = decided(staff, night_talk, mine)
    services.track_as_case(actor=staff, decision_id=open_.pk, category_id=category().pk)
    return night_talk


def test_public_page_shows_decisions_and_progress_without_personal_data(client, tree, resident, worker, record):  # type: ignore[no-untyped-def]
    response = client.get(reverse("meetings-public", args=[tree.communities[0].code]))
    assert response.status_code == 200
    body = response.content.decode()
    assert record.title in body and "更换楼道灯" in body and "修复3号楼门前积水" in body
    assert 'data-status="done"' in body and 'data-status="open"' in body
    for personal in ("王阿姨", PHONE, "李委员", "赵大伯", str(resident), str(worker), resident.phone, worker.phone):
        assert personal and personal not in body, personal
    api = client.get(f"/api/v1/meetings/public/{tree.communities[0].code}").json()
    assert [d["status"] for d in api["meetings"][0]["decisions"]] == ["done", "open"]
    for personal in ("王阿姨", PHONE, "李委员", "赵大伯", str(resident)):
        assert personal not in str(api)
    assert client.get(reverse("meetings-public", args=["999999999999"])).status_code == 404


def test_a_hearing_notice_is_public(client, tree, staff) -> None:  # type: ignore[no-untyped-def]
    services.plan_meeting(actor=staff, kind_id=kind("hearing").pk, title="加装电梯听证会",
                          place_id=tree.communities[0].pk, notice="听证事项：1号楼加装电梯，欢迎报名旁听",
                          starts_at=at(timezone.localdate() + datetime.timedelta(days=10)))  # fmt: skip
    body = client.get(reverse("meetings-public", args=[tree.communities[0].code])).content.decode()
    assert "欢迎报名旁听" in body and "public-notices" in body


def test_every_figure_opens_exactly_its_records(client, tree, staff, record) -> None:  # type: ignore[no-untyped-def]
    f = selectors.figures(user=staff, place_code=tree.communities[0].code)
    assert (f.meetings, f.topics, f.decisions, f.ontime, f.problems, f.solved, f.present) == (1, 2, 2, 1, 2, 1, 3)
    assert (f.members_invited, f.members_present, f.attendance_rate) == (2, 1, 50)
    counts = {"meetings": f.meetings, "topics": f.topics, "decisions": f.decisions, "ontime": f.ontime,
              "problems": f.problems, "solved": f.solved, "attendance": f.present}  # fmt: skip
    for what, n in counts.items():
        assert selectors.records(user=staff, what=what, place_code=tree.communities[0].code).count() == n, what
    client.force_login(staff)
    page = client.get(reverse("meetings-figures")).content.decode()
    assert 'id="fig-solved"' in page and "?what=solved" in page
    listed = client.get(reverse("meetings-records") + "?what=ontime")
    assert listed.status_code == 200 and "更换楼道灯" in listed.content.decode()
    assert 'data-total="1"' in listed.content.decode()
    # Out of the other community's ground: nothing.
    other = selectors.figures(user=staff, place_code=tree.communities[1].code)
    assert other.meetings == 0


def test_the_api_journey(api, tree, staff, resident) -> None:  # type: ignore[no-untyped-def]
    api.as_user(resident)
    topic = api.post("/api/v1/meetings/topics", {"title": "小区路灯坏了"})
    assert topic.status_code == 201, topic.content
    api.as_user(staff)
    meeting = api.post("/api/v1/meetings/meetings", {
        "kind_id": kind("night_talk").pk, "title": "夜谈会", "place_id": tree.grids[0].pk,
        "starts_at": at(timezone.localdate()).isoformat(),
    })  # fmt: skip
    assert meeting.status_code == 201, meeting.content
    mid = meeting.json()["id"]
    item = api.post(f"/api/v1/meetings/meetings/{mid}/items", {"source": "topic", "topic_id": topic.json()["id"]})
    assert item.status_code == 201, item.content
    assert api.post(f"/api/v1/meetings/meetings/{mid}/hold", {}).status_code == 200
    decision = api.post(f"/api/v1/meetings/meetings/{mid}/decisions", {"text": "修路灯", "item_id": item.json()["id"]})
    assert decision.status_code == 201, decision.content
    tracked = api.post(f"/api/v1/meetings/decisions/{decision.json()['id']}/case", {"category_id": category().pk})
    assert tracked.status_code == 200, tracked.content
    assert tracked.json()["track"] == "case" and tracked.json()["case_number"]
    workflow.perform(actor=staff, case_id=tracked.json()["case_id"], action="cancel", note="重复")
    assert api.get(f"/api/v1/meetings/decisions/{decision.json()['id']}").json()["status"] == DecisionStatus.CANCELLED
    bad = api.post(f"/api/v1/meetings/meetings/{mid}/decisions", {"text": ""})
    assert bad.status_code == 400 and bad.json()["error"]["details"][0]["field"] == "text"
    figures = api.get(f"/api/v1/meetings/figures?place={tree.grids[0].code}").json()
    assert figures["meetings"] == 1 and figures["decisions"] == 1


def test_pages_open_for_their_roles(client, tree, staff, resident, night_talk) -> None:  # type: ignore[no-untyped-def]
    client.force_login(staff)
    for name, args in (("meetings-list", []), ("meetings-detail", [night_talk.pk]), ("meetings-new", []),
                       ("meetings-series", []), ("meetings-figures", []), ("meetings-topics", [])):  # fmt: skip
        assert client.get(reverse(name, args=args)).status_code == 200, name
    detail = client.get(reverse("meetings-detail", args=[night_talk.pk])).content.decode()
    assert "data-qr=" in detail and "vendor/qrcode/qrcode.js" in detail
    client.force_login(resident)
    assert client.get(reverse("meetings-topics")).status_code == 200
    assert client.get(reverse("meetings-list")).status_code == 403
    token = services.sign_in_token(night_talk)
    assert client.post(reverse("meetings-sign-in", args=[token])).status_code == 200
    assert night_talk.attendance.filter(user=resident, present=True).exists()


def test_the_kpi_dashboard_shows_the_meeting_figures_and_opens_their_records(client, tree, staff, record) -> None:  # type: ignore[no-untyped-def]
    client.force_login(staff)
    today = timezone.localdate()
    response = client.get(
        reverse("kpis-dashboard"),
        {"place": tree.communities[0].pk, "start": (today - datetime.timedelta(days=30)).isoformat(),
         "end": today.isoformat()},
    )  # fmt: skip
    body = response.content.decode()
    assert response.status_code == 200 and 'id="card-meetings"' in body
    assert 'data-meetings="1"' in body and 'data-solved="1"' in body
    assert f"what=solved&amp;place={tree.communities[0].code}" in body


def test_the_pages_and_refusals_are_chinese(client, api, tree, staff, resident, night_talk) -> None:  # type: ignore[no-untyped-def]
    client.force_login(staff)
    body = client.get(reverse("meetings-detail", args=[night_talk.pk])).content.decode()
    for english in ("Record the decision", "Attendance", "Agenda", "Sign in on the phone", "Night talk"):
        assert english not in body, english
    assert "记录决议" in body and "手机扫码签到" in body and "议程" in body
    assert "议事" in client.get(reverse("meetings-list")).content.decode()
    api.as_user(staff)
    refused = api.post(f"/api/v1/meetings/meetings/{night_talk.pk}/decisions", {"text": " "})
    assert refused.json()["error"]["message"] == "决议未能保存。"
    client.force_login(resident)
    services.propose_topic(actor=resident, place_id=None, title="路灯不亮")
    from gongzhi.messaging.models import Message

    decision = decided(staff, night_talk, services.propose_topic(actor=resident, place_id=None, title="积水"))
    decision = services.track_as_case(actor=staff, decision_id=decision.pk, category_id=category().pk)
    workflow.perform(actor=staff, case_id=decision.case_id, action="cancel", note="重复")
    inbox = client.get("/messages/").content.decode()
    assert Message.objects.filter(user=resident, kind=services.DECISION_KIND).exists()
    assert "的决议" in inbox and "is now" not in inbox


def test_the_desk_makes_a_decision_a_task_of_someone_on_the_ground(client, tree, staff, worker, night_talk) -> None:  # type: ignore[no-untyped-def]
    decision = decided(staff, night_talk)
    client.force_login(staff)
    page = client.get(reverse("meetings-detail", args=[night_talk.pk])).content.decode()
    assert f'<option value="{worker.pk}">' in page
    due = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    client.post(reverse("meetings-action", args=[night_talk.pk, "track"]),
                {"decision": decision.pk, "track": "task", "owner": worker.pk, "due_on": due})  # fmt: skip
    decision.refresh_from_db()
    assert decision.track == "task" and decision.owner == worker and decision.due_on.isoformat() == due


def test_the_public_record_dates_meetings_in_local_time(tree, staff) -> None:  # type: ignore[no-untyped-def]
    """01:00 in Shanghai on 1 March is still 28 February in UTC: the public page says 1 March."""
    early = timezone.make_aware(datetime.datetime(2026, 3, 1, 1, 0))
    meeting = services.plan_meeting(actor=staff, kind_id=kind("teahouse").pk, title="社情茶社",
                                    place_id=tree.communities[0].pk, starts_at=early)  # fmt: skip
    services.hold(actor=staff, meeting_id=meeting.pk)
    (shown,) = selectors.public_record(community=tree.communities[0]).object_list
    assert shown.date == datetime.date(2026, 3, 1)


def test_the_public_record_comes_a_page_at_a_time(client, tree, staff) -> None:  # type: ignore[no-untyped-def]
    """Years of monthly night talks are not one page: 20 meetings a page, newest first, on the page and in the API."""
    first = timezone.make_aware(datetime.datetime(2025, 1, 5, 19, 0))
    for n in range(selectors.PUBLIC_PAGE + 3):
        meeting = services.plan_meeting(actor=staff, kind_id=kind("teahouse").pk, title=f"社情茶社第{n + 1}期",
                                        place_id=tree.communities[0].pk,
                                        starts_at=first + datetime.timedelta(days=14 * n))  # fmt: skip
        services.hold(actor=staff, meeting_id=meeting.pk)
    code = tree.communities[0].code
    body = client.get(reverse("meetings-public", args=[code])).content.decode()
    assert body.count("data-meeting-id=") == selectors.PUBLIC_PAGE
    assert "社情茶社第23期" in body and "社情茶社第3期<" not in body  # newest first
    assert 'data-total="23"' in body and 'rel="next"' in body
    second = client.get(reverse("meetings-public", args=[code]) + "?page=2").content.decode()
    assert second.count("data-meeting-id=") == 3 and "社情茶社第1期<" in second
    api = client.get(f"/api/v1/meetings/public/{code}?page=2").json()
    assert (api["count"], api["page"], api["pages"]) == (23, 2, 2)
    assert [m["title"] for m in api["meetings"]] == ["社情茶社第3期", "社情茶社第2期", "社情茶社第1期"]
    bad = client.get(f"/api/v1/meetings/public/{code}?page=0")
    assert bad.status_code == 400 and "page" in str(bad.json()["error"])


def test_the_public_record_api_is_rate_limited(client, tree, settings) -> None:  # type: ignore[no-untyped-def]
    settings.GONGZHI_RATES = {**settings.GONGZHI_RATES, "public_wall": "2/h"}
    url = f"/api/v1/meetings/public/{tree.communities[0].code}"
    assert [client.get(url).status_code for _ in range(3)] == [200, 200, 429]


def test_a_day_that_does_not_exist_is_not_a_server_error(client, tree, staff) -> None:  # type: ignore[no-untyped-def]
    """2026-02-30 in a period filter is no filter; as a meeting's start it is asked for again, nothing saved."""
    from gongzhi.meetings.models import Meeting

    client.force_login(staff)
    assert client.get(reverse("meetings-figures") + "?start=2026-02-30&end=2026-13-01").status_code == 200
    page = client.post(reverse("meetings-new"), {"kind": kind("teahouse").pk, "title": "社情茶社",
                                                 "place": tree.communities[0].pk, "starts_at": "2026-02-30T19:00"},
                       follow=True)  # fmt: skip
    assert page.status_code == 200 and not Meeting.objects.filter(title="社情茶社").exists()
