"""The demo subdistrict: pure tiling tests (no database) and one full build checked from many sides."""

from __future__ import annotations

import io
from collections import Counter
from datetime import timedelta

import numpy as np
import pytest
import shapely
from django.contrib.auth.hashers import check_password
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.core.models import AuditLog
from gongzhi.core.testing import restore_migration_rows
from gongzhi.demo import builder, names
from gongzhi.demo.logins import DEMO_LOGINS, DEMO_PASSWORD
from gongzhi.demo.tests.leftovers import removed_afterwards
from gongzhi.demo.tiling import area_km2, grid_polygons, tile_subdistrict, union
from gongzhi.territory.choices import BodyKind, NodeKind, PartyOrgKind
from gongzhi.territory.geo import GridIndex, find_overlaps, parse_geometry
from gongzhi.territory.models import Body, CoJurisdiction, Node, PartyOrg

EXPECTED_HOUSEHOLDS = 39_863  # deterministic: copy 0 of the seeded builder


def _quiet(_line: str) -> None:
    pass


# --- Tiling: pure geometry, no database --------------------------------------------------------------------------


def test_tiling_has_182_valid_non_overlapping_grids_covering_the_subdistrict() -> None:
    tiling = tile_subdistrict(0)
    assert len(tiling.polygons) == 182
    assert all(p.is_valid and p.geom_type == "Polygon" and p.area > 0 for p in tiling.polygons)
    assert find_overlaps(tiling.polygons) == []
    outline = union(tiling.polygons)
    assert outline.geom_type == "Polygon"
    assert outline.area == pytest.approx(tiling.outline.area, rel=1e-9)
    assert outline.symmetric_difference(tiling.outline).area < 1e-12
    assert 36 < area_km2(outline) < 40  # about 38 km²
    lng, lat = outline.centroid.x, outline.centroid.y
    assert abs(lat - 41.9) < 0.05 and abs(lng - 123.4) < 0.05


def test_tiling_communities_are_contiguous_runs_of_7_or_8() -> None:
    tiling = tile_subdistrict(0)
    assert len(tiling.runs) == 23
    assert sorted({len(run) for run in tiling.runs}) == [7, 8]
    assert sum(len(run) for run in tiling.runs) == 182
    for run in tiling.runs:
        assert union([tiling.polygons[i] for i in run]).geom_type == "Polygon"
    # 大干社区 (016) and 大干村 (017) share a border: the overlap grid is 大干村's first.
    dagan_community, dagan_village = tiling.runs[15], tiling.runs[16]
    shared = tiling.polygons[dagan_community[-1]].intersection(tiling.polygons[dagan_village[0]])
    assert shared.length > 0


def test_tiling_is_deterministic_and_copies_do_not_overlap() -> None:
    first = [list(p.exterior.coords) for p in grid_polygons(0)]
    again = [list(p.exterior.coords) for p in grid_polygons(0)]
    assert first == again
    other = tile_subdistrict(1)
    assert [list(p.exterior.coords) for p in other.polygons] != first
    assert not tile_subdistrict(0).outline.intersects(other.outline)
    far = tile_subdistrict(99)
    assert far.bounds[2] < 180 and not far.outline.intersects(tile_subdistrict(98).outline)


def test_every_planned_building_lies_in_its_own_grid() -> None:
    ctx = builder.new_context(0, _quiet, "x")
    assert builder.plan_territory(ctx) == 2169
    rows = [(grid.index, f"{grid.index:03d}", shapely.geometry.mapping(grid.polygon)) for grid in ctx.grids]
    index = GridIndex.build(rows)
    found = index.locate_many(
        lats=np.array([b.lat for b in ctx.buildings]), lngs=np.array([b.lng for b in ctx.buildings])
    )
    assert found.tolist() == [b.grid.index for b in ctx.buildings]
    assert all(b.grid.polygon.contains(shapely.Point(b.lng, b.lat)) for b in ctx.buildings)


def test_the_plan_is_deterministic() -> None:
    def plan() -> list[tuple[str, float, float, int]]:
        ctx = builder.new_context(0, _quiet, "x")
        builder.plan_territory(ctx)
        return [(b.name, b.lng, b.lat, b.floors) for b in ctx.buildings]

    assert plan() == plan()


