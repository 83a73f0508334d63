"""The permission matrix: every role × every scoped model × every action.

For each role placed on its ground in one subdistrict (A), one object is made on that ground and one on the same
ground in another subdistrict (B). ``restrict(user, action)`` must admit the first exactly when the role policy
grants the action, and the second never (admins excepted). Through the API, an object out of scope is a 404 whose
body carries none of the object's personal data.
"""

from __future__ import annotations

import itertools

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.accounts.policy import POLICY
from gongzhi.accounts.tests.factories import UserFactory, user_with_role
from gongzhi.core import audit
from gongzhi.core.models import AuditLog
from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.core.scope import ACTIONS, scope_of
from gongzhi.core.testing import Ground, MatrixModel
from gongzhi.territory.choices import BodyKind, NodeKind, PartyOrgKind
from gongzhi.territory.models import Body, CoJurisdiction, Node, PartyOrg
from gongzhi.territory.tests.factories import Tree, co_cover

_seq = itertools.count(1)


def _model(label: str):  # type: ignore[no-untyped-def]
    from django.apps import apps

    return apps.get_model(label)


def _body_on(ground: Ground) -> Body:
    if ground.body is not None:
        return ground.body
    return Body.objects.create(
        name=f"共建单位{next(_seq)}", kind=BodyKind.CO_BUILDING_UNIT, node=ground.node, contact_phone="13700001111"
    )


def _user_on(ground: Ground) -> User:
    user = UserFactory(phone=f"186{next(_seq):08d}")
    RoleAssignment.objects.create(user=user, role=Role.GRID_WORKER, node=ground.node)
    return user


def _case_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.cases.models import Case
    from gongzhi.cases.tests.factories import new_case

    case = new_case(None, ground.node, channel="resident", reporter_phone=f"135{next(_seq):08d}")
    if ground.body is not None:
        Case.objects.filter(pk=case.pk).update(handler_body=ground.body)
        case.refresh_from_db()
    return case


def _event_on(ground: Ground):  # type: ignore[no-untyped-def]
    return _case_on(ground).events.get()


def _attachment_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.cases.models import Attachment

    return Attachment.objects.create(
        case=_case_on(ground), file="cases/x.jpg", name="x.jpg", content_type="image/jpeg", size=1
    )


def _person_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.registry.tests.factories import make_person

    household = Node.objects.filter(kind=NodeKind.HOUSEHOLD, code__startswith=ground.node.code).order_by("code")[0]
    return make_person(household, phone=f"137{next(_seq):08d}")


def _person_tag_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.registry.models import PersonTag

    return PersonTag.objects.create(person=_person_on(ground), tag="elderly", since="2024-01-01")


def _party_member_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.registry.models import PartyMember

    return PartyMember.objects.create(person=_person_on(ground), member_type="on_duty", reported_in=True)


def _household_on(ground: Ground) -> Node:
    return Node.objects.filter(kind=NodeKind.HOUSEHOLD, code__startswith=ground.node.code).order_by("code")[0]


def _contact_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.registry.models import OrgContact

    return OrgContact.objects.create(body=_body_on(ground), name="联系人", phone=f"139{next(_seq):08d}")


def _agreement_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.registry.models import CoBuildingAgreement

    return CoBuildingAgreement.objects.create(
        unit=_body_on(ground), partner=ground.node, title="共建协议", signed_on="2026-01-01", starts="2026-01-01"
    )


def _import_run_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.registry.models import ImportRun

    return ImportRun.objects.create(kind="residents", actor=UserFactory(), node_code=ground.node.code)


def _campaign_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.visits.models import Campaign

    return Campaign.objects.create(
        name="走访", area=ground.node, starts="2026-11-01", ends="2026-12-31", created_by=UserFactory()
    )


def _target_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.visits.models import CampaignTarget

    return CampaignTarget.objects.create(campaign=_campaign_on(ground), household=_household_on(ground))


def _care_plan_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.visits.models import CarePlan

    return CarePlan.objects.create(person=_person_on(ground), starts="2026-11-01", next_due="2026-11-01")


def _visit_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.visits.models import Visit

    return Visit.objects.create(
        household=_household_on(ground), visitor=UserFactory(), visited_at="2026-11-20T10:00:00+08:00", outcome="met"
    )


def _building_on(ground: Ground) -> Node:
    return Node.objects.filter(kind=NodeKind.BUILDING, code__startswith=ground.node.code).order_by("code")[0]


def _checklist_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.inspections.models import Checklist

    subdistrict = Node.objects.get(code=ground.node.code[:9])
    return Checklist.objects.get_or_create(area=subdistrict, kind="residential", defaults={"name": "检查表"})[0]


def _checklist_item_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.inspections.models import ChecklistItem

    return ChecklistItem.objects.create(checklist=_checklist_on(ground), question="消防通道是否畅通")


def _site_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.inspections.models import Site

    return Site.objects.create(building=_building_on(ground), kind="shop")


def _plan_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.inspections.models import Plan

    return Plan.objects.create(area=ground.node, name="月度巡查", kind="residential", starts="2026-01-01")


def _round_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.inspections.models import Round

    return Round.objects.create(
        plan=_plan_on(ground), checklist=_checklist_on(ground), building=_building_on(ground),
        period_start="2026-11-01", due="2026-11-30",
    )  # fmt: skip


def _round_photo_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.inspections.models import RoundPhoto

    return RoundPhoto.objects.create(
        round=_round_on(ground), file="inspections/x.jpg", name="x.jpg", content_type="image/jpeg", size=1
    )


def _hazard_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.inspections.models import Hazard

    return Hazard.objects.create(
        building=_building_on(ground), title="楼道堆物", found_at="2026-11-20T10:00:00+08:00",
        first_deadline="2026-11-27", deadline="2026-11-27",
    )  # fmt: skip


def _hazard_check_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.inspections.models import HazardCheck

    return HazardCheck.objects.create(hazard=_hazard_on(ground), checked_at="2026-11-21T10:00:00+08:00", rectified=True)


def _notice_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.notices.models import Notice

    return Notice.objects.create(
        title="通知", body="停水", area=ground.node, sender=UserFactory(), published_at="2026-11-20T10:00:00+08:00"
    )


def _notice_sender_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.notices.models import NoticeSender

    notice = _notice_on(ground)
    return NoticeSender.objects.create(notice=notice, user=UserFactory(), area=ground.node, sent_at=notice.published_at)


