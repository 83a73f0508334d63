"""The case pages: to-do, report, case page and its actions, the desk, and the resident's pages without an account."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import services, tracking, workflow
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.cases.tests.factories import category, new_case
from gongzhi.core.models import AuditLog

pytestmark = pytest.mark.django_db
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PHONE = "13912345678"


@pytest.fixture(autouse=True)
def _media_and_throttle(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    cache.clear()  # the resident pages' throttle counts per address in the cache
    yield
    cache.clear()


@pytest.fixture
def operator(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)


def photo(name: str = "p.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, JPEG, content_type="image/jpeg")


def html_of(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


# --- pages render, in Chinese, for the right people ----------------------------------------------------------------


def test_staff_pages_render_in_chinese(client, tree, worker, staff, operator):  # type: ignore[no-untyped-def]
    case = new_case(worker, tree.buildings[0], title="楼道堆放杂物")
    client.force_login(worker)
    page = html_of(client.get(reverse("cases-todo")))
    assert 'lang="zh-hans"' in page
    assert "我的待办" in page and "上报" in page and "楼道堆放杂物" in page
    assert f'data-case-id="{case.pk}"' in page
    page = html_of(client.get(reverse("cases-report")))
    assert "上报问题" in page and "定位" in page and 'capture="environment"' in page
    assert "网格巡查" in page, "a grid worker reports from patrol"
    assert "窗口受理" not in page, "the desk channel is not a grid worker's"
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    assert "可办理的操作" in page and "时间线" in page and "楼道堆放杂物" in page
    assert f'href="/territory/nodes/{case.node_id}/"' in page

    client.force_login(staff)
    page = html_of(client.get(reverse("cases-desk")))
    assert "受理台" in page and "楼道堆放杂物" in page
    page = html_of(client.get(reverse("cases-overdue")))
    assert "超期案件" in page
    page = html_of(client.get(reverse("cases-list")))
    assert "全部案件" in page and "楼道堆放杂物" in page
    page = html_of(client.get(reverse("cases-report")))
    assert "窗口受理（来电）" in page, "community staff take phone calls in"
    assert client.get(reverse("cases-hotline")).status_code == 403, "only the subdistrict desk imports 12345"

    client.force_login(operator)
    page = html_of(client.get(reverse("cases-hotline")))
    assert "12345" in page and "导入" in page


def test_anonymous_is_sent_to_login_but_resident_pages_are_open(client, tree):  # type: ignore[no-untyped-def]
    for name in ("cases-todo", "cases-report", "cases-desk", "cases-overdue", "cases-list", "cases-hotline"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), name
    page = html_of(client.get(reverse("cases-public-report")))
    assert "反映" in page and "手机" in page and "csrfmiddlewaretoken" in page
    page = html_of(client.get(reverse("cases-public-track") + "?number=2026"))
    assert "查询" in page and 'value="2026"' in page


def test_roles_without_intake_cannot_open_the_report_form(client, tree, handler):  # type: ignore[no-untyped-def]
    client.force_login(handler)
    assert client.get(reverse("cases-report")).status_code == 403


# --- scope ---------------------------------------------------------------------------------------------------------


def test_case_page_and_photos_out_of_scope_are_not_found(client, tree, other_tree, worker):  # type: ignore[no-untyped-def]
    admin = user_with_role(Role.ADMIN)
    mine = new_case(admin, tree.buildings[0], files=[photo()])
    neighbours = new_case(admin, tree.grids[2], files=[photo()])  # another community
    elsewhere = new_case(admin, other_tree.grids[0], files=[photo()])
    client.force_login(worker)
    assert client.get(reverse("cases-detail", args=[mine.pk])).status_code == 200
    mine_photo = mine.attachments.get()
    response = client.get(reverse("cases-attachment", args=[mine_photo.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")
    for case in (neighbours, elsewhere):
        response = client.get(reverse("cases-detail", args=[case.pk]))
        assert response.status_code == 404
        assert "未找到" in html_of(response) or "不存在" in html_of(response)
        assert case.title not in html_of(response) or case.title == mine.title
        assert client.get(reverse("cases-attachment", args=[case.attachments.get().pk])).status_code == 404
        assert client.post(reverse("cases-act", args=[case.pk, "accept"])).status_code == 404
    assert client.get(reverse("cases-attachment", args=[999999])).status_code == 404


# --- report form ----------------------------------------------------------------------------------------------------


def test_grid_worker_reports_with_gps_and_photo(client, tree, worker):  # type: ignore[no-untyped-def]
    client.force_login(worker)
    cat = category("0503")
    response = client.post(
        reverse("cases-report"),
        {
            "channel": "patrol",
            "title": "消防通道被占",
            "major": cat.parent_id,
            "category": cat.pk,
            "lat": "41.9041",
            "lng": "123.4041",
            "reporter_phone": PHONE,
            "photos": [photo("a.jpg"), photo("b.jpg")],
        },
    )
    assert response.status_code == 302, html_of(response)
    case = Case.objects.get(title="消防通道被占")
    assert response["Location"] == reverse("cases-detail", args=[case.pk])
    assert case.node == tree.buildings[0] and case.urgency == "A" and case.status == "reported"
    assert case.channel == "patrol" and case.owner_user == worker
    assert case.attachments.count() == 2
    page = html_of(client.get(response["Location"]))
    assert "已上报" in page and case.number in page
    assert page.count('href="/cases/attachments/') >= 2


def test_fixed_on_the_spot_goes_through_the_workflow(client, tree, worker):  # type: ignore[no-untyped-def]
    client.force_login(worker)
    cat = category("0104")
    data = {
        "channel": "patrol",
        "title": "绿化带晾衣",
        "major": cat.parent_id,
        "category": cat.pk,
        "address": tree.buildings[0].name,
        "fixed_on_spot": "on",
    }
    response = client.post(reverse("cases-report"), data)
    assert response.status_code == 400
    assert "请说明现场是怎么处理的" in html_of(response)
    response = client.post(reverse("cases-report"), {**data, "fixed_note": "已劝导收回"})
    assert response.status_code == 302
    case = Case.objects.get(title="绿化带晾衣")
    assert case.status == "disposed" and case.fixed_on_spot
    assert list(case.events.values_list("action", flat=True)) == ["report", "fix_on_spot"]


def test_bad_report_form_shows_errors_next_to_fields(client, tree, worker):  # type: ignore[no-untyped-def]
    client.force_login(worker)
    response = client.post(
        reverse("cases-report"),
        {"channel": "patrol", "title": "", "reporter_phone": "1390abc", "lat": "41.9"},
    )
    assert response.status_code == 400
    page = html_of(response)
    assert 'id="field-title"' in page and "这个字段是必填项" in page
    assert "请选择问题的分类" in page
    assert "请只用数字填写电话号码" in page
    assert "纬度和经度要一起填写" in page
    assert Case.objects.count() == 0
    # A refusal of the service (a file that is not a photo) lands on the photos field.
    cat = category()
    response = client.post(
        reverse("cases-report"),
        {
            "channel": "patrol",
            "title": "积水",
            "category": cat.pk,
            "photos": [SimpleUploadedFile("x.txt", b"hello", content_type="text/plain")],
        },
    )
    assert response.status_code == 400
    page = html_of(response)
    assert 'data-field="photos"' in page and "x.txt" in page
    assert Case.objects.count() == 0


def test_duplicate_suggestions_for_the_report_form(client, tree, worker):  # type: ignore[no-untyped-def]
    cat = category("0105")
    existing = services.report_case(
        actor=worker, channel="patrol", title="小区门口积水", category_id=cat.pk, lat=41.9041, lng=123.4041
    )
    client.force_login(worker)
    response = client.get(
        reverse("cases-similar"), {"category": cat.pk, "lat": "41.9042", "lng": "123.4042", "title": "门口积水"}
    )
    assert response.status_code == 200
    assert existing.number in html_of(response) and f"/cases/{existing.pk}/" in html_of(response)
    response = client.get(
        reverse("cases-similar"), {"category": category("0501").pk, "lat": "41.9042", "lng": "123.4042"}
    )
    assert existing.number not in html_of(response) and "附近没有同类" in html_of(response)


# --- the case page: actions, notes, phone -------------------------------------------------------------------------


def test_dispatch_button_posts_through_the_workflow(client, tree, worker, staff, property_company):  # type: ignore[no-untyped-def]
    case = new_case(worker, tree.buildings[0])
    client.force_login(staff)
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    assert 'data-action="dispatch"' in page and property_company.name in page
    # No handler chosen: the field error is shown in the open dispatch form, nothing changes.
    response = client.post(reverse("cases-act", args=[case.pk, "dispatch"]), {"dispatch-note": "请处理"})
    assert response.status_code == 400
    page = html_of(response)
    assert '<details class="action" data-action="dispatch" open>' in page
    assert 'data-field="handler"' in page
    case.refresh_from_db()
    assert case.status == "reported"
    response = client.post(
        reverse("cases-act", args=[case.pk, "dispatch"]),
        {"dispatch-handler": f"body:{property_company.pk}", "dispatch-note": "请物业处理"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("cases-detail", args=[case.pk])
    case.refresh_from_db()
    assert case.status == "dispatched" and case.handler_body == property_company
    event = case.events.get(action="dispatch")
    assert event.actor == staff and event.note == "请物业处理"
    page = html_of(client.get(response["Location"]))
    assert "已派遣" in page and property_company.name in page


def test_handler_works_the_case_and_a_note_required_action_needs_a_note(
    client, tree, worker, staff, handler, property_company
):  # type: ignore[no-untyped-def]
    case = new_case(worker, tree.buildings[0])
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    client.force_login(handler)
    assert case.title in html_of(client.get(reverse("cases-todo")))
    for action in ("acknowledge", "start"):
        assert client.post(reverse("cases-act", args=[case.pk, action])).status_code == 302
    response = client.post(reverse("cases-act", args=[case.pk, "dispose"]), {"dispose-note": ""})
    assert response.status_code == 400 and 'data-field="note"' in html_of(response)
    response = client.post(
        reverse("cases-act", args=[case.pk, "dispose"]),
        {"dispose-note": "已清理", "dispose-photos": [photo("after.jpg")]},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "disposed"
    assert case.attachments.filter(name="after.jpg").exists()
    # The handler cannot verify their own work; the button is not there and a forged post is refused.
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    assert 'data-action="verify"' not in page
    assert client.post(reverse("cases-act", args=[case.pk, "verify"])).status_code == 403
    # The grid worker verifies and closes it.
    client.force_login(worker)
    for action in ("verify", "close"):
        assert client.post(reverse("cases-act", args=[case.pk, action])).status_code == 302
    case.refresh_from_db()
    assert case.status == "closed"


def test_an_action_no_longer_possible_is_explained(client, tree, worker):  # type: ignore[no-untyped-def]
    case = new_case(worker, tree.buildings[0])
    client.force_login(worker)
    assert client.post(reverse("cases-act", args=[case.pk, "accept"])).status_code == 302
    response = client.post(reverse("cases-act", args=[case.pk, "accept"]))
    assert response.status_code == 400
    assert 'id="case-error"' in html_of(response)


def test_notes_photos_and_hand_over(client, tree, worker):  # type: ignore[no-untyped-def]
    leader = user_with_role(Role.GRID_LEADER, node=tree.grids[0])
    case = new_case(worker, tree.buildings[0])
    client.force_login(worker)
    assert client.post(reverse("cases-note", args=[case.pk]), {"note-note": ""}).status_code == 400
    assert (
        client.post(reverse("cases-note", args=[case.pk]), {"note-note": "已电话联系", "note-reply": "on"}).status_code
        == 302
    )
    assert case.events.get(action="note").public and case.events.get(action="note").reply
    response = client.post(reverse("cases-attach", args=[case.pk]), {"attach-photos": [photo("more.jpg")]})
    assert response.status_code == 302 and case.attachments.filter(name="more.jpg").exists()
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    assert f'<option value="{leader.pk}">' in page
    response = client.post(reverse("cases-hand-over", args=[case.pk]), {"handover-to_user": leader.pk})
    assert response.status_code == 400 and 'data-field="note"' in html_of(response)
    response = client.post(
        reverse("cases-hand-over", args=[case.pk]), {"handover-to_user": leader.pk, "handover-note": "交网格长处理"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.owner_user == leader


def test_reporter_phone_is_masked_until_revealed(client, tree, worker, staff, handler, property_company):  # type: ignore[no-untyped-def]
    case = new_case(None, tree.buildings[0], channel="resident", reporter_name="李阿姨", reporter_phone=PHONE)
    client.force_login(staff)
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    assert PHONE not in page and "139****5678" in page and 'id="reveal-phone"' in page
    assert not AuditLog.objects.filter(action="privacy.reveal").exists()
    response = client.post(reverse("cases-reveal", args=[case.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and PHONE in html_of(response)
    assert AuditLog.objects.filter(action="privacy.reveal", actor=staff).count() == 1
    # Without HTMX the whole page comes back with the number shown.
    assert PHONE in html_of(client.post(reverse("cases-reveal", args=[case.pk])))
    # A property company's handler sees the case once dispatched, masked, and may not reveal it.
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    client.force_login(handler)
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    assert PHONE not in page and "139****5678" in page and 'id="reveal-phone"' not in page
    assert client.post(reverse("cases-reveal", args=[case.pk])).status_code == 403


# --- desk ------------------------------------------------------------------------------------------------------------


def test_desk_queue_quick_actions_and_list_filters(client, tree, worker, staff, property_company):  # type: ignore[no-untyped-def]
    a = new_case(worker, tree.buildings[0], title="路灯不亮")
    b = new_case(staff, tree.buildings[1], title="乱停车", category_id=category("0501").pk)
    client.force_login(staff)
    page = html_of(client.get(reverse("cases-desk")))
    assert "路灯不亮" in page and "乱停车" in page and 'data-quick="dispatch"' in page
    fragment = html_of(
        client.get(reverse("cases-act", args=[a.pk, "dispatch"]) + "?next=/cases/desk/", HTTP_HX_REQUEST="true")
    )
    assert property_company.name in fragment and 'name="next" value="/cases/desk/"' in fragment
    response = client.post(
        reverse("cases-act", args=[a.pk, "dispatch"]),
        {"dispatch-handler": f"body:{property_company.pk}", "next": "/cases/desk/"},
    )
    assert response.status_code == 302 and response["Location"] == "/cases/desk/"
    response = client.post(reverse("cases-act", args=[b.pk, "accept"]), {"next": "https://evil.example/"})
    assert response["Location"] == reverse("cases-detail", args=[b.pk]), "no open redirect"
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.status, b.status) == ("dispatched", "accepted")

    def rows(**query: object) -> set[int]:
        page = html_of(client.get(reverse("cases-list"), query))
        return {int(x) for x in re.findall(r'<tr class="[^"]*" data-case-id="(\d+)"', page)}

    assert rows() == {a.pk, b.pk}
    assert rows(text="停车") == {b.pk}
    assert rows(status="dispatched") == {a.pk}
    assert rows(status="open") == {a.pk, b.pk}
    assert rows(node=tree.grids[1].pk) == {b.pk}
    assert rows(category=category("0501").parent_id) == {b.pk}
    response = client.get(reverse("cases-list"), {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert "结束日期早于开始日期" in html_of(response)


def test_unplaced_cases_come_first_in_the_intake_queue(client, tree, operator):  # type: ignore[no-untyped-def]
    placed = new_case(operator, tree.buildings[0], title="已定位")
    unplaced = services.report_case(
        actor=operator, channel="desk", title="位置不明", category_id=category().pk, lat=10.0, lng=10.0
    )
    assert unplaced.unplaced
    client.force_login(operator)
    page = html_of(client.get(reverse("cases-desk")))
    assert page.index("位置不明") < page.index("已定位") and "位置未匹配" in page
    assert placed.number in page


def test_hotline_import_shows_created_skipped_and_bad_rows(client, tree, operator):  # type: ignore[no-untyped-def]
    category("0105")
    csv = (
        "工单编号,来电时间,诉求标题,诉求分类,事发地址,联系电话\n"
        "T-1,2026-01-05 09:00,门口积水,积水,,13900000001\n"
        "T-2,不是时间,噪音,噪音扰民,,13900000002\n"
    ).encode()
    client.force_login(operator)
    response = client.post(reverse("cases-hotline"), {"file": SimpleUploadedFile("12345.csv", csv, "text/csv")})
    assert response.status_code == 200
    page = html_of(response)
    assert 'id="count-created">1<' in page and 'id="count-errors">1<' in page
    assert 'data-row="3"' in page and "reported_at" not in page.replace('data-field="reported_at"', "")
    response = client.post(reverse("cases-hotline"), {"file": SimpleUploadedFile("12345.csv", csv, "text/csv")})
    assert 'id="count-skipped">1<' in html_of(response) and "T-1" in html_of(response)
    response = client.post(reverse("cases-hotline"), {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n", "text/csv")})
    assert response.status_code == 400 and "notice-error" in html_of(response)


# --- residents --------------------------------------------------------------------------------------------------------


def test_resident_reports_tracks_and_rates(client, tree, worker, staff, property_company):  # type: ignore[no-untyped-def]
    cat = category("0701")
    response = client.post(
        reverse("cases-public-report"),
        {
            "title": "楼道堆满杂物",
            "major": cat.parent_id,
            "category": cat.pk,
            "address": tree.buildings[0].name,
            "reporter_name": "李阿姨",
            "reporter_phone": PHONE,
            "photos": [photo()],
        },
    )
    assert response.status_code == 302 and response["Location"] == reverse("cases-public-report-done")
    case = Case.objects.get(title="楼道堆满杂物")
    assert case.channel == "resident" and case.node == tree.buildings[0] and case.reporter_user is None
    page = html_of(client.get(response["Location"]))
    assert case.number in page and tracking.display(case.tracking_code) in page
    assert f"?number={case.number}" not in page and case.tracking_code not in response["Location"]

    # Wrong phone: nothing is told, not even that the case exists.
    response = client.post(reverse("cases-public-track"), {"code": case.number, "phone": "13900000000"})
    assert response.status_code == 404 and "楼道堆满杂物" not in html_of(response)
    response = client.post(reverse("cases-public-track"), {"code": case.number, "phone": PHONE})
    assert response.status_code == 200
    page = html_of(response)
    assert "楼道堆满杂物" in page and "已上报" in page and 'id="rate-form"' not in page

    # Staff work it: an internal note and an internal action note never reach the tracking page.
    services.add_note(actor=staff, case_id=case.pk, note="内部：住户情绪激动", public=False)
    workflow.perform(actor=staff, case_id=case.pk, action="accept", note="内部备注：先联系物业", public=False)
    workflow.perform(
        actor=staff,
        case_id=case.pk,
        action="dispatch",
        note="已派物业",
        payload={"handler_body_id": property_company.pk},
    )
    handler = user_with_role(Role.DEPARTMENT_HANDLER, body=property_company)
    for action in ("acknowledge", "start"):
        workflow.perform(actor=handler, case_id=case.pk, action=action)
    workflow.perform(actor=handler, case_id=case.pk, action="dispose", note="已清理楼道", reply=True)
    workflow.perform(actor=worker, case_id=case.pk, action="verify")
    workflow.perform(actor=worker, case_id=case.pk, action="close")
    response = client.post(reverse("cases-public-track"), {"code": case.number, "phone": PHONE})
    page = html_of(response)
    assert "已结案" in page and "已清理楼道" in page, "a reply to the reporter is shown"
    assert "已派遣" in page and "已派物业" not in page, "the step is shown, its note (not a reply) is internal"
    assert "内部" not in page, "internal notes stay internal"
    assert handler.display_name not in page and staff.display_name not in page, "no staff names for the public"
    assert 'id="rate-form"' in page and f'value="{PHONE}"' in page

    # The rating checks the phone again.
    response = client.post(
        reverse("cases-public-rate"),
        {"code": case.number, "phone": "13900000000", "rating": "satisfied", "resolved": "1"},
    )
    assert response.status_code == 404
    response = client.post(
        reverse("cases-public-rate"),
        {"code": case.number, "phone": PHONE, "rating": "satisfied", "resolved": "1", "note": "很快"},
    )
    assert response.status_code == 200
    page = html_of(response)
    assert "感谢您的评价" in page and "满意" in page and 'id="rate-form"' not in page
    case.refresh_from_db()
    assert case.status == "followed_up" and case.rating == "satisfied" and case.resolved is True
    assert CaseEvent.objects.filter(case=case, action="rate", actor__isnull=True).exists()
    # Only once.
    response = client.post(
        reverse("cases-public-rate"), {"code": case.number, "phone": PHONE, "rating": "dissatisfied", "resolved": "0"}
    )
    assert response.status_code == 409
    case.refresh_from_db()
    assert case.rating == "satisfied"


def test_merged_report_follows_the_surviving_case(client, tree, worker):  # type: ignore[no-untyped-def]
    first = new_case(worker, tree.buildings[0], title="电梯停运")
    dup = new_case(None, tree.buildings[0], channel="resident", title="电梯又坏了", reporter_phone=PHONE)
    workflow.perform(actor=worker, case_id=dup.pk, action="merge", payload={"into_case_id": first.pk})
    workflow.perform(actor=worker, case_id=first.pk, action="accept", note="已联系电梯维保", reply=True)
    page = html_of(client.post(reverse("cases-public-track"), {"code": dup.number, "phone": PHONE}))
    assert 'id="track-merged"' in page and first.number in page and "已联系电梯维保" in page


def test_resident_report_errors_and_csrf(client, tree):  # type: ignore[no-untyped-def]
    response = client.post(
        reverse("cases-public-report"), {"title": "路面破损", "category": category("0303").pk, "reporter_phone": "12ab"}
    )
    assert response.status_code == 400
    assert 'data-field="reporter_phone"' in html_of(response)
    assert Case.objects.count() == 0
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("cases-public-report"), {"title": "x", "reporter_phone": PHONE})
    assert response.status_code == 403


def test_resident_posts_are_throttled(client, tree, settings):  # type: ignore[no-untyped-def]
    settings.GONGZHI_RATES = {**settings.GONGZHI_RATES, "public_track": "2/h"}
    for _ in range(2):
        assert client.post(reverse("cases-public-track"), {"code": "1", "phone": "1"}).status_code == 404
    response = client.post(reverse("cases-public-track"), {"code": "1", "phone": "1"})
    assert response.status_code == 429 and "请稍后再试" in html_of(response)


def test_postpone_merge_and_call_back_forms_carry_their_fields(client, tree, worker, staff, admin, property_company):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from django.utils import timezone

    from gongzhi.cases.tests.factories import walk

    case = walk(admin, new_case(worker, tree.buildings[0]), "in_progress", handler_body=property_company)
    client.force_login(staff)
    yesterday = (timezone.localdate() - timedelta(days=1)).isoformat()
    response = client.post(
        reverse("cases-act", args=[case.pk, "postpone"]), {"postpone-until": yesterday, "postpone-note": "等配件"}
    )
    assert response.status_code == 400 and 'data-field="until"' in html_of(response)
    until = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = client.post(
        reverse("cases-act", args=[case.pk, "postpone"]), {"postpone-until": until, "postpone-note": "等配件"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "postponed" and timezone.localtime(case.postponed_until).date().isoformat() == until

    first = new_case(worker, tree.buildings[0], title="井盖缺失", lat=41.9041, lng=123.4041)
    dup = new_case(worker, tree.buildings[0], title="井盖不见了", lat=41.9042, lng=123.4042)
    page = html_of(client.get(reverse("cases-detail", args=[dup.pk])))
    assert f'name="merge-into_case" value="{first.pk}"' in page
    response = client.post(reverse("cases-act", args=[dup.pk, "merge"]), {"merge-into_case": first.pk})
    assert response.status_code == 302
    dup.refresh_from_db()
    assert dup.status == "merged" and dup.merged_into == first

    done = walk(admin, new_case(worker, tree.buildings[0], title="路灯"), "closed", handler_body=property_company)
    response = client.post(reverse("cases-act", args=[done.pk, "follow_up"]), {"follow_up-note": "电话回访"})
    assert response.status_code == 400 and 'data-field="rating"' in html_of(response)
    response = client.post(
        reverse("cases-act", args=[done.pk, "follow_up"]),
        {"follow_up-rating": "basically_satisfied", "follow_up-resolved": "on"},
    )
    assert response.status_code == 302
    done.refresh_from_db()
    assert (done.status, done.rating, done.resolved) == ("followed_up", "basically_satisfied", True)


def test_a_handlers_return_goes_back_to_their_to_do_not_a_404(client, tree, staff, handler, property_company):  # type: ignore[no-untyped-def]
    case = new_case(staff, tree.grids[0])
    workflow.perform(actor=staff, case_id=case.pk, action="dispatch", payload={"handler_body_id": property_company.pk})
    client.force_login(handler)
    response = client.post(reverse("cases-act", args=[case.pk, "return"]), {"return-note": "不属于物业管理范围"})
    assert response.status_code == 302 and response["Location"] == reverse("cases-todo")
    case.refresh_from_db()
    assert case.status == "returned"
    page = html_of(client.get(response["Location"]))
    assert case.number in page and "已不在您的列表中" in page


def test_the_dispatch_form_warns_of_a_body_nobody_acts_for_and_takes_a_phone_hand_off(
    client, tree, staff, property_company, nobodys_company
):  # type: ignore[no-untyped-def]
    case = new_case(staff, tree.grids[0])
    client.force_login(staff)
    page = html_of(client.get(reverse("cases-detail", args=[case.pk])))
    assert "道义物业公司（平台上无人接单：需电话交接）" in page
    assert "府东物业公司</option>" in page  # someone acts for it: no warning
    assert 'name="dispatch-phone_handoff_note"' in page
    url = reverse("cases-act", args=[case.pk, "dispatch"])
    response = client.post(url, {"dispatch-handler": f"body:{nobodys_company.pk}"})
    assert response.status_code == 400
    page = html_of(response)
    assert 'data-field="phone_handoff_note"' in page and "没有可以接单的人" in page
    case.refresh_from_db()
    assert case.status == "reported"
    response = client.post(
        url, {"dispatch-handler": f"body:{nobodys_company.pk}", "dispatch-phone_handoff_note": "电话告知李主任"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == "dispatched" and case.handler_body == nobodys_company
    event = CaseEvent.objects.get(case=case, action="phone_handoff")
    assert event.note == "电话告知李主任" and event.actor == staff and not event.public
    assert "电话交接" in html_of(client.get(reverse("cases-detail", args=[case.pk])))