def test_names_and_codes_of_copies() -> None:
    assert names.street_code(0) == "210113006"
    assert names.street_code(1) == "210113007"
    assert names.street_name(0) == "道义"
    assert names.body_name("{S}街道办事处", 0) == "道义街道办事处"
    assert names.body_name("府东社区居委会", 0) == "府东社区居委会"
    assert names.body_name("府东社区居委会", 1) != "府东社区居委会"
    assert len({names.street_name(k) for k in range(200)}) == 200


# --- The full build (once per module) ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """Run ``seed_demo`` once for the module; remove everything it made afterwards."""
    with django_db_blocker.unblock():
        with removed_afterwards():  # audit rows, the national holidays, SMS deliveries: later tests count rows
            restore_migration_rows()  # the database may have been flushed by a transactional test
            out = io.StringIO()
            call_command("seed_demo", stdout=out)
            yield out.getvalue()
            builder.delete_demo(_quiet)
        assert not Node.objects.filter(code__startswith=names.street_code(0)).exists()
        assert not User.objects.filter(username__in=[login.username for login in DEMO_LOGINS]).exists()


@pytest.mark.slow
@pytest.mark.django_db
def test_territory_counts(seeded: str) -> None:
    kinds = Counter(Node.objects.values_list("kind", flat=True))
    assert kinds == {
        NodeKind.SUBDISTRICT: 1,
        NodeKind.COMMUNITY: 16,
        NodeKind.VILLAGE: 7,
        NodeKind.GRID: 182,
        NodeKind.BUILDING: 2169,
        NodeKind.HOUSEHOLD: EXPECTED_HOUSEHOLDS,
    }
    assert "already built" not in seeded and "gridleader" in seeded and "http://127.0.0.1:8000/" in seeded


@pytest.mark.slow
@pytest.mark.django_db
def test_codes_names_and_places(seeded: str) -> None:
    sub = Node.objects.get(kind=NodeKind.SUBDISTRICT)
    assert (sub.code, sub.name, sub.lead_body.name) == ("210113006", "道义街道", "道义街道办事处")
    assert sub.lead_body.kind == BodyKind.SUBDISTRICT_OFFICE and sub.lead_body.node_id == sub.pk
    widths = {NodeKind.SUBDISTRICT: 9, NodeKind.COMMUNITY: 12, NodeKind.VILLAGE: 12, NodeKind.GRID: 15}
    widths |= {NodeKind.BUILDING: 19, NodeKind.HOUSEHOLD: 23}
    for code, kind, parent_code in Node.objects.values_list("code", "kind", "parent__code"):
        assert len(code) == widths[kind]
        assert parent_code is None if kind == NodeKind.SUBDISTRICT else code.startswith(parent_code)
    communities = set(Node.objects.filter(kind=NodeKind.COMMUNITY).values_list("name", flat=True))
    assert {"府东社区", "大干社区"} <= communities
    villages = set(Node.objects.filter(kind=NodeKind.VILLAGE).values_list("name", flat=True))
    assert "大干村" in villages
    assert Node.objects.filter(kind=NodeKind.GRID, name="府东社区第3网格").exists()
    assert Node.objects.filter(kind=NodeKind.BUILDING, name="府东小区5号楼", floors__gt=0).exists()
    assert Node.objects.filter(kind=NodeKind.BUILDING, name="大干村12号", floors__lte=3).exists()
    assert Node.objects.filter(kind=NodeKind.BUILDING, name__startswith=names.JINHE_COMPOUND).count() >= 5
    assert Node.objects.filter(kind=NodeKind.BUILDING, name=names.XIDA_MARKET).count() == 1
    assert Node.objects.filter(kind=NodeKind.HOUSEHOLD, name="2单元301").exists()
    # Every place with a location has a centroid; boundaries are valid polygons.
    assert not Node.objects.filter(centroid_lat__isnull=True).exists()
    for node in Node.objects.filter(
        kind__in=[NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID]
    ):
        geom, errors = parse_geometry(node.boundary, node.code)
        assert geom is not None, errors
        assert geom.contains(shapely.Point(node.centroid_lng, node.centroid_lat))


