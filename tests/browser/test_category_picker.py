"""The category picker of the report forms in a real browser: a resident types a plain word ("井盖") and sees the
manhole-cover classes (部件 · 公用设施), picks one with the keyboard and sends the report — on a desktop and on a
360 px phone; without JavaScript the same field is a plain select grouped by kind and major class."""

from __future__ import annotations

import pytest

from gongzhi.cases.models import Case
from gongzhi.cases.tests.factories import category
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

COVERS = ["上水井盖", "污水井盖", "雨水井盖", "电力井盖", "无主井盖"]


def shown_options(page) -> list[str]:  # type: ignore[no-untyped-def]
    return page.locator(".cat-results .cat-option .cat-name").all_inner_texts()


@pytest.mark.parametrize("width", [1366, 360], ids=["desktop", "phone"])
def test_typing_a_plain_word_finds_the_manhole_covers(live_server, make_page, results_dir, width):  # type: ignore[no-untyped-def]
    tree = build_tree()
    sewer = category("0102", kind="facility")
    page = make_page(width=width, height=800 if width < 500 else 860)
    page.goto(f"{live_server.url}{_public_report_path()}")
    search = page.locator("#id_category_search")
    search.wait_for()
    assert page.locator("#id_category").is_hidden(), "the select is kept for the form, the search box shows"
    assert page.locator('label[for="id_category_search"]').count() == 1, "the label names the search box"

    search.fill("井盖")
    page.locator(".cat-results").wait_for()
    names = shown_options(page)
    assert set(COVERS) <= set(names), names
    assert "雨水箅子" not in names and "暴露垃圾" not in names
    groups = page.locator(".cat-results .cat-group-head").all_inner_texts()
    assert groups == ["部件 · 公用设施"], groups
    assert search.get_attribute("aria-expanded") == "true"
    assert "找到" in page.inner_text(".cat-status")
    no_sideways = "() => document.scrollingElement.scrollWidth <= window.innerWidth"
    assert page.evaluate(no_sideways), "nothing scrolls sideways"
    box = page.locator(".cat-results").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    page.screenshot(path=str(results_dir / f"category-picker-{width}.png"), full_page=False)

    # The keyboard: down to the second cover (污水井盖), Enter picks it and does not send the form.
    search.press("ArrowDown")
    search.press("ArrowDown")
    active = page.locator(".cat-option.is-active .cat-name").inner_text()
    assert active == "污水井盖"
    assert search.get_attribute("aria-activedescendant") == page.locator(".cat-option.is-active").get_attribute("id")
    search.press("Enter")
    assert page.locator(".cat-results").is_hidden()
    assert page.input_value("#id_category") == str(sewer.pk)
    assert search.input_value() == "污水井盖"
    assert "0102" in page.inner_text(".cat-chosen") and "公用设施" in page.inner_text(".cat-chosen")
    assert Case.objects.count() == 0, "Enter picked; it did not send"

    # Other words: a synonym of an event, a code.
    search.fill("噪音")
    assert "噪音扰民" in shown_options(page)
    search.fill("0210")
    assert shown_options(page) == ["交通信号灯"]
    search.fill("没有这种东西")
    assert shown_options(page) == [] and "没有找到" in page.inner_text(".cat-status")
    search.press("Escape")
    assert page.locator(".cat-results").is_hidden()
    assert page.input_value("#id_category") == str(sewer.pk), "a search does not undo the choice"

    page.fill("#id_title", "小区门口污水井盖丢了")
    page.fill("#id_address", tree.buildings[0].name)
    with page.expect_navigation():
        page.click("#public-submit")
    case = Case.objects.get(title="小区门口污水井盖丢了")
    assert case.category_id == sewer.pk and case.category.kind == "facility"
    assert page.gongzhi_errors == []


def test_a_tap_picks_on_the_phone(live_server, make_page):  # type: ignore[no-untyped-def]
    build_tree()
    lamp = category("0118", kind="facility")
    page = make_page(width=360, height=780)
    page.goto(f"{live_server.url}{_public_report_path()}")
    page.locator("#id_category_search").fill("路灯不亮")
    option = page.locator(f'.cat-option[data-value="{lamp.pk}"]')
    option.tap()
    assert page.input_value("#id_category") == str(lamp.pk)
    assert page.locator("#id_category_search").input_value() == "路灯"
    assert page.gongzhi_errors == []


def test_without_javascript_the_field_is_a_grouped_select(live_server, browser):  # type: ignore[no-untyped-def]
    tree = build_tree()
    cover = category("0101", kind="facility")
    context = browser.new_context(java_script_enabled=False, locale="zh-CN", viewport={"width": 360, "height": 780})
    try:
        page = context.new_page()
        page.goto(f"{live_server.url}{_public_report_path()}")
        assert page.locator("#id_category_search").count() == 0
        select = page.locator("#id_category")
        assert select.is_visible()
        groups = select.locator("optgroup").evaluate_all("gs => gs.map(g => g.label)")
        assert "部件 · 公用设施" in groups and "事件 · 市容环境" in groups
        assert not any("扩展" in g for g in groups)
        select.select_option(str(cover.pk))
        page.fill("#id_title", "上水井盖松动")
        page.fill("#id_address", tree.buildings[0].name)
        with page.expect_navigation():
            page.click("#public-submit")
        assert Case.objects.get(title="上水井盖松动").category_id == cover.pk
    finally:
        context.close()


def _public_report_path() -> str:
    from django.urls import reverse

    return reverse("cases-public-report")


def test_the_desk_sets_a_12345_tickets_category_by_word(live_server, make_page, login):  # type: ignore[no-untyped-def]
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role
    from gongzhi.cases.tests.factories import new_case

    tree = build_tree()
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    lamp = category("0118", kind="facility")
    case = new_case(operator, tree.buildings[0], channel="desk", title="小区路灯坏了", category_id=category("0706").pk)
    Case.objects.filter(pk=case.pk).update(category_unconfirmed=True, category_text="市政/照明")
    page = make_page()
    login(page, operator)
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    search = page.locator("#id_category-category_search")
    search.fill("路灯不亮")
    assert "输入关键词" in search.get_attribute("placeholder")
    page.locator(f'.cat-option[data-value="{lamp.pk}"]').click()
    with page.expect_navigation():
        page.click("#form-category button[type=submit]")
    case.refresh_from_db()
    assert case.category_id == lamp.pk and not case.category_unconfirmed
    assert "部件·公用设施 / 路灯" in page.inner_text("#case-category")
    assert page.gongzhi_errors == []
