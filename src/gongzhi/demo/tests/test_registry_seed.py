"""The demo registry (issue 4): residents, residences, key service targets, party members, organisations, visits.

The module builds a small 道义: the full plan cut down to five of its 23 communities (府东 with the demo log-ins,
正良 and 道义 — older, registered-heavy, 道义 with the market — 大干社区 and 大干村 with the overlap), a party tree
and staffing scaled to them, then every registry step (not the year of cases). Everything is deleted afterwards
with the demo reset, which is checked too.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case
from gongzhi.core.models import AuditLog
from gongzhi.demo import builder, names, registry
from gongzhi.demo.context import BuildContext
from gongzhi.registry.choices import PartyMemberType, PopulationType, TagKind
from gongzhi.registry.idcard import id_number_errors, parse_id_number
from gongzhi.registry.models import CoBuildingAgreement, OrgContact, PartyMember, Person, PersonTag, Residence
from gongzhi.territory.choices import BodyKind, NodeKind, PartyOrgKind
from gongzhi.territory.models import Body, Node, PartyOrg
from gongzhi.visits.models import Campaign, CampaignTarget, CarePlan, Visit

CODE = names.street_code(0)
KEEP = ("府东社区", "道义社区", "正良社区", "大干社区", "大干村")
SKIPPED = {"cases", "disputes"}
MEMBERS = 400  # party members in the small copy (1,703 in the full one)
ORG_KINDS = (
    BodyKind.ENTERPRISE,
    BodyKind.SCHOOL,
    BodyKind.HOSPITAL,
    BodyKind.CO_BUILDING_UNIT,
    BodyKind.SOCIAL_ORGANISATION,
)


def _quiet(_line: str) -> None:
    pass


def _trim(ctx: BuildContext, keep: tuple[str, ...]) -> None:
    """Cut a planned copy down to some of its communities (codes keep their place in the full copy)."""
    ctx.communities = [c for c in ctx.communities if c.name in keep]
    ctx.grids = [g for g in ctx.grids if g.community in ctx.communities]
    ctx.buildings = [b for b in ctx.buildings if b.grid.community in ctx.communities]
    ctx.compounds = {k: grids for k, grids in ctx.compounds.items() if grids[0].community in ctx.communities}


@pytest.fixture(scope="module")
def built(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as mp:
        lines: list[str] = []
        ctx = builder.new_context(0, lines.append, builder.demo_password_hash())
        builder.plan_territory(ctx)
        _trim(ctx, KEEP)
        n = len(ctx.communities)
        grids = len(ctx.grids)
        threes = next(b for b in range(4) if (grids - 3 * b) % 4 == 0)
        mp.setattr(builder, "PARTY_GRID_BRANCHES", 2 * n + 2)
        mp.setattr(builder, "PARTY_BUILDING_GROUPS", 2 * n + 5)
        mp.setattr(builder, "PARTY_HOUSEHOLDS", 2 * n + 9)
        mp.setattr(builder, "SECOND_FULL_TIME_GRIDS", 4)
        mp.setattr(builder, "INSTRUCTORS_WITH_FOUR_GRIDS", (grids - 3 * threes) // 4)
        mp.setattr(builder, "INSTRUCTORS_WITH_THREE_GRIDS", threes)
        mp.setattr(registry, "PARTY_MEMBERS", MEMBERS)
        with transaction.atomic():
            for label, step in builder.STEPS:
                if label not in SKIPPED and label != "plan":
                    ctx.counts[label] += step(ctx)
        ctx.out = _quiet
        yield ctx, lines
        builder.delete_demo(_quiet)
        for model in (Person, Residence, PersonTag, PartyMember, OrgContact, CoBuildingAgreement):
            assert not model.objects.exists(), model
        for model in (Campaign, CampaignTarget, CarePlan, Visit, Case):
            assert not model.objects.exists(), model
        from gongzhi.service.models import Activity, PersonServed, SignUp, Volunteer, VolunteerTeam

        for model in (VolunteerTeam, Volunteer, Activity, SignUp, PersonServed):
            assert not model.objects.exists(), model
        assert not Node.objects.filter(code__startswith=CODE).exists()
        AuditLog.objects.filter(node_code__startswith=CODE).delete()  # the services' records of the seeded visits


@pytest.fixture
def ctx(built, db):  # type: ignore[no-untyped-def]
    return built[0]


def _today(ctx: BuildContext) -> date:
    """The day the module's seed was built for (not the test's own clock: midnight may fall in between)."""
    return timezone.localtime(ctx.now).date()


def _age(birth: date, day: date) -> int:
    return registry.age_on(birth, day)


# --- Pure: the plan ---------------------------------------------------------------------------------------------


def test_age_and_birthday_helpers() -> None:
    assert registry.age_on(date(2000, 3, 1), date(2026, 2, 28)) == 25
    assert registry.age_on(date(2000, 3, 1), date(2026, 3, 1)) == 26
    assert registry.birthday(date(2000, 2, 29), 1) == date(2001, 2, 28)
    rng = random.Random(1)
    today = date(2026, 11, 23)
    for age in (0, 1, 14, 59, 60, 100):
        for _ in range(50):
            assert registry.age_on(registry._born(rng, today, age), today) == age


def test_the_registry_plan_is_deterministic() -> None:
    def plan() -> list[tuple[str, str, date, str, str, str]]:
        ctx = builder.new_context(0, _quiet, "x")
        builder.plan_territory(ctx)
        _trim(ctx, ("府东社区", "大干村"))
        pk = 0
        for building in ctx.buildings:
            for name in builder._household_names(building):
                pk += 1
                building.households.append(Node(pk=pk, name=name))
        state = registry.Registry(today=date(2026, 11, 23), rng=random.Random("same"))
        registry.plan_homes(ctx, state, {})
        taken: set[str] = set()
        return [
            (r.name, r.sex, r.birth, r.population_type, r.room, registry._id_number(state.rng, r, taken))
            for r in state.residents
        ]

    first = plan()
    assert first == plan() and len(first) > 5000


# --- The built copy ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_id_numbers_valid_unique_and_consistent(ctx: BuildContext) -> None:
    rows = list(
        Person.objects.filter(household__code__startswith=CODE).values_list(
            "id_number", "sex", "birth_date", "population_type", "phone", "name"
        )
    )
    assert len(rows) > 20_000
    numbers = [row[0] for row in rows]
    assert len(set(numbers)) == len(numbers)
    regions: dict[str, Counter[str]] = defaultdict(Counter)
    for number, sex, born, kind, phone, name in rows:
        assert id_number_errors(number) == [], number
        card = parse_id_number(number)
        assert (card.sex, card.birth_date) == (sex, born)
        regions[kind][card.region[:2] == "21"] += 1
        if kind == PopulationType.REGISTERED:
            assert card.region == names.DISTRICT_CODE
        else:
            assert card.region != names.DISTRICT_CODE
        assert not phone or (len(phone) == 11 and phone[0] == "1" and phone[1] in "3456789" and phone.isdigit())
        assert 2 <= len(name) <= 4 and not name.isascii()
    # Temporary and floating people come from other provinces; the resident-not-registered from Liaoning.
    assert not regions[PopulationType.TEMPORARY][True] and not regions[PopulationType.FLOATING][True]
    assert not regions[PopulationType.RESIDENT][False]
    phones = [row[4] for row in rows if row[4]]
    assert len(set(phones)) == len(phones) and len(phones) > 0.7 * len(rows)


@pytest.mark.slow
def test_households_hold_families_of_one_to_six(ctx: BuildContext) -> None:
    sizes = Counter(
        Person.objects.filter(household__code__startswith=CODE).values_list("household_id", flat=True)
    ).values()
    households = Node.objects.filter(kind=NodeKind.HOUSEHOLD, code__startswith=CODE)
    assert min(sizes) == 1 and max(sizes) == 6
    assert 0.9 * households.count() <= len(sizes) < households.count()  # a few flats stand empty
    assert 2.8 <= sum(sizes) / len(sizes) <= 3.4
    market = households.filter(parent__name=names.XIDA_MARKET)
    assert market.exists() and not Person.objects.filter(household__in=market).exists()
    # Couples of similar age: in two-person households of a man and a woman the ages are close.
    pairs = defaultdict(list)
    for household_id, sex, born in Person.objects.filter(household__code__startswith=CODE).values_list(
        "household_id", "sex", "birth_date"
    ):
        pairs[household_id].append((sex, born))
    gaps = [
        abs((a[1] - b[1]).days) / 365
        for a, b in (p for p in pairs.values() if len(p) == 2)
        if {a[0], b[0]} == {"male", "female"}
    ]
    assert sorted(gaps)[len(gaps) // 2] < 6  # the median couple is a few years apart


@pytest.mark.slow
def test_every_placed_person_has_one_open_residence_in_their_household(ctx: BuildContext) -> None:
    people = dict(Person.objects.filter(household__code__startswith=CODE).values_list("pk", "household_id"))
    open_rows = list(Residence.objects.filter(moved_out__isnull=True).values_list("person_id", "household_id"))
    assert len(open_rows) == len(people)
    assert dict(open_rows) == people
    today = _today(ctx)
    moved_in = dict(Residence.objects.filter(moved_out__isnull=True).values_list("person_id", "moved_in"))
    births = dict(Person.objects.values_list("pk", "birth_date"))
    assert all(births[pk] <= day <= today for pk, day in moved_in.items())
    closed = list(
        Residence.objects.filter(moved_out__isnull=False).values_list(
            "person_id", "household_id", "moved_in", "moved_out"
        )
    )
    assert len(closed) >= 500  # moves within the subdistrict
    households = set(Node.objects.filter(code__startswith=CODE, kind=NodeKind.HOUSEHOLD).values_list("pk", flat=True))
    for person_id, household_id, start, end in closed:
        assert start < end == moved_in[person_id] and household_id != people[person_id]
        assert household_id in households


@pytest.mark.slow
def test_population_shares(ctx: BuildContext) -> None:
    rows = list(
        Person.objects.filter(household__code__startswith=CODE).values_list("population_type", "household__code")
    )
    shares = Counter(kind for kind, _ in rows)
    total = len(rows)
    # Two new communities, two older ones and a village: close to the subdistrict's 40/10/40/10.
    assert 0.33 <= shares[PopulationType.REGISTERED] / total <= 0.50
    assert 0.05 <= shares[PopulationType.RESIDENT] / total <= 0.15
    assert 0.30 <= shares[PopulationType.TEMPORARY] / total <= 0.47
    assert 0.05 <= shares[PopulationType.FLOATING] / total <= 0.16
    by_community: dict[str, Counter[str]] = defaultdict(Counter)
    names_by_code = dict(
        Node.objects.filter(code__startswith=CODE, kind__in=["community", "village"]).values_list("code", "name")
    )
    for kind, code in rows:
        by_community[names_by_code[code[:12]]][kind] += 1

    def registered(name: str) -> float:
        counts = by_community[name]
        return counts[PopulationType.REGISTERED] / sum(counts.values())

    def transient(name: str) -> float:
        counts = by_community[name]
        return (counts[PopulationType.TEMPORARY] + counts[PopulationType.FLOATING]) / sum(counts.values())

    assert registered("正良社区") > 0.5 and registered("道义社区") > 0.5  # older communities: registered-heavy
    assert transient("大干村") > 0.5 and transient("大干村") > transient("正良社区")  # the village: temporary-heavy


@pytest.mark.slow
def test_key_service_tags_agree_with_age_and_household(ctx: BuildContext) -> None:
    today = _today(ctx)
    people = {
        pk: (born, household)
        for pk, born, household in Person.objects.filter(household__code__startswith=CODE).values_list(
            "pk", "birth_date", "household_id"
        )
    }
    size = Counter(household for _, household in people.values())
    tags: dict[str, set[int]] = defaultdict(set)
    for person_id, tag, label, since, until in PersonTag.objects.values_list(
        "person_id", "tag", "label", "since", "until"
    ):
        assert since <= today and (until is None or since <= until)
        if tag == TagKind.OTHER:
            assert label in ("退役军人", "失独家庭", "军烈属")
        if until is None:
            tags[tag].add(person_id)
    ages = {pk: _age(born, today) for pk, (born, _) in people.items()}
    assert tags[TagKind.ELDERLY] == {pk for pk, age in ages.items() if age >= 60}
    alone = {pk for pk, (_, household) in people.items() if size[household] == 1 and ages[pk] >= 70}
    assert tags[TagKind.ELDERLY_ALONE] == alone and len(alone) > 50
    assert tags[TagKind.CHILD] == {pk for pk, age in ages.items() if age < 14}
    ended_child = PersonTag.objects.filter(tag=TagKind.CHILD, until__isnull=False)
    assert ended_child.exists()
    assert all(14 <= ages[pk] < 18 for pk in ended_child.values_list("person_id", flat=True))
    total = len(people)
    assert 0.012 <= len(tags[TagKind.DISABLED]) / total <= 0.018
    assert 0.008 <= len(tags[TagKind.HARDSHIP]) / total <= 0.012
    assert PersonTag.objects.filter(tag=TagKind.HARDSHIP, until__isnull=False).exists()
    assert tags[TagKind.OTHER]


@pytest.mark.slow
def test_party_members_of_every_type_in_their_branches(ctx: BuildContext) -> None:
    members = list(PartyMember.objects.select_related("person__household", "branch__node", "work_unit").order_by("pk"))
    assert len(members) == MEMBERS
    by_type = Counter(m.member_type for m in members)
    assert set(by_type) == set(PartyMemberType.values) and all(n >= 20 for n in by_type.values())
    today = _today(ctx)
    for m in members:
        assert m.branch is not None and m.branch.node.code.startswith(CODE)
        community = m.person.household.code[:12]
        assert m.branch.node.code.startswith(community), (m.branch.name, community)  # in their own community
        assert m.branch.kind != PartyOrgKind.PARTY_HOUSEHOLD
        age = _age(m.person.birth_date, today)
        if m.member_type == PartyMemberType.ON_DUTY:
            assert m.work_unit is not None and m.work_unit.kind != BodyKind.RESIDENTS_COMMITTEE and age < 60
        if m.reported_in:
            assert m.member_type == PartyMemberType.ON_DUTY and m.reported_in_on is not None
            assert m.reported_in_on <= today
        if m.member_type == PartyMemberType.RETIRED:
            assert age >= 55
        if m.member_type == PartyMemberType.MOBILE:
            assert m.person.population_type in (PopulationType.TEMPORARY, PopulationType.FLOATING)
    on_duty = [m for m in members if m.member_type == PartyMemberType.ON_DUTY]
    assert 0.6 <= sum(m.reported_in for m in on_duty) / len(on_duty) <= 0.95
    # The heads of the party households (党员中心户) live there, carry the org's secretary name and are members.
    heads = PartyOrg.objects.filter(kind=PartyOrgKind.PARTY_HOUSEHOLD, node__code__startswith=CODE)
    assert heads.exists()
    member_ids = {m.person_id for m in members}
    for org in heads:
        person = Person.objects.get(household_id=org.node_id, name=org.secretary_name)
        assert person.pk in member_ids


@pytest.mark.slow
def test_organisations_contacts_and_agreements(ctx: BuildContext) -> None:
    today = _today(ctx)
    units = Body.objects.filter(kind__in=ORG_KINDS, node__code__startswith=CODE)
    assert units.count() >= 28
    assert {kind for kind in units.values_list("kind", flat=True)} == set(ORG_KINDS)
    for unit in units.exclude(name=names.body_name("老娘舅调解队", 0)):
        contacts = list(OrgContact.objects.filter(body=unit))
        assert sum(c.is_primary for c in contacts) == 1 and all(c.name and c.phone for c in contacts)
        assert CoBuildingAgreement.objects.filter(unit=unit).exists(), unit.name
    agreements = list(CoBuildingAgreement.objects.select_related("unit", "partner", "party_org"))
    assert len(agreements) >= 30
    for a in agreements:
        assert Body.objects.filter(pk=a.unit_id).exists() and a.partner.code.startswith(CODE)
        assert a.partner.kind in (NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.SUBDISTRICT)
        assert a.party_org is not None and a.party_org.node_id == a.partner_id
        assert a.signed_on <= a.starts <= today and a.ends is not None and a.ends >= a.starts
        assert a.is_active == (a.ends >= today)
        assert len(a.commitments) >= 3 and all(isinstance(c, str) and not c.isascii() for c in a.commitments)
    assert any(not a.is_active for a in agreements) and sum(a.is_active for a in agreements) > len(agreements) / 2
    xida = Body.objects.get(name=names.body_name("沈阳西大商业管理有限公司", 0))
    assert CoBuildingAgreement.objects.filter(unit=xida, partner__name=names.XIDA_COMMUNITY).exists()


@pytest.mark.slow
def test_a_visit_campaign_in_progress_and_weekly_care_plans(ctx: BuildContext) -> None:
    today = _today(ctx)
    campaign = Campaign.objects.select_related("area", "created_by").get()
    assert campaign.area.name == names.JINHE_COMMUNITY and campaign.created_by.username == "fudong"
    assert campaign.starts < today < campaign.ends and campaign.name.endswith("入户走访")
    targets = CampaignTarget.objects.filter(campaign=campaign)
    lived_in = Person.objects.filter(household__code__startswith=campaign.area.code).values("household_id").distinct()
    assert targets.count() == lived_in.count()
    coverage = targets.filter(covered_at__isnull=False).count() / targets.count()
    assert 0.4 <= coverage <= 0.6
    demo_grid = Node.objects.get(name="府东社区第1网格")
    grid_targets = targets.filter(household__code__startswith=demo_grid.code)
    assert (
        grid_targets.filter(covered_at__isnull=False).exists() and grid_targets.filter(covered_at__isnull=True).exists()
    )
    assert Visit.objects.filter(campaign=campaign, visitor__username="gridworker").exists()
    assert Visit.objects.filter(campaign=campaign, outcome="not_home").exists()
    raised = Visit.objects.filter(case__isnull=False).select_related("case")
    assert raised.count() == registry.CASES_FROM_VISITS
    assert all(v.case.channel == Channel.VISIT and v.needs for v in raised)
    # Weekly care plans for every elderly person living alone; most visited this week, some overdue.
    alone = set(
        PersonTag.objects.filter(tag=TagKind.ELDERLY_ALONE, until__isnull=True).values_list("person_id", flat=True)
    )
    plans = list(CarePlan.objects.all())
    assert {p.person_id for p in plans} == alone and all(p.every_days == 7 and p.is_active for p in plans)
    overdue = [p for p in plans if p.next_due < today]
    assert 0.05 <= len(overdue) / len(plans) <= 0.4
    assert sum(p.last_visited is not None for p in plans) > 0.8 * len(plans)
    assert all(p.next_due == (p.last_visited + timedelta(days=7) if p.last_visited else p.starts) for p in plans)


@pytest.mark.slow
def test_the_build_prints_counts_not_personal_data(ctx: BuildContext, built) -> None:  # type: ignore[no-untyped-def]
    output = "\n".join(built[1])
    assert "registered 4" in output or "registered 3" in output  # the population shares
    assert "care plans" in output and "reported in" in output
    assert not re.search(r"\d{11}", output)  # no phone or ID number
    some = list(Person.objects.order_by("?").values_list("name", flat=True)[:200])
    assert not [name for name in some if len(name) >= 3 and name in output]
    assert {"residences", "care plans", "co-building agreements"} <= set(ctx.counts)


def test_notices_are_seeded_through_the_services_with_reads(ctx: BuildContext) -> None:
    """Issue 16: the demo's 通知 was empty. Several communities, a grid and the whole subdistrict (to the elderly
    living alone) get notices, sent and read through the notices services; some households read them (by the link,
    or confirmed by their grid worker), some not; a water cut co-sent by the village reaches each household once."""
    from gongzhi.accounts.models import User
    from gongzhi.notices import selectors as notice_selectors
    from gongzhi.notices.models import Notice, NoticeDelivery

    notices = list(Notice.objects.filter(area__code__startswith=CODE).select_related("area"))
    assert len(notices) == 6
    kinds = Counter(n.area.kind for n in notices)
    assert kinds[NodeKind.SUBDISTRICT] == 1 and kinds[NodeKind.GRID] == 2 and kinds[NodeKind.COMMUNITY] == 3
    assert len({n.area.code[:12] for n in notices if n.area.kind != NodeKind.SUBDISTRICT}) >= 3
    assert len({n.published_at.date() for n in notices}) >= 5, "sent over the weeks, not all at once"
    water = next(n for n in notices if "停水" in n.title)
    # 大干村 sent it to the grid it shares with 大干社区, which co-sent it there: one notice, no household twice.
    assert water.senders.count() == 2 and water.area.kind == NodeKind.GRID
    assert [s.new_households > 0 for s in water.senders.order_by("sent_at", "id")] == [True, False]
    assert sorted(n.tags for n in notices if n.tags) == [
        [TagKind.ELDERLY, TagKind.ELDERLY_ALONE],
        [TagKind.ELDERLY_ALONE],
    ]
    admin = User.objects.filter(is_superuser=True).first() or User.objects.get(username="admin")
    for notice in notices:
        deliveries = NoticeDelivery.objects.filter(notice=notice)
        total, read = deliveries.count(), deliveries.filter(read_at__isnull=False).count()
        assert 0 < read < total, notice.title
        assert deliveries.filter(read_at__lt=notice.published_at).count() == 0
        assert deliveries.filter(read_at__gt=ctx.now).count() == 0, "no read in the future"
        assert 8 <= timezone.localtime(notice.published_at).hour <= 11 or notice.published_at > ctx.now - timedelta(
            hours=1
        ), "sent in office hours"
        stats = notice_selectors.delivery_stats(user=admin, notice=notice)
        assert (stats.delivered, stats.read) == (total, read)
    ways = set(NoticeDelivery.objects.filter(notice__in=notices).values_list("read_via", flat=True))
    assert {"link", "in_person", "phone"} <= ways
    assert AuditLog.objects.filter(action="notices.sent", node_code__startswith=CODE).count() >= 6
    assert AuditLog.objects.filter(action="notices.read_confirmed", node_code__startswith=CODE).exists()


def test_a_demo_built_before_notices_gets_them_on_the_next_run(ctx: BuildContext) -> None:
    """``seed_demo`` on a demo that is built but has no notices (built before issue 16) sends the demo's notices."""
    from gongzhi.notices.models import Notice

    builder.reset_notices(CODE, [], _quiet)
    assert not Notice.objects.filter(area__code__startswith=CODE).exists()
    assert builder.add_missing_notices(1, _quiet) == 6
    assert Notice.objects.filter(area__code__startswith=CODE).count() == 6
    assert builder.add_missing_notices(1, _quiet) == 0, "once"