@pytest.mark.slow
@pytest.mark.django_db
def test_buildings_lie_in_their_grids_by_grid_index(seeded: str) -> None:
    index = GridIndex.build(list(Node.objects.filter(kind=NodeKind.GRID).values_list("id", "code", "boundary")))
    rows = list(Node.objects.filter(kind=NodeKind.BUILDING).values_list("parent_id", "centroid_lat", "centroid_lng"))
    found = index.locate_many(lats=np.array([r[1] for r in rows]), lngs=np.array([r[2] for r in rows]))
    assert found.tolist() == [r[0] for r in rows]
    mismatched = Node.objects.filter(kind=NodeKind.HOUSEHOLD).exclude(centroid_lat=F("parent__centroid_lat"))
    assert not mismatched.exists()


@pytest.mark.slow
@pytest.mark.django_db
def test_every_node_is_led_by_its_committee_and_the_dagan_overlap(seeded: str) -> None:
    assert not Node.objects.filter(lead_body__isnull=True).exists()
    for community in Node.objects.filter(kind__in=[NodeKind.COMMUNITY, NodeKind.VILLAGE]).select_related("lead_body"):
        expected = BodyKind.VILLAGE_COMMITTEE if community.kind == NodeKind.VILLAGE else BodyKind.RESIDENTS_COMMITTEE
        assert community.lead_body.kind == expected and community.lead_body.node_id == community.pk
        below = Node.objects.filter(code__startswith=community.code)
        assert not below.exclude(lead_body=community.lead_body).exists()
    grid = Node.objects.get(name=names.OVERLAP_GRID_NAME)
    assert grid.kind == NodeKind.GRID and grid.parent.name == "大干村"
    assert grid.lead_body.name == "大干村村委会"
    co_bodies = set(CoJurisdiction.objects.filter(node=grid).values_list("body__name", flat=True))
    assert co_bodies == {"大干社区居委会", "大干渔业经济合作社"}
    assert Body.objects.get(name="大干渔业经济合作社").kind == BodyKind.ECONOMIC_COOPERATIVE
    # Property companies and owners' committees co-cover compounds (金禾家苑 among them).
    jinhe = CoJurisdiction.objects.filter(note__startswith=names.JINHE_COMPOUND)
    assert {row.body.kind for row in jinhe} == {BodyKind.PROPERTY_COMPANY, BodyKind.OWNERS_COMMITTEE}
    kinds = Counter(Body.objects.values_list("kind", flat=True))
    assert kinds[BodyKind.RESIDENTS_COMMITTEE] == 16 and kinds[BodyKind.VILLAGE_COMMITTEE] == 7
    assert kinds[BodyKind.ECONOMIC_COOPERATIVE] == 7 and kinds[BodyKind.COURT] == 1
    assert kinds[BodyKind.DEPARTMENT] >= 6 and kinds[BodyKind.SOCIAL_ORGANISATION] >= 2
    co_building = [BodyKind.CO_BUILDING_UNIT, BodyKind.SCHOOL, BodyKind.HOSPITAL, BodyKind.ENTERPRISE]
    # The builder's 10 co-building units and the registry step's schools, hospitals, enterprises and units.
    extra = sum(1 for org in names.REGISTRY_ORGANISATIONS if org[1] in co_building)
    assert sum(kinds[k] for k in co_building) == 10 + extra
    assert Body.objects.filter(name="沈北新区公安分局道义派出所", kind=BodyKind.DEPARTMENT).exists()
    assert Body.objects.filter(name="老娘舅调解队", kind=BodyKind.SOCIAL_ORGANISATION).exists()


