"""The taxonomy: the facility classes (部件) of GB/T 30428.2 beside the event classes (事件), with codes and a kind;
the search residents use on the report forms (by plain word, keyword or code), its API, the form and the 12345
import's matching of codes both kinds share."""

from __future__ import annotations

import importlib
import re

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import hotline, selectors
from gongzhi.cases.admin import CategoryForm
from gongzhi.cases.choices import CategoryKind
from gongzhi.cases.forms import PublicReportForm
from gongzhi.cases.models import Case, Category
from gongzhi.cases.tests.factories import category, seed_taxonomy
from gongzhi.cases.tests.test_hotline import csv_bytes

pytestmark = pytest.mark.django_db

MAJORS = {"01": "公用设施", "02": "道路交通", "03": "市容环境", "04": "园林绿化", "05": "房屋土地", "06": "其他设施"}
KNOWN_MINORS = {
    "0101": "上水井盖", "0102": "污水井盖", "0103": "雨水井盖", "0104": "雨水箅子", "0105": "电力井盖",
    "0113": "消防设施", "0114": "无主井盖", "0118": "路灯", "0121": "报刊亭", "0126": "健身设施",
    "0209": "交通标志牌", "0210": "交通信号灯", "0211": "交通护栏", "0301": "公共厕所", "0305": "垃圾箱",
    "0402": "行道树", "0405": "绿地", "0501": "宣传栏", "0602": "工地",
}  # fmt: skip
MANHOLE_COVERS = {"0101", "0102", "0103", "0105", "0106", "0107", "0108", "0109", "0110", "0111", "0112", "0114"}


def found(query: str) -> set[tuple[str, str]]:
    return {(c.kind, c.code) for c in selectors.search_categories(query)}


def names(query: str) -> set[str]:
    return {c.name for c in selectors.search_categories(query)}


def test_every_facility_major_class_with_its_code_and_kind() -> None:
    seed_taxonomy()
    majors = {c.code: c for c in Category.objects.filter(kind=CategoryKind.FACILITY, parent__isnull=True)}
    assert {code: c.name for code, c in majors.items()} == MAJORS
    for code, name in KNOWN_MINORS.items():
        minor = category(code, kind="facility")
        assert minor.name == name and minor.kind == CategoryKind.FACILITY
        assert minor.parent == majors[code[:2]], "a minor class sits under the major class its code starts with"
    for minor in Category.objects.filter(parent__isnull=False).select_related("parent"):
        assert minor.kind == minor.parent.kind and minor.code.startswith(minor.parent.code)
        assert re.fullmatch(r"\d{4}", minor.code), minor.code


def test_the_event_classes_are_kept_and_share_codes_with_facilities() -> None:
    seed_taxonomy()
    events = dict(Category.objects.filter(kind=CategoryKind.EVENT).values_list("code", "name"))
    assert {events[c] for c in ("01", "02", "03", "04", "05", "07")} == {
        "市容环境", "宣传广告", "施工管理", "突发事件", "街面秩序", "社区事务"
    }  # fmt: skip
    assert events["06"] == "社区生活", "the 扩展 major class has a plain name now"
    assert (events["0101"], events["0604"], events["0706"]) == ("暴露垃圾", "噪音扰民", "其他")
    assert category("0101").kind == CategoryKind.EVENT
    assert category("0101", kind="facility").name == "上水井盖"
    # A major class both kinds have says which one it is wherever it is named (the KPI charts, the filters).
    with translation.override("zh-hans"):
        assert str(category("03", kind="facility")) == "部件·市容环境"
        assert str(category("0305", kind="facility")) == "部件·市容环境 / 垃圾箱"
        assert str(category("01")) == "市容环境"


