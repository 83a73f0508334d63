"""The learned triage in a real browser (issue 23): the desk sees explained suggestions on a new case, in the intake
list and on the case page, and dispatches it with one click; a case the model dispatched says who did it."""

from __future__ import annotations

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.models import Case
from gongzhi.cases.tests import factories as cf
from gongzhi.territory.models import Body
from gongzhi.territory.tests.factories import build_tree
from gongzhi.triage import selectors, services
from gongzhi.triage.models import Feedback
from gongzhi.triage.tests.test_triage import closed_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_desk_dispatches_on_a_suggestion_and_sees_the_models_own_dispatch(  # type: ignore[no-untyped-def]
    live_server, make_page, login, results_dir, settings, tmp_path
):
    settings.PRIVATE_ROOT = str(tmp_path / "private")
    selectors.forget_loaded()
    tree = build_tree()
    bodies = {
        "water": Body.objects.create(name="区水务局", kind="department", node=tree.subdistrict),
        "street": Body.objects.create(name="城管执法中队", kind="department", node=tree.subdistrict),
        "waste": Body.objects.create(name="社区二环卫站", kind="department", node=tree.communities[1]),
    }
    for body in bodies.values():
        user_with_role(Role.DEPARTMENT_HANDLER, body=body)
    desk = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    closed_history(tree, desk, bodies)
    version = services.train(user=desk)
    version.threshold = 0.5  # the tiny history's calibration is strict; what matters here is what the pages show
    version.save(update_fields=["threshold"])
    services.save_auto_dispatch(
        user=desk, subdistrict_id=tree.subdistrict.pk, enabled=True, category_ids=[], body_ids=[bodies["water"].pk]
    )
    # Two new reports: the water one the model dispatches itself (switched on for 区水务局); the rubbish one waits.
    by_model = cf.new_case(desk, tree.grids[0], title="东风路下水道堵塞", description="东风路下水道堵塞，路面积水严重")
    waiting = cf.new_case(desk, tree.grids[0], title="垃圾没人清运", description="垃圾堆放多日没人清运，臭味很大")
    assert Case.objects.get(pk=by_model.pk).status == "dispatched"
    assert Case.objects.get(pk=waiting.pk).status == "reported"

    page = make_page()
    login(page, desk)
    page.goto(f"{live_server.url}/cases/desk/")
    top = page.locator(f"#triage-top-{waiting.pk}")
    top.locator("strong").wait_for()
    assert "社区二环卫站" in top.inner_text() and top.locator("mark").count() >= 1

    page.goto(f"{live_server.url}/cases/{waiting.pk}/")
    box = page.locator("#triage-suggestions")
    box.wait_for()
    assert "社区二环卫站" in box.inner_text() and box.locator("mark").count() >= 1
    page.screenshot(path=str(results_dir / "triage-suggestions.png"), full_page=True)
    with page.expect_navigation():
        page.click(f'button[data-triage-dispatch="{bodies["waste"].pk}"]')
    assert page.get_attribute("#case", "data-status") == "dispatched"
    case = Case.objects.get(pk=waiting.pk)
    assert case.status == "dispatched" and case.handler_body_id == bodies["waste"].pk
    assert Feedback.objects.get(case=case).kind == "accepted"

    page.goto(f"{live_server.url}/cases/{by_model.pk}/")
    who = page.locator(".tl-model")
    assert f"智能分拨模型第{version.pk}版" in who.inner_text() and "置信度" in who.inner_text()
    assert not page.gongzhi_errors