@pytest.mark.slow
@pytest.mark.django_db
def test_party_tree(seeded: str) -> None:
    level_kinds = [
        {PartyOrgKind.WORKING_COMMITTEE},
        {PartyOrgKind.COMMUNITY_COMMITTEE, PartyOrgKind.GENERAL_BRANCH, PartyOrgKind.VILLAGE_BRANCH},
        {PartyOrgKind.GRID_BRANCH},
        {PartyOrgKind.BUILDING_GROUP},
        {PartyOrgKind.PARTY_HOUSEHOLD},
    ]
    node_kinds = [
        {NodeKind.SUBDISTRICT},
        {NodeKind.COMMUNITY, NodeKind.VILLAGE},
        {NodeKind.GRID},
        {NodeKind.BUILDING},
        {NodeKind.HOUSEHOLD},
    ]
    expected = [1, 23, 58, 87, 165]
    orgs = list(PartyOrg.objects.select_related("parent__node", "node"))
    for level, (kinds, places, count) in enumerate(zip(level_kinds, node_kinds, expected, strict=True)):
        rows = [org for org in orgs if org.kind in kinds]
        assert len(rows) == count
        for org in rows:
            assert org.node.kind in places
            if level == 0:
                assert org.parent is None
            else:
                assert org.parent.kind in level_kinds[level - 1]
                assert org.node.parent_id == org.parent.node_id  # the party tree follows the territory
    assert PartyOrg.objects.get(name="府东社区党总支").kind == PartyOrgKind.GENERAL_BRANCH
    assert PartyOrg.objects.get(name="大干村党支部").kind == PartyOrgKind.VILLAGE_BRANCH


@pytest.mark.slow
@pytest.mark.django_db
def test_grid_staffing_and_people(seeded: str) -> None:
    roles = RoleAssignment.objects
    assert roles.filter(role=Role.GRID_WORKER, post=Post.FULL_TIME).count() == 210
    grids = Node.objects.filter(kind=NodeKind.GRID)
    for post, role in [
        (Post.GRID_LEADER, Role.GRID_LEADER),
        (Post.FULL_TIME, Role.GRID_WORKER),
        (Post.PART_TIME, Role.GRID_WORKER),
        (Post.INSTRUCTOR, Role.GRID_WORKER),
    ]:
        staffed = set(roles.filter(role=role, post=post).values_list("node_id", flat=True))
        assert staffed == set(grids.values_list("id", flat=True)), post
    assert roles.filter(post=Post.GRID_LEADER).count() == 182
    instructors = Counter(roles.filter(post=Post.INSTRUCTOR).values_list("user_id", flat=True))
    assert len(instructors) == 50 and set(instructors.values()) == {3, 4}
    for post in (Post.POLICE, Post.PROPERTY, Post.VOLUNTEER):
        assert roles.filter(role=Role.GRID_WORKER, post=post).exists()
    staff = roles.filter(role=Role.COMMUNITY_STAFF).select_related("node", "body")
    assert staff.count() == 23 * 5 and staff.filter(post=Post.SECRETARY).count() == 23
    assert all(r.body.node_id == r.node_id for r in staff)
    assert roles.filter(role=Role.BUILDING_HEAD).count() == 2169
    assert roles.filter(role=Role.SUBDISTRICT_OPERATOR).exists() and roles.filter(role=Role.MEDIATOR).exists()
    handlers = roles.filter(role=Role.DEPARTMENT_HANDLER).select_related("body")
    acting_kinds = (BodyKind.DEPARTMENT, BodyKind.COURT, BodyKind.PROPERTY_COMPANY, BodyKind.ECONOMIC_COOPERATIVE)
    assert handlers.exists() and all(r.body.kind in acting_kinds for r in handlers)
    assert roles.filter(role=Role.CO_BUILDING_UNIT, body__isnull=False).count() == 10
    assert roles.filter(role=Role.RESIDENT, node__isnull=True).count() >= 5
    # Chinese display names, 11-digit mobile numbers, ASCII user names, one shared password hash.
    users = list(User.objects.values_list("username", "display_name", "phone", "password"))
    assert all(u.isascii() for u, *_ in users)
    assert all(2 <= len(d) <= 3 and not d.isascii() for _, d, *_ in users)
    assert all(len(p) == 11 and p[:2] in ("13", "15", "18") for _, _, p, _ in users)
    assert len({h for *_, h in users}) == 1