def _delivery_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.notices.models import NoticeDelivery

    notice = _notice_on(ground)
    return NoticeDelivery.objects.create(
        notice=notice, household=_household_on(ground), token=f"t{next(_seq)}", delivered_at=notice.published_at
    )


def _post_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.service.models import Post, PostKind

    return Post.objects.create(
        kind=PostKind.objects.get(name="助老"), title="助老岗", area=ground.node, owner_body=ground.body,
        schedule="每周六", created_by=UserFactory(),
    )  # fmt: skip


def _claim_on(ground: Ground):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from gongzhi.service.models import Claim

    return Claim.objects.create(
        post=_post_on(ground), person=_person_on(ground), user=UserFactory(), claimed_at=timezone.now()
    )


def _service_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    from gongzhi.service.models import Service

    return Service.objects.create(claim=_claim_on(ground), served_on=datetime.date(2026, 11, 20), hours=2)


def _meeting_on(ground: Ground):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from gongzhi.meetings import services as meetings
    from gongzhi.meetings.models import Meeting, MeetingKind

    meetings.ensure_kinds()
    return Meeting.objects.create(
        kind=MeetingKind.objects.get(code="council"), title="议事会", place=ground.node, body=ground.body,
        starts_at=timezone.now(),
    )  # fmt: skip


def _series_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.meetings import services as meetings
    from gongzhi.meetings.models import MeetingKind, Series

    meetings.ensure_kinds()
    return Series.objects.create(
        kind=MeetingKind.objects.get(code="joint"), title="联席会议", place=ground.node, body=ground.body
    )


def _rota_member_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.meetings.models import RotaMember

    return RotaMember.objects.create(series=_series_on(ground), body=_body_on(ground), position=1)


def _topic_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.meetings.models import Topic

    return Topic.objects.create(place=ground.node, title="楼道堆物", proposed_by=UserFactory(), proposer_name="某居民")


def _support_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.meetings.models import Support

    return Support.objects.create(topic=_topic_on(ground), user=UserFactory())


def _agenda_item_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.meetings.models import AgendaItem

    return AgendaItem.objects.create(meeting=_meeting_on(ground), title="楼道堆物")


def _attendance_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.meetings.models import Attendance

    return Attendance.objects.create(meeting=_meeting_on(ground), user=UserFactory(), name="某居民", present=True)


def _decision_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.meetings.models import Decision

    return Decision.objects.create(meeting=_meeting_on(ground), text="清理楼道堆物")


def _person_account_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.service.models import PersonAccount

    return PersonAccount.objects.create(user=UserFactory(), person=_person_on(ground))


def _recognition_campaign_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.recognition.models import Campaign

    return Campaign.objects.create(
        title="五星文明户", subject="household", area=ground.node, owner_body=ground.body,
        criteria=[{"name": "邻里和睦", "max_score": None}], public_voting=True, created_by=UserFactory(),
    )  # fmt: skip


def _recognition_panel_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.recognition.models import PanelMember

    return PanelMember.objects.create(campaign=_recognition_campaign_on(ground), user=UserFactory())


def _nomination_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.recognition.models import Nomination

    household = _household_on(ground)
    return Nomination.objects.create(
        campaign=_recognition_campaign_on(ground), household=household, place=household,
        reasons={"邻里和睦": "好"}, status="candidate", nominated_by=UserFactory(),
    )  # fmt: skip


def _vote_on(ground: Ground):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from gongzhi.recognition.models import Vote

    nomination = _nomination_on(ground)
    return Vote.objects.create(
        campaign=nomination.campaign, nomination=nomination, user=UserFactory(), voter_key=f"u:{next(_seq)}",
        created_at=timezone.now(),
    )  # fmt: skip


def _recognition_review_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.recognition.models import Review

    return Review.objects.create(nomination=_nomination_on(ground), member=UserFactory(), approve=True)
def _team_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.service.models import VolunteerTeam

    return VolunteerTeam.objects.create(
        name="志愿服务队", area=ground.node, owner_body=ground.body, created_by=UserFactory()
    )


def _volunteer_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    from gongzhi.service.models import Volunteer

    return Volunteer.objects.create(
        person=_person_on(ground), team=_team_on(ground), joined_on=datetime.date(2026, 1, 1),
        registered_by=UserFactory(),
    )  # fmt: skip


def _activity_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    from django.utils import timezone

    from gongzhi.service.models import Activity

    start = timezone.now()
    return Activity.objects.create(
        title="敬老活动", area=ground.node, owner_body=ground.body, venue="活动室", starts_at=start,
        ends_at=start + datetime.timedelta(hours=2), created_by=UserFactory(),
    )  # fmt: skip


def _signup_on(ground: Ground):  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from gongzhi.service.models import SignUp

    return SignUp.objects.create(
        activity=_activity_on(ground), volunteer=_volunteer_on(ground), user=UserFactory(), signed_up_at=timezone.now()
    )


def _served_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    from gongzhi.service.models import PersonServed

    return PersonServed.objects.create(
        person=_person_on(ground), activity=_activity_on(ground), served_on=datetime.date(2026, 11, 20),
        recorded_by=UserFactory(),
    )  # fmt: skip


def _rollup_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    return _model("kpis.CaseRollup").objects.create(
        day=datetime.date(2026, 11, 2), place_code=ground.node.code[:15], category_id=1, channel="patrol", intake=1
    )


def _month_rollup_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    return _model("kpis.MonthRollup").objects.create(
        month=datetime.date(2026, 11, 1), place_code=ground.node.code[:15], intake=1
    )


def _month_class_rollup_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    return _model("kpis.MonthClassRollup").objects.create(
        month=datetime.date(2026, 11, 1), place_code=ground.node.code[:15], major_category_id=1, channel="patrol"
    )


def _histogram_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    return _model("kpis.CycleHistogram").objects.create(
        month=datetime.date(2026, 11, 1), place_code=f"{ground.node.code[:15]}", counts={"5": next(_seq)}
    )


def _report_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    return _model("kpis.MonthlyReport").objects.create(
        month=datetime.date(2026, 10, 1), node=ground.node, file=f"reports/{next(_seq)}.xlsx"
    )


def _hotline_import_on(ground: Ground):  # type: ignore[no-untyped-def]
    return _model("cases.HotlineImport").objects.create(
        actor=UserFactory(), file_name="12345.csv", node_code=ground.node.code
    )


def _hotline_mapping_on(ground: Ground):  # type: ignore[no-untyped-def]
    return _model("cases.HotlineMapping").objects.create(node_code=ground.node.code, mapping={"ticket": "单号"})