def test_the_data_migration_keeps_what_an_installation_changed(tree) -> None:  # type: ignore[no-untyped-def]
    seed_taxonomy()
    Category.objects.filter(kind="event", code="0101").update(keywords="自定")
    Category.objects.filter(kind="facility", code="0118").update(name="道路照明", default_urgency="A")
    Category.objects.filter(kind="event", code="06").update(name="扩展")
    from gongzhi.cases.tests.factories import new_case

    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    case = new_case(worker, tree.buildings[0], category_id=category("0105").pk)
    before = Category.objects.count()

    importlib.import_module("gongzhi.cases.migrations.0015_facility_categories").load(apps, None)

    assert Category.objects.count() == before, "nothing added twice"
    assert category("0101").keywords == "自定"
    lamp = category("0118", kind="facility")
    assert (lamp.name, lamp.default_urgency) == ("道路照明", "A")
    assert category("06").name == "社区生活", "only the untouched standard name is made plain"
    case.refresh_from_db()
    assert case.category.code == "0105" and case.category.kind == CategoryKind.EVENT


# --- the search ------------------------------------------------------------------------------------------------


def test_search_by_plain_word_finds_every_manhole_cover_and_nothing_else() -> None:
    seed_taxonomy()
    hits = found("井盖")
    assert {("facility", c) for c in MANHOLE_COVERS} <= hits
    assert all(kind == "facility" for kind, _ in hits)
    assert {"上水井盖", "污水井盖", "雨水井盖", "无主井盖"} <= names("井盖")
    assert "雨水箅子" not in names("井盖") and "路灯" not in names("井盖")


@pytest.mark.parametrize(
    ("query", "expected", "not_expected"),
    [
        ("路灯不亮", {("facility", "0118")}, {("facility", "0106")}),  # a sentence: the class named in it
        ("噪音", {("event", "0604"), ("event", "0301")}, set()),  # a synonym: the noise events
        ("红绿灯", {("facility", "0210")}, set()),
        ("交通设施", {("facility", "0209"), ("facility", "0210"), ("facility", "0211")}, set()),
        ("垃圾桶", {("facility", "0305"), ("event", "0101")}, set()),
        ("消防栓", {("facility", "0113")}, {("event", "0503")}),
        ("狗", {("event", "0602")}, set()),
        ("扩展", {("event", "0601"), ("event", "0604")}, {("event", "0701")}),  # the old name still finds them
        ("部件 灯", {("facility", "0118"), ("facility", "0210")}, {("event", "0604")}),  # every word must match
    ],
)
def test_search_by_synonym_and_sentence(query, expected, not_expected) -> None:  # type: ignore[no-untyped-def]
    seed_taxonomy()
    hits = found(query)
    assert expected <= hits, (query, hits)
    assert not (not_expected & hits), (query, not_expected & hits)


def test_search_by_code() -> None:
    seed_taxonomy()
    assert found("0101") == {("event", "0101"), ("facility", "0101")}, "the same code in both kinds"
    major = found("02")
    assert ("facility", "0210") in major and ("event", "0201") in major
    assert all(code.startswith("02") for _, code in major)
    assert found("0210") == {("facility", "0210")}


def test_search_lists_what_one_picks_and_forgets_inactive_classes() -> None:
    seed_taxonomy()
    everything = selectors.search_categories("")
    assert all(c.parent_id for c in everything), "major classes with minor ones are groups, not choices"
    assert len(everything) == Category.objects.filter(parent__isnull=False, is_active=True).count()
    assert [c.kind for c in everything] == sorted(c.kind for c in everything), "events first, then facilities"
    assert found("没有这种东西") == set()
    Category.objects.filter(kind="facility", code="0118").update(is_active=False)
    assert ("facility", "0118") not in found("路灯")


def test_the_matching_rules() -> None:
    terms = ["0118", "路灯", "公用设施", "部件", "路灯不亮", "照明"]
    assert selectors.category_matches(terms, "路灯")
    assert selectors.category_matches(terms, "小区路灯不亮了"), "a term inside a sentence"
    assert selectors.category_matches(terms, "01 照明"), "a code prefix and a word"
    assert not selectors.category_matches(terms, "1"), "digits match the start of the code only"
    assert not selectors.category_matches(terms, "路灯 噪音"), "every word must match"
    assert selectors.category_matches(terms, "  "), "no words: everything"


