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
    MatrixModel(_model("kpis.CaseRollup"), make=_rollup_on),
    MatrixModel(_model("kpis.MonthRollup"), make=_month_rollup_on),
    MatrixModel(_model("kpis.MonthClassRollup"), make=_month_class_rollup_on),
    MatrixModel(_model("kpis.CycleHistogram"), make=_histogram_on),
    MatrixModel(_model("kpis.MonthlyReport"), make=_report_on),
    MatrixModel(_model("cases.HotlineImport"), make=_hotline_import_on),
    MatrixModel(
        AuditLog,
        make=lambda g: audit.record(
            actor=None, action="test.event", object_type="test", object_id=next(_seq), node_code=g.node.code
        ),
    ),
]


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
    if role == Role.MEDIATOR:
        return Ground(tree.communities[0], None)
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
    if role in (Role.ADMIN, Role.RESIDENT):
        return user_with_role(role)
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
    ):
        body = api.get(url).content.decode()
        assert other_tree.grids[0].code not in body, url
        assert stranger.username not in body and "13900000002" not in body, url
        assert "13900000001" not in body, url  # own phone is masked too, unless revealed