def _message_on(ground: Ground):  # type: ignore[no-untyped-def]
    return _model("messaging.Message").objects.create(
        user=_user_on(ground), kind="case.dispatched", text={"msgid": "x"}, dedupe_key=f"m{next(_seq)}"
    )


def _message_delivery_on(ground: Ground):  # type: ignore[no-untyped-def]
    return _model("messaging.Delivery").objects.create(
        message=_message_on(ground), channel="sms", address="13500001111", body="x", node_code=ground.node.code,
        key=f"d{next(_seq)}",
    )  # fmt: skip


def _preference_on(ground: Ground):  # type: ignore[no-untyped-def]
    return _model("messaging.Preference").objects.create(user=_user_on(ground))


def _role_default_on(ground: Ground):  # type: ignore[no-untyped-def]
    subdistrict = Node.objects.get(code=ground.node.code[:9])
    return _model("messaging.RoleDefault").objects.get_or_create(node=subdistrict, role=Role.GRID_WORKER)[0]


def _duty_group_on(ground: Ground):  # type: ignore[no-untyped-def]
    return _model("messaging.DutyGroup").objects.create(
        body=_body_on(ground), webhook_url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k{next(_seq)}"
    )


def _schedule_on(ground: Ground):  # type: ignore[no-untyped-def]
    subdistrict = Node.objects.get(code=ground.node.code[:9])
    return _model("cases.WorkSchedule").objects.get_or_create(subdistrict=subdistrict)[0]


def _session_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    return _model("cases.WorkSession").objects.create(
        schedule=_schedule_on(ground), start=datetime.time(9), end=datetime.time(12)
    )


def _export_job_on(ground: Ground):  # type: ignore[no-untyped-def]
    return _model("registry.ExportJob").objects.create(kind="people", actor=_user_on(ground))


def _need_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.participation.models import Need
    from gongzhi.participation.tests.factories import category as need_category

    category = need_category("elderly")
    return Need.objects.create(
        title="助老需求", category=category, place=ground.node, place_code=ground.node.code, source="meeting"
    )


def _resource_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.participation.models import Resource

    return Resource.objects.create(
        unit=_body_on(ground), title="上门服务", kind="services", place=ground.node, capacity=5, capacity_left=5,
        contact_phone=f"136{next(_seq):08d}",
    )  # fmt: skip


def _match_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.participation.models import Match

    return Match.objects.create(need=_need_on(ground), unit=_body_on(ground), state="claimed")


def _project_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.participation.models import Project

    match = _match_on(ground)
    return Project.objects.create(
        title="助老项目", need=match.need, match=match, unit=match.unit, place=ground.node, place_code=ground.node.code
    )


def _milestone_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.participation.models import Milestone

    return Milestone.objects.create(project=_project_on(ground), title="启动")