def test_the_api_searches_and_says_the_kind(api, tree) -> None:  # type: ignore[no-untyped-def]
    seed_taxonomy()
    api.as_user(user_with_role(Role.RESIDENT, node=tree.buildings[0]))
    everything = api.get("/api/v1/cases/categories").json()
    assert {row["kind"] for row in everything} == {"event", "facility"}
    response = api.get("/api/v1/cases/categories?q=井盖")
    assert response.status_code == 200
    rows = response.json()
    assert {row["code"] for row in rows} >= MANHOLE_COVERS and {row["kind"] for row in rows} == {"facility"}
    by_code = api.get("/api/v1/cases/categories?q=0101").json()
    assert sorted((row["kind"], row["name"]) for row in by_code) == [("event", "暴露垃圾"), ("facility", "上水井盖")]


# --- the report forms ------------------------------------------------------------------------------------------


def test_the_form_groups_by_kind_and_major_class_and_carries_the_words() -> None:
    seed_taxonomy()
    with translation.override("zh-hans"):
        form = PublicReportForm(categories=selectors.active_categories())
        html = str(form["category"])
    groups = re.findall(r'<optgroup label="([^"]+)"', html)
    assert "部件 · 公用设施" in groups and "事件 · 市容环境" in groups and "部件 · 市容环境" in groups
    assert not any("扩展" in g for g in groups), "no internal label as a group"
    assert groups.index("事件 · 市容环境") < groups.index("部件 · 公用设施")
    cover = category("0101", kind="facility")
    option = re.search(rf'<option value="{cover.pk}"[^>]*>', html)
    assert option is not None
    assert 'data-code="0101"' in option.group(0) and "井盖" in option.group(0) and "部件" in option.group(0)
    assert "data-category-picker" in html


def test_a_resident_reports_a_facility_problem_from_the_public_page(client, tree) -> None:  # type: ignore[no-untyped-def]
    seed_taxonomy()
    page = client.get(reverse("cases-public-report"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "category-picker.js" in page and 'id="id_category"' in page and "上水井盖" in page
    assert 'id="id_major"' not in page or 'type="hidden" name="major"' in page, "one picker, no 大类 select"
    cover = category("0102", kind="facility")
    response = client.post(
        reverse("cases-public-report"),
        {"title": "小区门口井盖没了", "category": cover.pk, "address": tree.buildings[0].name},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    case = Case.objects.get(title="小区门口井盖没了")
    assert case.category == cover and case.urgency == "A", "a missing cover is urgent by default"


def test_the_staff_report_page_has_the_picker(client, tree) -> None:  # type: ignore[no-untyped-def]
    seed_taxonomy()
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    client.force_login(worker)
    page = client.get(reverse("cases-report")).content.decode()
    assert "category-picker.js" in page and "data-category-picker" in page and "交通信号灯" in page


# --- the 12345 import and the admin ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "kind", "code"),
    [
        ("0101", "event", "0101"),  # a bare code both kinds have: the event class, as before
        ("市容环境", "event", "01"),
        ("部件/0101", "facility", "0101"),
        ("部件-公用设施-上水井盖", "facility", "0101"),
        ("路灯", "facility", "0118"),
        ("交通信号灯", "facility", "0210"),
    ],
)
def test_the_hotline_import_tells_the_kinds_apart(tree, cell, kind, code) -> None:  # type: ignore[no-untyped-def]
    seed_taxonomy()
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    rows = [["T1", "2026-03-01 08:15", "标题", "", cell, "", "", "", ""]]
    result = hotline.import_file(actor=operator, file_name="a.csv", data=csv_bytes(rows))
    assert result.errors == []
    case = Case.objects.get(hotline_ticket="T1")
    assert (case.category.kind, case.category.code) == (kind, code)
    assert not case.category_unconfirmed


def test_the_admin_keeps_a_minor_class_in_its_major_class_kind() -> None:
    seed_taxonomy()
    data = {"kind": "event", "code": "0199", "name": "测试", "parent": category("01", kind="facility").pk,
            "keywords": "", "default_urgency": "B", "is_active": True}  # fmt: skip
    form = CategoryForm(data)
    assert not form.is_valid() and "parent" in form.errors
    form = CategoryForm({**data, "kind": "facility"})
    assert form.is_valid(), form.errors
