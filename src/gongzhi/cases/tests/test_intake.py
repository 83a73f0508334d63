"""Intake: placement (GPS, address, desk fallback), attachments, duplicates and merging, the resident's view."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import selectors, services, workflow
from gongzhi.cases.choices import Status, Tier
from gongzhi.cases.models import Attachment, Case
from gongzhi.cases.tests.factories import category
from gongzhi.core.errors import ValidationFailed
from gongzhi.messaging.models import Delivery

pytestmark = pytest.mark.django_db

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def report(actor, **kw):  # type: ignore[no-untyped-def]
    kw.setdefault("channel", "patrol")
    kw.setdefault("title", "积水")
    kw.setdefault("category_id", category("0105").pk)
    return services.report_case(actor=actor, **kw)


def test_gps_places_the_case_on_the_nearest_building(tree):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    case = report(worker, lat=41.9041, lng=123.4041)
    assert case.node == tree.buildings[0] and not case.unplaced
    assert case.tier == Tier.BUILDING and case.owner_body == tree.committees[0]
    far_from_buildings = report(worker, lat=41.9090, lng=123.4010)
    assert far_from_buildings.node == tree.grids[0] and far_from_buildings.tier == Tier.GRID


def test_address_places_the_case(tree):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    case = report(staff, channel="desk", address=tree.buildings[3].name + "2单元501")
    assert case.node == tree.buildings[3]


def test_an_unplaceable_case_goes_to_the_subdistrict_desk_flagged(tree):  # type: ignore[no-untyped-def]
    case = report(None, channel="resident", lat=30.0, lng=120.0, address="不知道哪里", reporter_phone="13800000000")
    assert case.node == tree.subdistrict and case.unplaced
    assert case.owner_body == tree.office and case.tier == Tier.SUBDISTRICT
    assert case.status == Status.REPORTED
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    assert selectors.intake_queue(user=operator).first() == case, "flagged cases come first at the desk"
    # A system note is written in the site's language, whoever's request (this test runs in English) wrote it.
    assert case.events.get().note == "位置未匹配到任何网格：由街道受理台暂管。"


def test_intake_errors_name_the_fields(tree):  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as info:
        services.report_case(actor=None, channel="pigeon", title=" ", category_id=999999, reporter_phone="12ab")
    fields = {d.field for d in info.value.details}
    assert {"channel", "title", "category_id", "reporter_phone"} <= fields
    assert not Case.objects.exists()


def test_intake_takes_only_an_active_category(tree):  # type: ignore[no-untyped-def]
    from gongzhi.cases.tests.factories import category

    minor = category("0105")
    minor.is_active = False
    minor.save(update_fields=["is_active"])
    with pytest.raises(ValidationFailed) as info:
        services.report_case(actor=None, channel="resident", title="积水", category_id=minor.pk, reporter_phone="138")
    assert [d.field for d in info.value.details] == ["category_id"]
    with pytest.raises(ValidationFailed):  # a number no column can hold is no category either
        services.report_case(actor=None, channel="resident", title="积水", category_id=10**20, reporter_phone="138")
    minor.is_active = True
    minor.save(update_fields=["is_active"])
    case = services.report_case(actor=None, channel="resident", title="积水", category_id=minor.pk,
                                reporter_phone="138", node_id=tree.grids[0].pk)
    assert case.category == minor and case.urgency == minor.default_urgency
    assert not Case.objects.exclude(pk=case.pk).exists()


@pytest.mark.parametrize(
    ("name", "ctype", "content", "message"),
    [
        ("notes.txt", "text/plain", b"hello", "is not a photo"),
        ("fake.jpg", "image/jpeg", b"GIF89a" + b"\x00" * 40, "content is not a image/jpeg"),
        ("huge.png", "image/png", PNG + b"\x00" * (10 * 1024 * 1024), "over the 10 MB limit"),
        ("virus.exe", "application/octet-stream", b"MZ", "is not a photo"),
    ],
)
def test_bad_attachments_are_refused_with_a_clear_message(tree, name, ctype, content, message):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    upload = SimpleUploadedFile(name, content, content_type=ctype)
    with pytest.raises(ValidationFailed) as info:
        report(worker, node_id=tree.grids[0].pk, files=[upload])
    assert info.value.details[0].field == "files[0]"
    assert message in info.value.details[0].message and name in info.value.details[0].message
    assert not Case.objects.exists() and not Attachment.objects.exists()


def test_good_photos_are_stored(tree, settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    files = [
        SimpleUploadedFile("a.jpg", JPEG, content_type="image/jpeg"),
        SimpleUploadedFile("b.png", PNG, content_type="image/png"),
    ]
    case = report(worker, node_id=tree.grids[0].pk, files=files)
    stored = list(case.attachments.order_by("name"))
    assert [a.name for a in stored] == ["a.jpg", "b.png"] and stored[0].event.action == "report"
    assert (tmp_path / stored[0].file.name).read_bytes() == JPEG


def test_duplicates_are_suggested_and_merged(tree, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    first = report(
        None, channel="resident", title="西大商城门口大片积水", lat=41.9050, lng=123.4050, reporter_phone="13811112222"
    )
    second = report(
        None, channel="resident", title="西大商城门前积水严重", lat=41.9051, lng=123.4052, reporter_phone="13933334444"
    )
    elsewhere = report(None, channel="resident", title="积水", lat=41.9050, lng=123.4350, reporter_phone="1")
    other_category = report(
        None,
        channel="resident",
        title="西大商城门口积水",
        category_id=category("0501").pk,
        lat=41.9050,
        lng=123.4050,
        reporter_phone="2",
    )
    suggestions = selectors.similar_open_cases(
        user=staff,
        category_id=first.category_id,
        lat=second.lat,
        lng=second.lng,
        text=second.title,
        exclude_id=second.pk,
    )
    assert [c for c, _ in suggestions] == [first]
    assert elsewhere not in [c for c, _ in suggestions] and other_category not in [c for c, _ in suggestions]
    assert 0.5 < suggestions[0][1] <= 1
    with django_capture_on_commit_callbacks(execute=True):
        workflow.perform(actor=staff, case_id=second.pk, action="merge", payload={"into_case_id": first.pk})
    second.refresh_from_db()
    assert second.status == Status.MERGED and second.merged_into == first
    # Only one work item is left; closing it tells both reporters, once each.
    with django_capture_on_commit_callbacks(execute=True):
        for action in ("accept", "dispatch", "acknowledge", "start", "dispose", "verify", "close"):
            payload = {"handler_node_id": tree.grids[0].pk} if action == "dispatch" else {}
            workflow.perform(actor=staff, case_id=first.pk, action=action, note="已疏通", payload=payload)
    closed = Delivery.objects.filter(kind="case.closed", channel="sms", body__contains=first.number)
    phones = set(closed.values_list("address", flat=True))
    assert phones == {"13811112222", "13933334444"}
    # The second reporter follows the surviving case through their own number.
    public = selectors.public_case(number=second.number, phone="13933334444")
    assert public is not None and public.merged_into == first


def test_merge_refuses_itself_and_closed_targets(tree, admin):  # type: ignore[no-untyped-def]
    a = report(admin, node_id=tree.grids[0].pk)
    with pytest.raises(ValidationFailed):
        workflow.perform(actor=admin, case_id=a.pk, action="merge", payload={"into_case_id": a.pk})
    b = report(admin, node_id=tree.grids[0].pk)
    workflow.perform(actor=admin, case_id=b.pk, action="cancel", note="误报")
    with pytest.raises(ValidationFailed, match="open case"):
        workflow.perform(actor=admin, case_id=a.pk, action="merge", payload={"into_case_id": b.pk})


def test_resident_sees_only_public_notes_and_rates(tree, api, admin):  # type: ignore[no-untyped-def]
    response = api.client.post(
        "/api/v1/cases/public/report",
        data={
            "title": "楼道堆满杂物",
            "category_id": category("0701").pk,
            "address": tree.buildings[0].name,
            "reporter_phone": "13700001234",
            "reporter_name": "王阿姨",
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    case = Case.objects.get(number=number)
    assert case.node == tree.buildings[0] and case.channel == "resident" and case.owner_user is None
    services.add_note(actor=admin, case_id=case.pk, note="内部：当事人有纠纷史", public=False)
    services.add_note(actor=admin, case_id=case.pk, note="已联系物业清理", public=True)
    track = api.client.get(f"/api/v1/cases/public/track?number={number}&phone=13700001234").json()
    notes = [e["note"] for e in track["timeline"]]
    assert "已联系物业清理" in notes and not any("内部" in n for n in notes)
    assert api.client.get(f"/api/v1/cases/public/track?number={number}&phone=13700009999").status_code == 404
    rate = {"number": number, "phone": "13700001234", "rating": "satisfied"}
    assert api.client.post("/api/v1/cases/public/rate", data=rate, content_type="application/json").status_code == 409
    for action in ("accept", "dispatch", "acknowledge", "start", "dispose", "verify", "close"):
        payload = {"handler_node_id": tree.grids[0].pk} if action == "dispatch" else {}
        workflow.perform(actor=admin, case_id=case.pk, action=action, note="处理", payload=payload)
    response = api.client.post("/api/v1/cases/public/rate", data=rate, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == Status.FOLLOWED_UP
    case.refresh_from_db()
    assert case.rating == "satisfied" and case.resolved is True