def _progress_on(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.participation.models import ProgressReport

    return ProgressReport.objects.create(project=_project_on(ground), progress=10)


def _wish_on(ground: Ground):  # type: ignore[no-untyped-def]
    """A micro-wish of a resident of the ground, claimed by the ground's unit (when the role acts for one)."""
    from django.utils import timezone

    from gongzhi.participation.models import Wish

    person = _person_on(ground)
    return Wish.objects.create(
        title="一台轮椅", person=person, consent_note="本人同意", consent_at=timezone.now(), public_name="张先生",
        place=ground.node, place_code=ground.node.code, community_code=ground.node.code[:12],
        claimant_unit=ground.body, claimant_kind="unit" if ground.body is not None else "",
        state="claimed" if ground.body is not None else "published",
    )  # fmt: skip


# --- disputes: a dispute on the ground's first household, handled on site by its grid (and by the ground's body:
# the mediation team, the police station, when the role acts for one; it is then the station too) ------------------


def _dispute_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    from gongzhi.disputes import workflow
    from gongzhi.disputes.models import Dispute, DisputeKind

    home = _household_on(ground)
    grid = Node.objects.get(code=home.code[:15])
    dispute = Dispute.objects.create(
        number=f"TJ{next(_seq):010d}", kind=DisputeKind.objects.get(code="neighbour"), summary="邻里纠纷",
        status=workflow.create_status(), node=home, place_code=home.code, subdistrict_code=home.code[:9],
        handler_node=grid, handler_code=grid.code, handler_body=ground.body, station_body=ground.body,
        received_at=datetime.datetime(2026, 11, 20, 10, tzinfo=datetime.UTC),
    )  # fmt: skip
    _model("disputes.Party").objects.create(dispute=dispute, name="张三", phone=f"135{next(_seq):08d}")
    return dispute


def _dispute_party_on(ground: Ground):  # type: ignore[no-untyped-def]
    return _dispute_on(ground).parties.get()


def _dispute_row_on(label: str, **fields):  # type: ignore[no-untyped-def]
    import datetime

    at = datetime.datetime(2026, 11, 21, 10, tzinfo=datetime.UTC)
    defaults = {
        "disputes.disputeevent": {"at": at, "action": "start"},
        "disputes.escalation": {"at": at, "from_tier": 1, "to_tier": 2, "to_kind": "station", "reason": "升级"},
        "disputes.session": {"held_at": at},
        "disputes.followup": {"due_on": datetime.date(2026, 12, 21)},
    }

    def make(ground: Ground):  # type: ignore[no-untyped-def]
        dispute = _dispute_on(ground)
        extra = dict(defaults.get(label, {}))
        if label == "disputes.followup":
            extra["agreement"] = _model("disputes.Agreement").objects.create(
                dispute=dispute, number=f"X{next(_seq)}", committee="调委会", facts="事实", terms=[{"text": "条款"}]
            )
        if label == "disputes.disputemediator":
            extra["user"] = UserFactory()
        return _model(label).objects.create(dispute=dispute, **extra, **fields)

    return make


def _agreement_of_dispute_on(ground: Ground):  # type: ignore[no-untyped-def]
    return _model("disputes.Agreement").objects.create(
        dispute=_dispute_on(ground), number=f"A{next(_seq)}", committee="调委会", facts="事实", terms=[{"text": "条款"}]
    )


def _session_note_on(ground: Ground):  # type: ignore[no-untyped-def]
    session = _dispute_row_on("disputes.session")(ground)
    return _model("disputes.SessionNote").objects.create(session=session, text="私下意见")


def _ladder_tier_on(ground: Ground):  # type: ignore[no-untyped-def]
    subdistrict = Node.objects.get(code=ground.node.code[:9])
    return _model("disputes.LadderTier").objects.create(
        subdistrict=subdistrict, level=next(_seq), kind="station", name="综治站"
    )


def _police_notice_on(ground: Ground):  # type: ignore[no-untyped-def]
    import datetime

    from gongzhi.disputes import workflow

    home = _household_on(ground)
    sender = ground.body or Body.objects.filter(kind=BodyKind.DEPARTMENT, node__code=ground.node.code[:9]).first()
    at = datetime.datetime(2026, 11, 20, 22, tzinfo=datetime.UTC)
    return _model("disputes.PoliceNotice").objects.create(
        number=f"JQ{next(_seq):010d}", from_body=sender, title="邻里口角", happened_at=at, node=home,
        place_code=home.code, ask="上门回访", due_at=at + datetime.timedelta(days=3), people="张三",
        people_phone=f"136{next(_seq):08d}", status=workflow.notice_create_status(),
    )  # fmt: skip


def _masked(raw: str) -> str:
    """How a raw personal value appears in an API body: ID numbers (18 characters) and phones mask differently."""
    return mask_id_number(raw) if len(raw) == 18 else mask_phone(raw)


MODELS = [
    MatrixModel(Node, make=lambda g: g.node, detail_url=lambda o: f"/api/v1/territory/nodes/{o.pk}"),
    MatrixModel(
        Body,
        make=_body_on,
        detail_url=lambda o: f"/api/v1/territory/bodies/{o.pk}",
        personal=lambda o: [o.contact_phone] if o.contact_phone else [],
    ),
    MatrixModel(
        CoJurisdiction,
        make=lambda g: CoJurisdiction.objects.create(
            node=g.node, body=Body.objects.create(name=f"物业{next(_seq)}", kind=BodyKind.PROPERTY_COMPANY)
        ),
    ),
    MatrixModel(
        PartyOrg,
        make=lambda g: PartyOrg.objects.create(
            name=f"党支部{next(_seq)}",
            kind=PartyOrgKind.GRID_BRANCH,
            node=g.node,
            parent=PartyOrg.objects.get(kind=PartyOrgKind.WORKING_COMMITTEE, node__code=g.node.code[:9]),
        ),
    ),
    MatrixModel(
        User, make=_user_on, detail_url=lambda o: f"/api/v1/accounts/users/{o.pk}", personal=lambda o: [o.phone]
    ),
    MatrixModel(
        RoleAssignment,
        make=lambda g: RoleAssignment.objects.create(user=UserFactory(), role=Role.GRID_WORKER, node=g.node),
    ),
    MatrixModel(
        _model("cases.Case"),
        make=_case_on,
        detail_url=lambda o: f"/api/v1/cases/{o.pk}",
        personal=lambda o: [o.reporter_phone],
    ),
    MatrixModel(_model("cases.CaseEvent"), make=_event_on),
    MatrixModel(_model("cases.Attachment"), make=_attachment_on),
    MatrixModel(
        _model("registry.Person"),
        make=_person_on,
        detail_url=lambda o: f"/api/v1/people/{o.pk}",
        personal=lambda o: [o.id_number, o.phone],
    ),
    MatrixModel(_model("registry.Residence"), make=lambda g: _person_on(g).residences.get()),
    MatrixModel(_model("registry.PersonTag"), make=_person_tag_on),
    MatrixModel(_model("registry.PartyMember"), make=_party_member_on),
    MatrixModel(_model("registry.OrgContact"), make=_contact_on),
    MatrixModel(_model("registry.CoBuildingAgreement"), make=_agreement_on),
    MatrixModel(_model("registry.ImportRun"), make=_import_run_on),
    MatrixModel(_model("visits.Campaign"), make=_campaign_on, detail_url=lambda o: f"/api/v1/visits/campaigns/{o.pk}"),
    MatrixModel(_model("visits.CampaignTarget"), make=_target_on),
    MatrixModel(_model("visits.CarePlan"), make=_care_plan_on),
    MatrixModel(_model("visits.Visit"), make=_visit_on, detail_url=lambda o: f"/api/v1/visits/{o.pk}"),
    MatrixModel(_model("notices.Notice"), make=_notice_on, detail_url=lambda o: f"/api/v1/notices/{o.pk}"),
    MatrixModel(_model("notices.NoticeSender"), make=_notice_sender_on),
    MatrixModel(_model("notices.NoticeDelivery"), make=_delivery_on),
    MatrixModel(_model("service.Post"), make=_post_on, detail_url=lambda o: f"/api/v1/service/posts/{o.pk}"),
    MatrixModel(_model("service.Claim"), make=_claim_on),
    MatrixModel(_model("service.Service"), make=_service_on),
    MatrixModel(_model("service.PersonAccount"), make=_person_account_on),
    MatrixModel(
        _model("recognition.Campaign"),
        make=_recognition_campaign_on,
        detail_url=lambda o: f"/api/v1/recognition/campaigns/{o.pk}",
    ),
    MatrixModel(_model("recognition.PanelMember"), make=_recognition_panel_on),
    MatrixModel(_model("recognition.Nomination"), make=_nomination_on),
    MatrixModel(_model("recognition.Vote"), make=_vote_on),
    MatrixModel(_model("recognition.Review"), make=_recognition_review_on),
    MatrixModel(_model("service.VolunteerTeam"), make=_team_on),
    MatrixModel(
        _model("service.Volunteer"), make=_volunteer_on, detail_url=lambda o: f"/api/v1/service/volunteers/{o.pk}"
    ),
    MatrixModel(
        _model("service.Activity"), make=_activity_on, detail_url=lambda o: f"/api/v1/service/activities/{o.pk}"
    ),
    MatrixModel(_model("service.SignUp"), make=_signup_on),
    MatrixModel(_model("service.PersonServed"), make=_served_on),
    MatrixModel(
        _model("meetings.Meeting"), make=_meeting_on, detail_url=lambda o: f"/api/v1/meetings/meetings/{o.pk}"
    ),
    MatrixModel(_model("meetings.Series"), make=_series_on),
    MatrixModel(_model("meetings.RotaMember"), make=_rota_member_on),
    MatrixModel(_model("meetings.Topic"), make=_topic_on),
    MatrixModel(_model("meetings.Support"), make=_support_on),
    MatrixModel(_model("meetings.AgendaItem"), make=_agenda_item_on),
    MatrixModel(_model("meetings.Attendance"), make=_attendance_on),
    MatrixModel(
        _model("meetings.Decision"), make=_decision_on, detail_url=lambda o: f"/api/v1/meetings/decisions/{o.pk}"
    ),
    MatrixModel(_model("inspections.Checklist"), make=_checklist_on),
    MatrixModel(_model("inspections.ChecklistItem"), make=_checklist_item_on),
    MatrixModel(_model("inspections.Site"), make=_site_on),
    MatrixModel(_model("inspections.Plan"), make=_plan_on),
    MatrixModel(
        _model("inspections.Round"), make=_round_on, detail_url=lambda o: f"/api/v1/inspections/rounds/{o.pk}"
    ),
    MatrixModel(_model("inspections.RoundPhoto"), make=_round_photo_on),
    MatrixModel(
        _model("inspections.Hazard"), make=_hazard_on, detail_url=lambda o: f"/api/v1/inspections/hazards/{o.pk}"
    ),
    MatrixModel(_model("inspections.HazardCheck"), make=_hazard_check_on),
    MatrixModel(_model("kpis.CaseRollup"), make=_rollup_on),
    MatrixModel(_model("kpis.MonthRollup"), make=_month_rollup_on),
    MatrixModel(_model("kpis.MonthClassRollup"), make=_month_class_rollup_on),
    MatrixModel(_model("kpis.CycleHistogram"), make=_histogram_on),
    MatrixModel(_model("kpis.MonthlyReport"), make=_report_on),
    MatrixModel(_model("cases.HotlineImport"), make=_hotline_import_on),
    MatrixModel(_model("cases.HotlineMapping"), make=_hotline_mapping_on),
    MatrixModel(_model("messaging.Message"), make=_message_on),
    MatrixModel(_model("messaging.Delivery"), make=_message_delivery_on),
    MatrixModel(_model("messaging.Preference"), make=_preference_on),
    MatrixModel(_model("messaging.RoleDefault"), make=_role_default_on),
    MatrixModel(_model("messaging.DutyGroup"), make=_duty_group_on),
    MatrixModel(_model("cases.WorkSchedule"), make=_schedule_on),
    MatrixModel(_model("cases.WorkSession"), make=_session_on),
    MatrixModel(_model("registry.ExportJob"), make=_export_job_on),
    MatrixModel(_model("participation.Need"), make=_need_on, detail_url=lambda o: f"/api/v1/participation/needs/{o.pk}"),
    MatrixModel(
        _model("participation.Resource"),
        make=_resource_on,
        detail_url=lambda o: f"/api/v1/participation/resources/{o.pk}",
        personal=lambda o: [o.contact_phone],
    ),
    MatrixModel(_model("participation.Match"), make=_match_on),
    MatrixModel(
        _model("participation.Project"), make=_project_on, detail_url=lambda o: f"/api/v1/participation/projects/{o.pk}"
    ),
    MatrixModel(_model("participation.Milestone"), make=_milestone_on),
    MatrixModel(_model("participation.ProgressReport"), make=_progress_on),
    # The wish's API carries none of the wisher's data, not even masked (test_wishes checks it): no `personal`.
    MatrixModel(
        _model("participation.Wish"), make=_wish_on, detail_url=lambda o: f"/api/v1/participation/wishes/{o.pk}"
    ),
    MatrixModel(
        _model("disputes.Dispute"),
        make=_dispute_on,
        detail_url=lambda o: f"/api/v1/disputes/{o.pk}",
        personal=lambda o: [p.phone for p in o.parties.all()],
    ),
    MatrixModel(_model("disputes.Party"), make=_dispute_party_on),
    MatrixModel(_model("disputes.DisputeMediator"), make=_dispute_row_on("disputes.disputemediator")),
    MatrixModel(_model("disputes.DisputeEvent"), make=_dispute_row_on("disputes.disputeevent")),
    MatrixModel(_model("disputes.Escalation"), make=_dispute_row_on("disputes.escalation")),
    MatrixModel(_model("disputes.Session"), make=_dispute_row_on("disputes.session")),
    MatrixModel(_model("disputes.SessionNote"), make=_session_note_on),
    MatrixModel(_model("disputes.Agreement"), make=_agreement_of_dispute_on),
    MatrixModel(_model("disputes.FollowUp"), make=_dispute_row_on("disputes.followup")),
    MatrixModel(_model("disputes.LadderTier"), make=_ladder_tier_on),
    MatrixModel(
        _model("disputes.PoliceNotice"),
        make=_police_notice_on,
        detail_url=lambda o: f"/api/v1/police-notices/{o.pk}",
        personal=lambda o: [o.people_phone],
    ),
    MatrixModel(
        AuditLog,
        make=lambda g: audit.record(
            actor=None, action="test.event", object_type="test", object_id=next(_seq), node_code=g.node.code
        ),
    ),
]


# Models that are not in MODELS, each with the reason. A new model joins MODELS or this list, never neither
# (test_every_model_is_in_the_matrix_or_exempt).
REFERENCE = "reference data (ScopeRule everyone): whoever holds the right sees every row; test_reference_data"
EXEMPT = {
    "cases.category": REFERENCE,
    "cases.deadlinerule": REFERENCE,
    "cases.calendarday": REFERENCE,
    "kpis.rollupstate": REFERENCE,
    "participation.needcategory": REFERENCE,
    "disputes.disputekind": REFERENCE,
    "service.postkind": REFERENCE,
    "meetings.meetingkind": REFERENCE,
    "triage.modelversion": REFERENCE,
    "triage.bodysuccessor": REFERENCE,
    "triage.autodispatch": "a subdistrict's auto-dispatch switch: set only by its desk (triage.services.save_auto_dispatch checks change on the subdistrict; test_only_the_subdistrict_desk_switches_auto_dispatch)",
    "triage.casesuggestion": "what the model said of a case (case__node scope), read only through triage.selectors.desk_suggestions with the case's and the body's scope (test_desk_list_and_dispatch_form_show_suggestions_in_scope)",
    "triage.feedback": "the desk's corrections (case__node scope), written by triage.services from workflow steps, read by training and as counts on the triage page",
    "core.ratecount": "per-client request counters of core.throttle: no scope rule, visible to nobody through restrict",
    "core.idempotencykey": "a submission's key and stored answer (core.idempotency): read only for the key's own user",
    "cases.workerbeat": "the task worker's heartbeat: written by cases.worker, read only as 'is a worker alive'",
    "accounts.apitoken": "a user's tokens: read and revoked only through their owner (accounts.services), never listed by place",
    "open311.apikey": "client apps' Open311 keys: kept in the Django admin, read by the key's hash only (open311.services)",
    "recognition.phonecheck": "a visitor's SMS code for voting, phone and code hashed: read only by recognition.services",
    "open311.request": "which case an Open311 request became: read only with its case, never listed by place",
}


def _gongzhi_models() -> list[type]:
    from django.apps import apps

    return [m for m in apps.get_models() if m.__module__.startswith("gongzhi.")]


def test_every_model_is_in_the_matrix_or_exempt() -> None:
    in_matrix = [e.model._meta.label_lower for e in MODELS]
    assert len(in_matrix) == len(set(in_matrix)), "a model is listed twice"
    labels = {m._meta.label_lower for m in _gongzhi_models()}
    missing = sorted(labels - set(in_matrix) - set(EXEMPT))
    assert not missing, f"add these models to MODELS (or to EXEMPT, with the reason): {missing}"
    assert not set(in_matrix) & set(EXEMPT), "a model is both in the matrix and exempt"
    assert not set(EXEMPT) - labels, "EXEMPT names a model that does not exist"
    assert all(reason.strip() for reason in EXEMPT.values())


def test_every_scope_rule_has_a_scoped_manager() -> None:
    """A model with a rule but a plain manager has no restrict(): its selectors could not start from it."""
    plain = [
        m._meta.label_lower
        for m in _gongzhi_models()
        if getattr(m, "scope_rule", None) is not None and not hasattr(m._default_manager, "restrict")
    ]
    assert not plain, f"give these models objects = ScopedManager(): {plain}"


@pytest.mark.parametrize("role", Role.values)
def test_reference_data(role, tree, other_tree):  # type: ignore[no-untyped-def]
    """Reference rows are everyone's: a role with the right on some ground sees all of them, a role without it none.
    A resident stands on where they live (their role's place), so they see them too."""
    import datetime

    user = _holder(role, _ground(role, tree))
    rows = {
        "cases.category": lambda: _model("cases.Category").objects.create(name=f"类{next(_seq)}", code=f"X{next(_seq)}"),
        "cases.calendarday": lambda: _model("cases.CalendarDay").objects.create(
            date=datetime.date(2030, 1, 1) + datetime.timedelta(days=next(_seq)), subdistrict=other_tree.subdistrict
        ),
        "kpis.rollupstate": lambda: _model("kpis.RollupState").objects.get_or_create(pk=1)[0],
        "participation.needcategory": lambda: _model("participation.NeedCategory").objects.create(
            name=f"类{next(_seq)}", code=f"c{next(_seq)}"
        ),
        "disputes.disputekind": lambda: _model("disputes.DisputeKind").objects.create(code=f"k{next(_seq)}", name="类"),
        "service.postkind": lambda: _model("service.PostKind").objects.create(name=f"岗{next(_seq)}"),
        "meetings.meetingkind": lambda: _model("meetings.MeetingKind").objects.create(
            code=f"k{next(_seq)}", name="会", format="council"
        ),
    }
    for label, make in rows.items():
        obj = make()
        model = type(obj)
        assert model.scope_rule.everyone, label
        for action in ACTIONS:
            seen = model._default_manager.restrict(user, action).filter(pk=obj.pk).exists()
            assert seen == _allowed(role, model, action), f"{role} {action} {label}"


def _ground(role: str, tree: Tree) -> Ground:
    """Where each role stands in a tree, and the body it acts for."""
    if role == Role.SUBDISTRICT_OPERATOR:
        return Ground(tree.subdistrict, None)
    if role == Role.COMMUNITY_STAFF:
        return Ground(tree.communities[0], tree.committees[0])
    if role in (Role.GRID_LEADER, Role.GRID_WORKER, Role.ADMIN, Role.RESIDENT):
        return Ground(tree.grids[0], None)
    if role == Role.BUILDING_HEAD:
        return Ground(tree.buildings[0], None)
    if role == Role.MEDIATOR:  # as in the demo: the subdistrict's places, for the mediation team
        team = Body.objects.create(
            name=f"老娘舅调解队{tree.subdistrict.code}", kind=BodyKind.SOCIAL_ORGANISATION, node=tree.subdistrict
        )
        return Ground(tree.subdistrict, team)
    if role == Role.DEPARTMENT_HANDLER:
        co_cover(tree.grids[0], tree.department)
        return Ground(tree.grids[0], tree.department)
    if role == Role.CO_BUILDING_UNIT:
        unit = Body.objects.create(
            name=f"共建单位{tree.subdistrict.code}", kind=BodyKind.CO_BUILDING_UNIT, node=tree.communities[0]
        )
        return Ground(tree.communities[0], unit)
    raise AssertionError(role)


def _holder(role: str, ground: Ground) -> User:
    if role == Role.ADMIN:
        return user_with_role(role)
    if role == Role.RESIDENT:  # where they live (a party member reported in there sees the service posts)
        return user_with_role(role, node=ground.node)
    node = None if role in (Role.DEPARTMENT_HANDLER, Role.CO_BUILDING_UNIT) else ground.node
    return user_with_role(role, node=node, body=ground.body)


def _allowed(role: str, model: type, action: str) -> bool:
    if role == Role.ADMIN:
        return True
    return action in POLICY[role].get(model._meta.label_lower, frozenset())


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("entry", MODELS, ids=lambda e: e.model._meta.label_lower)
def test_restrict_matrix(role, entry, tree, other_tree):  # type: ignore[no-untyped-def]
    ground_a, ground_b = _ground(role, tree), _ground(role, other_tree)
    user = _holder(role, ground_a)
    mine, theirs = entry.make(ground_a), entry.make(ground_b)
    manager = entry.model._default_manager
    for action in ACTIONS:
        allowed = _allowed(role, entry.model, action)
        in_scope = manager.restrict(user, action).filter(pk=mine.pk).exists()
        out_scope = manager.restrict(user, action).filter(pk=theirs.pk).exists()
        assert in_scope == allowed, f"{role} {action} {entry.model.__name__} on own ground"
        assert out_scope == (role == Role.ADMIN), f"{role} {action} {entry.model.__name__} on other ground"
        # The in-memory decision (for the object in hand) is the filter's, row for row.
        scope = scope_of(user, entry.model, action)
        for obj, expected in ((mine, in_scope), (theirs, out_scope)):
            fresh = manager.get(pk=obj.pk)
            assert entry.model.scope_rule.admits(scope, fresh) == expected, f"{role} {action} {entry.model.__name__}"


@pytest.mark.parametrize("role", Role.values)
@pytest.mark.parametrize("entry", [m for m in MODELS if m.detail_url], ids=lambda e: e.model._meta.label_lower)
def test_api_detail_matrix(role, entry, tree, other_tree, api):  # type: ignore[no-untyped-def]
    ground_a, ground_b = _ground(role, tree), _ground(role, other_tree)
    user = _holder(role, ground_a)
    mine, theirs = entry.make(ground_a), entry.make(ground_b)
    api.as_user(user)
    visible = _allowed(role, entry.model, "view")
    response = api.get(entry.detail_url(mine))
    assert response.status_code == (200 if visible else 404), response.content
    response = api.get(entry.detail_url(theirs))
    assert response.status_code == (200 if role == Role.ADMIN else 404)
    if response.status_code == 404:
        assert response.json()["error"]["code"] == "not_found"
    for obj in (mine, theirs):
        body = api.get(entry.detail_url(obj)).content.decode()
        for raw in entry.personal(obj) if entry.personal else []:
            assert raw not in body, "personal data must be masked in the API"
            if api.get(entry.detail_url(obj)).status_code == 200:
                assert _masked(raw) in body


def test_anonymous_sees_nothing(tree):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import AnonymousUser

    for entry in MODELS:
        assert not entry.model._default_manager.restrict(AnonymousUser(), "view").exists()


def test_inactive_user_sees_nothing(tree):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    user.is_active = False
    user.save()
    assert not Node.objects.restrict(user, "view").exists()


def test_revoked_role_grants_nothing(tree):  # type: ignore[no-untyped-def]
    user = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    RoleAssignment.objects.filter(user=user).update(is_active=False)
    user = User.objects.get(pk=user.pk)
    assert not Node.objects.restrict(user, "view").exists()


def test_lists_never_leak_other_ground(tree, other_tree, api):  # type: ignore[no-untyped-def]
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], phone="13900000001")
    stranger = user_with_role(Role.GRID_WORKER, node=other_tree.grids[0], phone="13900000002")
    api.as_user(worker)
    for url in (
        "/api/v1/territory/nodes?page_size=500",
        "/api/v1/accounts/users",
        "/api/v1/territory/bodies",
        "/api/v1/territory/party-orgs",
        "/api/v1/territory/boundaries",
        "/api/v1/people",
        "/api/v1/visits/campaigns",
        "/api/v1/visits",
        "/api/v1/visits/care-plans",
        "/api/v1/notices",
        "/api/v1/inspections/rounds",
        "/api/v1/inspections/hazards",
        "/api/v1/inspections/plans",
        "/api/v1/participation/needs",
        "/api/v1/participation/resources",
        "/api/v1/participation/projects",
    ):
        body = api.get(url).content.decode()
        assert other_tree.grids[0].code not in body, url
        assert stranger.username not in body and "13900000002" not in body, url
        assert "13900000001" not in body, url  # own phone is masked too, unless revealed