@pytest.mark.slow
@pytest.mark.django_db
def test_every_body_a_case_goes_to_has_someone_to_act(seeded: str) -> None:
    """Property companies, co-operatives (the 渔业合作社 of the overlap too), departments and the court: a case
    dispatched to any of them can be acknowledged, so the demo's dispatch never needs a phone hand-off there."""
    from gongzhi.cases.workflow import bodies_with_actors
    from gongzhi.territory.models import Body

    kinds = (BodyKind.PROPERTY_COMPANY, BodyKind.ECONOMIC_COOPERATIVE, BodyKind.DEPARTMENT, BodyKind.COURT)
    bodies = dict(Body.objects.filter(kind__in=kinds).values_list("id", "name"))
    assert len(bodies) > 10 and any("渔业" in name for name in bodies.values())
    assert {bodies[i] for i in set(bodies) - bodies_with_actors(bodies)} == set()
    assert RoleAssignment.objects.get(user__username="property", role=Role.DEPARTMENT_HANDLER).body.kind == (
        BodyKind.PROPERTY_COMPANY
    )
    assert RoleAssignment.objects.get(user__username="fishery").body.name == "大干渔业经济合作社"


@pytest.mark.slow
@pytest.mark.django_db
def test_demo_logins_exist_with_their_roles(seeded: str) -> None:
    for login in DEMO_LOGINS:
        user = User.objects.get(username=login.username)
        assert check_password(DEMO_PASSWORD, user.password)
        assert user.role_assignments.filter(role=login.role).exists(), login
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff
    fudong = RoleAssignment.objects.get(user__username="fudong")
    assert (fudong.node.name, fudong.body.name) == ("府东社区", "府东社区居委会")
    dagan = RoleAssignment.objects.get(user__username="dagan")
    assert (dagan.node.name, dagan.body.name) == ("大干社区", "大干社区居委会")
    leader = RoleAssignment.objects.get(user__username="gridleader")
    worker = RoleAssignment.objects.get(user__username="gridworker")
    assert leader.node == worker.node and leader.node.parent.name == "府东社区"
    assert worker.post == Post.FULL_TIME
    head = RoleAssignment.objects.get(user__username="buildinghead")
    assert head.node.parent == leader.node
    police = RoleAssignment.objects.get(user__username="police")
    assert police.body.name == "沈北新区公安分局道义派出所"


@pytest.mark.slow
@pytest.mark.django_db
def test_audit_record_and_idempotent_second_run(seeded: str) -> None:
    audit = AuditLog.objects.filter(action="demo.seeded")
    assert audit.count() == 1 and audit.get().actor is None
    models = (Node, Body, CoJurisdiction, PartyOrg, User, RoleAssignment, AuditLog)
    before = [m.objects.count() for m in models]
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "already built" in out.getvalue() and "gridleader" in out.getvalue()
    assert [m.objects.count() for m in models] == before