def test_volunteers_have_a_year_of_confirmed_hours_and_serve_the_elderly_living_alone(ctx: BuildContext) -> None:
    """Issue 21: a team per community, a year of activities with sign-ups, most hours confirmed, the elderly living
    alone among the people served, and the demo party member a volunteer of 府东's team with coming activities."""
    from gongzhi.service.models import Activity, PersonServed, SignUp, Volunteer, VolunteerTeam

    community_teams = VolunteerTeam.objects.filter(area__code__startswith=CODE, owner_body__isnull=True)
    assert community_teams.count() == len(KEEP)
    volunteers = Volunteer.objects.filter(person__household__code__startswith=CODE)
    assert volunteers.count() >= 5 * len(KEEP)
    assert volunteers.filter(person__party_membership__isnull=False).exists()
    now = timezone.now()
    months = {timezone.localtime(a).strftime("%Y-%m") for a in Activity.objects.values_list("starts_at", flat=True)}
    assert len(months) >= 12
    confirmed = SignUp.objects.filter(confirmed_at__isnull=False)
    assert confirmed.count() > SignUp.objects.filter(activity__ends_at__lt=now).count() // 2
    assert not confirmed.filter(hours__isnull=True).exists()
    assert not SignUp.objects.filter(activity__starts_at__gt=now, checked_in_at__isnull=False).exists()
    served = PersonServed.objects.values_list("person_id", flat=True)
    assert PersonTag.objects.filter(person_id__in=served, tag=TagKind.ELDERLY_ALONE).exists()
    demo = Volunteer.objects.get(user__username="partymember")
    assert demo.team is not None and demo.team.area.name == names.JINHE_COMMUNITY
    coming = Activity.objects.filter(area=demo.team.area, starts_at__gt=now)
    assert coming.exists() and not SignUp.objects.filter(volunteer=demo, activity__in=coming).exists()


def test_the_cobuild_login_offers_on_the_community_of_its_agreement(ctx: BuildContext) -> None:
    """The co-building unit reaches no place directly, yet its post, team and coming activity stand on the community
    of its agreement, its own (owner body), and it reads them on its pages."""
    from gongzhi.accounts.models import RoleAssignment
    from gongzhi.service import selectors as service
    from gongzhi.service.models import Activity, Post, VolunteerTeam

    grant = RoleAssignment.objects.select_related("user", "body").get(user__username="cobuild")
    partner = CoBuildingAgreement.objects.get(unit=grant.body, partner__code__startswith=CODE).partner
    post = Post.objects.get(owner_body=grant.body)
    team = VolunteerTeam.objects.get(owner_body=grant.body)
    activity = Activity.objects.get(owner_body=grant.body)
    assert post.area == team.area == activity.area == partner and activity.team == team
    assert activity.starts_at > timezone.now()
    assert service.post_get(user=grant.user, post_id=post.pk) == post
    assert partner in service.offer_places(user=grant.user, label="service.post", kinds=("community",))