# --- cases: what each role reaches, and which workflow actions it may take ------------------------------------------
# From the README's table of roles ("Demo log-ins"): the place roles reach every case on their ground; the mediator,
# the department handler and the co-building unit only the cases passed to their body (dispatched to it), however
# wide the ground their place or body covers; a resident only their own.

# role → (sees a case on its ground that was not passed to it, sees a case passed to its body elsewhere)
CASE_REACH = {
    Role.ADMIN: (True, True),
    Role.SUBDISTRICT_OPERATOR: (True, True),
    Role.COMMUNITY_STAFF: (True, True),  # its committee's cases too
    Role.GRID_LEADER: (True, None),  # None: the role acts for no body
    Role.GRID_WORKER: (True, None),
    Role.BUILDING_HEAD: (True, None),
    Role.MEDIATOR: (False, True),
    Role.DEPARTMENT_HANDLER: (False, True),
    Role.CO_BUILDING_UNIT: (False, True),
    Role.RESIDENT: (False, None),
}


def _placed_case(ground: Ground):  # type: ignore[no-untyped-def]
    from gongzhi.cases.tests.factories import new_case

    node = ground.node if ground.node.kind != NodeKind.SUBDISTRICT else None
    node = node or Node.objects.filter(kind=NodeKind.GRID, code__startswith=ground.node.code).order_by("-code")[0]
    return new_case(None, node, channel="resident", reporter_phone="13500000000")