@pytest.mark.slow
@pytest.mark.django_db
def test_reset_deletes_everything_then_builds_again(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """--reset deletes every demo row, then builds copy 0 again (the build itself is stubbed: it is the same
    deterministic build the module fixture ran; this test's transaction is rolled back afterwards)."""
    real_delete = builder.delete_demo
    left: dict[str, int] = {}

    def delete_and_count(out):  # type: ignore[no-untyped-def]
        deleted = real_delete(out)
        for model in (Node, Body, CoJurisdiction, PartyOrg, User, RoleAssignment):
            left[model.__name__] = model.objects.count()
        return deleted

    built: list[int] = []

    def fake_build(k, out, password_hash):  # type: ignore[no-untyped-def]
        built.append(k)
        return builder.new_context(k, out, password_hash)

    monkeypatch.setattr(builder, "delete_demo", delete_and_count)
    monkeypatch.setattr(builder, "build_copy", fake_build)
    out = io.StringIO()
    call_command("seed_demo", "--reset", stdout=out)
    assert "Deleted 210113006" in out.getvalue()
    assert left == dict.fromkeys(["Node", "Body", "CoJurisdiction", "PartyOrg", "User", "RoleAssignment"], 0)
    assert built == [0]


@pytest.mark.slow
@pytest.mark.django_db
def test_the_inbox_holds_the_recent_cases_news(seeded: str) -> None:
    """Issue 17: the demo's recent cases told people through cases.notify and messaging — the desks of new cases,
    the handlers of dispatched ones, reporters of closed ones by SMS (recorded) — dated to their events."""
    from gongzhi.messaging.models import Delivery, Message

    operator = User.objects.get(username="operator")
    code = names.street_code(0)
    messages = Message.objects.filter(user__in=User.objects.filter(role_assignments__node__code__startswith=code))
    assert messages.count() > 50
    kinds = set(messages.values_list("kind", flat=True))
    assert {"case.new", "case.dispatched", "case.closed"} <= kinds, kinds
    assert messages.filter(read_at__isnull=True).exists() and messages.filter(read_at__isnull=False).exists()
    oldest = messages.order_by("created_at").first()
    assert oldest is not None and oldest.created_at < timezone.now() - timedelta(days=2), "dated to their events"
    assert not messages.filter(user=operator, kind="case.new", object_id="").exists()
    assert Delivery.objects.filter(kind="case.closed", channel="sms").exists(), "residents told by SMS (recorded)"


@pytest.mark.slow
@pytest.mark.django_db
def test_notification_settings(seeded: str) -> None:
    """Issue 17, channels: the subdistrict's defaults per role, the police station's WeCom duty group (recorded, told
    once per dispatched case), a few demo log-ins' own choices."""
    from gongzhi.messaging import prefs
    from gongzhi.messaging.models import Delivery, DutyGroup, Preference, RoleDefault

    code = names.street_code(0)
    assert RoleDefault.objects.filter(node__code=code).count() == 9
    group = DutyGroup.objects.get(body__name__contains="派出所", body__node__code=code)
    assert group.masked.endswith("key=…duty") and "demo-" not in group.masked
    sent = Delivery.objects.filter(channel="wecom", address=f"dutygroup:{group.pk}")
    assert sent.exists() and not Delivery.objects.filter(channel="wecom", address__contains="qyapi").exists()
    worker, fudong = User.objects.get(username="gridworker"), User.objects.get(username="fudong")
    assert Preference.objects.get(user=worker).quiet_start.hour == 21
    assert Preference.objects.get(user=fudong).digest
    leader = User.objects.get(username="gridleader")
    pref, chosen = prefs.effective([leader.pk])[leader.pk]
    assert (pref.sms, pref.email, chosen) == (True, False, False), "the grid leaders' default: SMS"


@pytest.mark.slow
@pytest.mark.django_db
def test_three_lists(seeded: str) -> None:
    """北街-like lists in 道义 (issue 20): a dozen units with resources, needs from visits and meetings, projects in
    every state; ``cobuild`` sees open needs on its ground and has a project in every state."""
    from gongzhi.participation import selectors as participation
    from gongzhi.participation.models import Need, Project, Resource

    code = names.street_code(0)
    resources = Resource.objects.filter(place__code__startswith=code)
    assert resources.values("unit").distinct().count() >= 12
    needs = Need.objects.filter(place_code__startswith=code)
    assert {"visit", "meeting"} <= set(needs.values_list("source", flat=True))
    assert set(needs.values_list("status", flat=True)) >= {"open", "matched", "closed"}
    projects = Project.objects.filter(place_code__startswith=code)
    assert set(projects.values_list("state", flat=True)) == {"planned", "in_progress", "completed", "accepted", "cancelled"}
    cobuild = User.objects.get(username="cobuild")
    assert Need.objects.restrict(cobuild, "view").filter(status="open").exists()
    mine = Project.objects.restrict(cobuild, "view")
    assert set(mine.values_list("state", flat=True)) == {"planned", "in_progress", "completed", "accepted", "cancelled"}
    unit = participation.my_units(user=cobuild)[0]
    year = mine.first().created_at.year  # type: ignore[union-attr]
    c = participation.contribution(user=cobuild, unit=unit, year=year)
    assert c.projects >= 5 and c.people_served > 0 and c.hours > 0
    # A wish wall per community, with wishes in every state, claimed by units, volunteers and party members.
    from gongzhi.participation.models import Wish

    wishes = Wish.objects.filter(place_code__startswith=code)
    for community in set(wishes.values_list("community_code", flat=True)):
        states = set(wishes.filter(community_code=community).values_list("state", flat=True))
        assert states == {"published", "claimed", "fulfilled", "confirmed", "withdrawn"}, community
    assert set(wishes.exclude(claimant_kind="").values_list("claimant_kind", flat=True)) == {
        "unit", "volunteer", "party_member"
    }  # fmt: skip
    assert wishes.filter(claimant_unit__in=participation.my_units(user=cobuild)).exists()
    # A demo built before the three lists gets them when seed_demo finds it built.
    from gongzhi.demo.participation import reset_participation

    reset_participation(code, [], _quiet)
    assert not Need.objects.filter(place_code__startswith=code).exists()
    assert builder.add_missing_participation(1, _quiet) > 0
    assert Project.objects.filter(place_code__startswith=code, state="accepted").exists()


@pytest.mark.slow
@pytest.mark.django_db
def test_recognition(seeded: str) -> None:
    """道义's 五星文明户 is published (five awarded with citations, some votes flagged, the panel's reviews) and shows on
    an awarded household's page fragment; 府东社区's 四最 takes nominations."""
    from gongzhi.recognition import selectors as recognition
    from gongzhi.recognition.models import Campaign

    code = names.street_code(0)
    stars = Campaign.objects.get(area__code=code, subject="household")
    assert stars.stage == "published"
    awarded = stars.nominations.filter(status="awarded")
    assert awarded.count() == 5 and all(n.citation for n in awarded)
    assert stars.votes.filter(flagged=True).exists() and stars.votes.filter(flagged=False).count() > 100
    assert awarded.first().reviews.count() == 3  # type: ignore[union-attr]
    operator = User.objects.get(username="operator")
    household = awarded.first().household  # type: ignore[union-attr]
    assert recognition.household_awards(user=operator, household_id=household.pk)  # type: ignore[union-attr]
    four = Campaign.objects.get(area__code__startswith=code, subject="person")
    assert four.stage == "nominating" and four.nominations.count() == 4
def test_a_year_of_meetings(seeded: str) -> None:
    """Issue 22: 25 社情茶社 sessions whose 50 problems were 47 solved, monthly night talks on a working day, joint
    meetings whose chair rotates (a body leaving the rota), one hearing held and one on public notice; decisions in
    every state, some as cases moved through the workflow."""
    from gongzhi.meetings import selectors as meetings
    from gongzhi.meetings.models import Decision, Meeting, RotaMember

    code = names.street_code(0)
    here = Meeting.objects.filter(place__code__startswith=code)
    teahouse = here.filter(kind__code="teahouse", status="held")
    assert teahouse.count() == 25
    operator = User.objects.get(username="operator")
    rows = meetings.per_meeting(user=operator, place_code=code).filter(kind__code="teahouse")
    assert sum(r.problems for r in rows) == 50 and sum(r.solved for r in rows) == 47
    talks = here.filter(kind__code="night_talk", status="held")
    assert talks.count() >= 6 * 11
    dagan = Node.objects.get(code__startswith=code, name=names.OVERLAP_COMMUNITY)  # the dagan log-in's community
    assert talks.filter(place__code__startswith=dagan.code).exists()
    joint = here.filter(kind__code="joint", status="held").order_by("starts_at")
    assert joint.exclude(chair_body=None).count() == joint.count() > 0
    assert RotaMember.objects.filter(series__place__code__startswith=code, is_active=False).exists()
    assert here.filter(kind__code="hearing", status="planned").exclude(notice="").exists()
    decisions = Decision.objects.filter(meeting__place__code__startswith=code)
    assert set(decisions.values_list("status", flat=True)) == {"open", "in_progress", "done", "cancelled"}
    assert set(decisions.values_list("track", flat=True)) == {"none", "task", "case", "project"}
    assert decisions.filter(track="case", status="done", case__status="closed").exists()
    fudong = Node.objects.get(code__startswith=code, name=names.JINHE_COMMUNITY)
    assert meetings.public_record(community=fudong).object_list
