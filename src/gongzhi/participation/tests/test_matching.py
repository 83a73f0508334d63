"""Matching quality on fixtures: in clear cases the right resource ranks first and the explanation names why; a
resource with no capacity left is never suggested; the vectorised scoring equals the pair-by-pair reference."""

from __future__ import annotations

import math

import pytest
from django.utils import translation

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.participation import matching, selectors
from gongzhi.participation.models import Project
from gongzhi.participation.tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(tree):  # type: ignore[no-untyped-def]
    return user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])


@pytest.fixture
def offers(tree):  # type: ignore[no-untyped-def]
    """北街's resources: a hospital's home visits, a school's homework club, a bank's anti-fraud talks."""
    grid = tree.grids[0]
    hospital = f.unit(tree.communities[0], "社区卫生服务中心", kind="hospital")
    school = f.unit(tree.communities[0], "第一小学", kind="school")
    bank = f.unit(tree.subdistrict, "农商银行支行", kind="enterprise")
    return {
        "elderly": f.resource(
            hospital,
            grid,
            "家庭医生上门服务",
            "elderly",
            description="为独居老人、高龄老人上门量血压、送药、陪诊",
            slots=["weekends"],
        ),
        "children": f.resource(
            school,
            grid,
            "四点半课堂作业辅导",
            "children",
            description="教师志愿者为双职工家庭的孩子课后辅导作业",
            slots=["weekdays", "evenings"],
        ),
        "safety": f.resource(
            bank,
            tree.subdistrict,
            "防范电信诈骗宣讲",
            "safety",
            description="金融进万家：防诈骗知识讲座",
            slots=["weekdays"],
        ),
    }


def test_clear_cases_rank_the_right_resource_first_and_say_why(tree, staff, offers):  # type: ignore[no-untyped-def]
    cases = {
        "elderly": f.need(
            tree.grids[0],
            "独居老人需要上门陪诊送药",
            "elderly",
            description="3号楼几位高龄独居老人行动不便，希望周末有人上门量血压",
            slots=["weekends"],
        ),
        "children": f.need(
            tree.grids[0],
            "双职工家庭孩子放学后无人看管",
            "children",
            description="希望有人课后辅导作业",
            slots=["weekdays"],
        ),
        "safety": f.need(tree.grids[1], "老人屡遭电信诈骗", "safety", description="请银行来讲讲防诈骗"),
    }
    for key, need in cases.items():
        found = selectors.need_suggestions(user=staff, need=need)
        assert found[0].resource == offers[key], (key, [s.resource.title for s in found])
    top = selectors.need_suggestions(user=staff, need=cases["elderly"])[0].suggestion
    with translation.override("zh-hans"):
        text = str(top.explanation)
    assert "同类别 助老" in text
    assert "周末可用" in text
    assert "米" in text  # the distance, in metres


def test_no_capacity_left_is_never_suggested(tree, staff, offers):  # type: ignore[no-untyped-def]
    need = f.need(tree.grids[0], "独居老人需要上门陪诊", "elderly", slots=["weekends"])
    offers["elderly"].capacity_left = 0
    offers["elderly"].save()
    found = selectors.need_suggestions(user=staff, need=need)
    assert offers["elderly"] not in [s.resource for s in found]
    assert all(s.suggestion.score > -math.inf for s in found)
    # and from the resource's side: no needs suggested for it at all
    assert selectors.resource_suggestions(user=staff, resource=offers["elderly"]) == []


def test_past_performance_breaks_a_tie_and_is_named(tree, staff):  # type: ignore[no-untyped-def]
    a = f.unit(tree.communities[0], "甲单位")
    b = f.unit(tree.communities[0], "乙单位")
    ra = f.resource(a, tree.grids[0], "助老志愿服务", "elderly", description="上门助老")
    rb = f.resource(b, tree.grids[0], "助老志愿服务", "elderly", description="上门助老")
    need = f.need(tree.grids[0], "老人需要助老服务", "elderly")
    rows = [selectors.need_row(need)]
    res = [selectors.resource_row(ra), selectors.resource_row(rb)]
    scored = matching.score_all(rows, res, {(b.pk, need.category_id): 3})
    best = matching.for_each_need(scored)[need.pk][0]
    assert best.resource_id == rb.pk
    with translation.override("zh-hans"):
        assert "该单位已完成 3 个类似项目" in str(best.explanation)


def test_done_counts_come_from_accepted_projects(tree, staff):  # type: ignore[no-untyped-def]
    assert selectors.done_counts() == {}
    assert Project.objects.count() == 0


def test_resource_side_lists_the_needs_it_could_serve(tree, staff, offers):  # type: ignore[no-untyped-def]
    kids = f.need(tree.grids[0], "孩子放学后需要作业辅导", "children", slots=["weekdays"])
    f.need(tree.grids[0], "楼道堆物清理", "environment")
    found = selectors.resource_suggestions(user=staff, resource=offers["children"])
    assert found[0].need == kids
    with translation.override("zh-hans"):
        assert "同类别 儿童课后" in str(found[0].suggestion.explanation)


def test_vectorised_equals_naive(tree, offers):  # type: ignore[no-untyped-def]
    needs = [
        f.need(tree.grids[i % 4], title, cat, slots=slots, count=count)
        for i, (title, cat, slots, count) in enumerate(
            [
                ("独居老人助餐", "elderly", ["weekends"], 3),
                ("课后托管", "children", [], 40),
                ("楼道消防隐患", "safety", ["evenings"], 8),
            ]
        )
    ]
    rows = [selectors.need_row(n) for n in needs]
    res = [selectors.resource_row(r) for r in offers.values()]
    done = {(offers["safety"].unit_id, needs[2].category_id): 2}
    fast = matching.score_all(rows, res, done).score
    slow = matching.naive_scores(rows, res, done)
    for i in range(len(rows)):
        for j in range(len(res)):
            assert fast[i, j] == pytest.approx(slow[i][j], abs=1e-9)