@pytest.mark.parametrize("role", Role.values)
def test_case_reach(role, tree, other_tree):  # type: ignore[no-untyped-def]
    """A case on the role's ground that nobody passed to it, and one elsewhere in the subdistrict passed to its
    body: seen (view, and change where the role may change cases) exactly as the README says."""
    from gongzhi.cases.models import Attachment, Case, CaseEvent
    from gongzhi.cases.tests.factories import new_case

    ground = _ground(role, tree)
    user = _holder(role, ground)
    placed = _placed_case(ground)
    on_placed, on_passed = CASE_REACH[role]
    assert Case.objects.restrict(user, "view").filter(pk=placed.pk).exists() == on_placed
    assert CaseEvent.objects.restrict(user, "view").filter(case=placed).exists() == on_placed
    may_change = role == Role.ADMIN or "change" in POLICY[role].get("cases.case", ())
    assert Case.objects.restrict(user, "change").filter(pk=placed.pk).exists() == (on_placed and may_change)
    if on_passed is not None:
        elsewhere = tree.grids[-1] if ground.node.code != tree.grids[-1].code[:12] else tree.grids[0]
        passed = new_case(None, elsewhere, channel="resident", reporter_phone="13500000001")
        Case.objects.filter(pk=passed.pk).update(handler_body=ground.body, status="dispatched")
        photo = Attachment.objects.create(case=passed, file="cases/x.jpg", name="x.jpg", content_type="image/jpeg",
                                          size=1)
        assert Case.objects.restrict(user, "view").filter(pk=passed.pk).exists() == on_passed
        assert Attachment.objects.restrict(user, "view").filter(pk=photo.pk).exists() == on_passed
        assert Case.objects.restrict(user, "change").filter(pk=passed.pk).exists() == (on_passed and may_change)
    # The same cases in another subdistrict: never (admins excepted).
    other = _placed_case(_ground(role, other_tree))
    assert Case.objects.restrict(user, "view").filter(pk=other.pk).exists() == (role == Role.ADMIN)


