"""点亮心愿 in a real browser (issue 20): a grid worker records a resident's wish with consent on a phone; the public
wish wall shows it, without an account and without personal data; a co-building unit claims it from the wall on its
phone, reports it fulfilled with a note; the grid worker confirms it with the resident and the wall shows it lit."""

from __future__ import annotations

import datetime

import pytest

from gongzhi.accounts.choices import Post, Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.participation import services
from gongzhi.participation.models import Wish
from gongzhi.registry.tests.factories import make_person
from gongzhi.territory.choices import BodyKind
from gongzhi.territory.models import Body
from gongzhi.territory.tests.factories import build_tree

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_wish_from_record_to_lit(live_server, make_page, login, results_dir):  # type: ignore[no-untyped-def]
    services.ensure_categories()  # an earlier transactional test flushed the migration's rows
    tree = build_tree()
    person = make_person(
        tree.households[0], name="欧阳秀兰", phone="13987654321", sex="female", birth_date=datetime.date(1948, 5, 1)
    )
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0], post=Post.FULL_TIME, display_name="王网格员")
    unit = Body.objects.create(name="北街商贸公司", kind=BodyKind.CO_BUILDING_UNIT, node=tree.communities[0])
    unit_user = user_with_role(Role.CO_BUILDING_UNIT, body=unit)
    wall_url = f"{live_server.url}/participation/public/{tree.communities[0].code}/wishes/"

    # The grid worker records the wish, with consent (phone).
    phone = make_page(width=360, height=780)
    login(phone, worker)
    phone.goto(f"{live_server.url}/participation/wishes/new/?person={person.pk}")
    phone.fill("#id_title", "一台轮椅")
    phone.fill("#id_description", "腿脚不便，想要一台轮椅出门晒太阳")
    phone.select_option("#id_category", label="无障碍")
    phone.check("#id_consent")
    with phone.expect_navigation():
        phone.click("#save-wish")
    wish = Wish.objects.get()
    assert wish.person == person and phone.inner_text("#wish-state") == "待点亮"
    phone.screenshot(path=str(results_dir / "wish-1-recorded.png"), full_page=True)

    # The public wall, without an account: the wish, none of the wisher's data.
    public = make_page(width=360, height=780)
    public.goto(wall_url)
    card = public.inner_text(f"#wall-wish-{wish.pk}")
    assert "一台轮椅" in card and "欧女士" in card and tree.grids[0].name in card
    html = public.content()
    for secret in ("欧阳", "13987654321", person.id_number, tree.households[0].name):
        assert secret not in html
    assert public.is_visible("#wall-login")
    public.screenshot(path=str(results_dir / "wish-2-public-wall.png"), full_page=True)

    # The unit claims it from the wall on its phone, then reports it fulfilled.
    unit_phone = make_page(width=360, height=780)
    login(unit_phone, unit_user)
    unit_phone.goto(wall_url)
    with unit_phone.expect_navigation():
        unit_phone.click(f"#wall-wish-{wish.pk} .claim-from-wall")
    assert unit_phone.inner_text("#wish-state") == "已认领"
    assert "北街商贸公司" in unit_phone.inner_text("#wish-claimant")
    assert "欧阳秀兰" not in unit_phone.content()
    unit_phone.fill("#id_note", "轮椅已送到老人家中，教会了使用")
    with unit_phone.expect_navigation():
        unit_phone.click("#fulfil-wish")
    assert unit_phone.inner_text("#wish-state") == "已完成，待确认"
    unit_phone.screenshot(path=str(results_dir / "wish-3-fulfilled.png"), full_page=True)

    # The grid worker confirms it with the resident; the wall shows it lit.
    phone.goto(f"{live_server.url}/participation/wishes/{wish.pk}/")
    with phone.expect_navigation():
        phone.click("#confirm-wish")
    assert phone.inner_text("#wish-state") == "已点亮"
    public.goto(wall_url)
    assert "已点亮" in public.inner_text(f"#wall-wish-{wish.pk}")
    assert "北街商贸公司" in public.inner_text(f"#wall-wish-{wish.pk}")
    public.screenshot(path=str(results_dir / "wish-4-lit.png"), full_page=True)
    for page in (phone, public, unit_phone):
        assert not page.gongzhi_errors, page.gongzhi_errors
    assert Wish.objects.get().state == "confirmed"