def test_a_reported_case_stays_visible_to_its_reporter(tree):  # type: ignore[no-untyped-def]
    """A mediator reports a dispute from a meeting on its ground (the place is not passed to it): it follows it."""
    from gongzhi.cases.models import Case
    from gongzhi.cases.tests.factories import new_case

    ground = _ground(Role.MEDIATOR, tree)
    mediator = _holder(Role.MEDIATOR, ground)
    case = new_case(mediator, tree.grids[0], channel="meeting")
    assert Case.objects.restrict(mediator, "view").filter(pk=case.pk).exists()
    assert not Case.objects.restrict(mediator, "change").filter(pk=case.pk).exists()


ALL_ACTIONS = frozenset(
    {"accept", "reject", "fix_on_spot", "dispatch", "acknowledge", "return", "start", "postpone", "resume", "dispose",
     "verify", "close", "rework", "follow_up", "merge", "cancel", "escalate"}
)  # fmt: skip
HANDLING = frozenset({"acknowledge", "return", "start", "resume", "dispose", "escalate"})
# Which workflow actions each role may take on a case on its ground (for the place roles: placed there and
# dispatched to its place; for the body roles: dispatched to its body). Written out from the README, not read
# from the transition table, so that a change of either shows here.
ROLE_ACTIONS = {
    Role.ADMIN: ALL_ACTIONS,
    Role.SUBDISTRICT_OPERATOR: ALL_ACTIONS - {"fix_on_spot"},
    Role.COMMUNITY_STAFF: ALL_ACTIONS - {"fix_on_spot"},
    Role.GRID_LEADER: ALL_ACTIONS,
    Role.GRID_WORKER: ALL_ACTIONS - {"reject", "dispatch", "postpone", "cancel"},
    Role.BUILDING_HEAD: frozenset(),  # reports and follows, does not work cases
    Role.MEDIATOR: HANDLING,  # runs what is passed to the team; verifying and closing is the desk's
    Role.DEPARTMENT_HANDLER: HANDLING,
    Role.CO_BUILDING_UNIT: frozenset(),  # read-only
    Role.RESIDENT: frozenset(),
}
# The state each action is tried from: after dispatch where the action allows it (so that the body roles have
# the case passed to them), else a new report.
STATE_ORDER = ("dispatched", "acknowledged", "in_progress", "postponed", "disposed", "verifying", "rework", "closed",
               "reported", "accepted")  # fmt: skip


def _action_ground(role: str, tree: Tree) -> Ground:
    """As :func:`_ground`, except that the department handler acts for a partner below the department tier (a
    property company co-covering the grid), so that it can still escalate."""
    if role == Role.DEPARTMENT_HANDLER:
        company = Body.objects.create(
            name=f"物业公司{tree.subdistrict.code}", kind=BodyKind.PROPERTY_COMPANY, node=tree.communities[0]
        )
        co_cover(tree.grids[0], company)
        return Ground(tree.grids[0], company)
    return _ground(role, tree)


def _case_in(state: str, ground: Ground, admin: User, body_role: bool):  # type: ignore[no-untyped-def]
    """A case placed on the ground, walked by an administrator to ``state``; dispatched to the ground's body for a
    body role, to the ground's place for the others."""
    from gongzhi.cases import workflow
    from gongzhi.cases.tests.factories import PATHS

    case = _placed_case(ground)
    # A body may have nobody who acts for it on the platform here (the other subdistrict's, a co-building unit that
    # only reads): the administrator records the phone hand-off, as the dispatch check asks.
    target = (
        {"handler_body_id": ground.body.pk, "phone_handoff_note": "电话告知值班人员"}
        if body_role
        else {"handler_node_id": ground.node.pk}
    )
    for action in PATHS[state]:
        payload: dict = target if action == "dispatch" else {"rating": "satisfied"} if action == "follow_up" else {}
        workflow.perform(actor=admin, case_id=case.pk, action=action, note="测试", payload=payload)
    case.refresh_from_db()
    assert case.status == state
    return case


@pytest.mark.parametrize("role", Role.values)
def test_workflow_actions_matrix(role, tree, other_tree):  # type: ignore[no-untyped-def]
    """Every workflow action, tried by every role: on a case on its ground exactly the README's actions are offered
    (``allowed_actions``) and succeed (``perform``); the others are refused. On another subdistrict's case in the
    same state — and, for a body's role, on a case on its ground not passed to its body — nothing is offered and
    every attempt is "not found"."""
    from gongzhi.cases import workflow
    from gongzhi.core.errors import Forbidden, NotFound

    admin = user_with_role(Role.ADMIN)
    body_role = role in (Role.MEDIATOR, Role.DEPARTMENT_HANDLER, Role.CO_BUILDING_UNIT)
    ground, far = _action_ground(role, tree), _action_ground(role, other_tree)
    user = _holder(role, ground)
    assert set(workflow.TRANSITIONS) == ALL_ACTIONS
    done, offered = set(), set()
    far_cases: dict[str, object] = {}
    unpassed: dict[str, object] = {}
    for action, transition in workflow.TRANSITIONS.items():
        state = next(s for s in STATE_ORDER if s in transition.sources)
        case = _case_in(state, ground, admin, body_role)
        offered |= {t.action for t in workflow.allowed_actions(user, case)} & {action}
        payload: dict = {}
        if action == "dispatch":
            payload = {"handler_node_id": ground.node.pk}
        elif action == "follow_up":
            payload = {"rating": "satisfied"}
        elif action == "merge":
            payload = {"into_case_id": _case_in(state, ground, admin, body_role).pk}
        try:
            workflow.perform(actor=user, case_id=case.pk, action=action, note="测试", payload=payload)
        except (Forbidden, NotFound):
            case.refresh_from_db()
            assert case.status == state, f"{role} {action}: refused but changed"
        else:
            done.add(action)
        if body_role:  # the same case on its ground, dispatched to the place instead of its body: not its case
            if state not in unpassed:
                unpassed[state] = _case_in(state, ground, admin, False)
            assert workflow.allowed_actions(user, unpassed[state]) == [], f"{role} offered {action}, not passed"
            with pytest.raises(NotFound):
                workflow.perform(actor=user, case_id=unpassed[state].pk, action=action, note="测试", payload=payload)
        if role != Role.ADMIN:
            if state not in far_cases:
                far_cases[state] = _case_in(state, far, admin, body_role)
            elsewhere = far_cases[state]
            assert workflow.allowed_actions(user, elsewhere) == [], f"{role} offered {action} out of scope"
            with pytest.raises(NotFound):
                workflow.perform(actor=user, case_id=elsewhere.pk, action=action, note="测试", payload=payload)
    assert done == ROLE_ACTIONS[role], f"{role} could take {sorted(done)}"
    assert offered == ROLE_ACTIONS[role], f"{role} was offered {sorted(offered)}"
