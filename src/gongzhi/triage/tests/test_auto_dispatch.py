"""Auto-dispatch, learning from the desk, scheduled training, the triage page and the suggestions on the desk's
pages (issue 23): on the small fixtures of ``test_triage`` (never the Haikou file)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases import workflow
from gongzhi.cases.models import Case, CaseEvent, Category
from gongzhi.cases.tests import factories as cf
from gongzhi.core.errors import Forbidden, NotFound
from gongzhi.core.models import AuditLog
from gongzhi.triage import learn, schedule, selectors, services
from gongzhi.triage.models import AutoDispatch, CaseSuggestion, Feedback, ModelVersion
from gongzhi.triage.tests.test_triage import closed_history

CLEAR = "东风路下水道堵塞，路面积水严重"


@pytest.fixture
def handlers(bodies):  # type: ignore[no-untyped-def]
    """Someone acts for each body (else a dispatch there would wait for nobody and is refused)."""
    return {name: user_with_role(Role.DEPARTMENT_HANDLER, body=body) for name, body in bodies.items()}


@pytest.fixture
def trained(tree, desk, bodies, var, handlers):  # type: ignore[no-untyped-def]
    closed_history(tree, desk, bodies)
    version = services.train(user=desk)
    version.threshold = 0.5  # the tiny fixture's calibration is strict; the rule under test is "at or above it"
    version.save(update_fields=["threshold"])
    return version


def water_category() -> Category:
    return Category.objects.filter(kind="event", parent__isnull=False).order_by("code")[0]


def switch_on(tree, desk, *, categories=(), bodies=()):  # type: ignore[no-untyped-def]
    return services.save_auto_dispatch(
        user=desk, subdistrict_id=tree.subdistrict.pk, enabled=True,
        category_ids=[c.pk for c in categories], body_ids=[b.pk for b in bodies],
    )  # fmt: skip


def arrive(desk, tree, text, django_capture_on_commit_callbacks, **kwargs):  # type: ignore[no-untyped-def]
    """A new case through intake; its commit runs the arrival listeners (the immediate task backend in tests)."""
    with django_capture_on_commit_callbacks(execute=True):
        case = cf.new_case(desk, tree.grids[0], title=text[:30], description=text, **kwargs)
    return Case.objects.get(pk=case.pk)


def test_auto_dispatch_only_when_switched_on_and_above_the_threshold(  # type: ignore[no-untyped-def]
    tree, desk, bodies, trained, django_capture_on_commit_callbacks
):
    # Off: suggested only, stays on the desk.
    case = arrive(desk, tree, CLEAR, django_capture_on_commit_callbacks, category_id=water_category().pk)
    assert case.status == "reported" and case.handler_body is None
    stored = CaseSuggestion.objects.get(case=case)
    assert stored.body == bodies["water"] and stored.confidence >= trained.threshold and not stored.dispatched

    # On for another category (and no body): not covered, stays.
    other = Category.objects.filter(kind="event", parent__isnull=False).order_by("code")[2]
    switch_on(tree, desk, categories=[other])
    case = arrive(desk, tree, CLEAR, django_capture_on_commit_callbacks, category_id=water_category().pk)
    assert case.status == "reported"

    # On for the body: dispatched by the model.
    switch_on(tree, desk, bodies=[bodies["water"]])
    case = arrive(desk, tree, CLEAR, django_capture_on_commit_callbacks, category_id=water_category().pk)
    assert case.status == "dispatched" and case.handler_body == bodies["water"] and case.dispatcher is None

    # Covered, but below the threshold: suggested only.
    ModelVersion.objects.filter(pk=trained.pk).update(threshold=1.01)  # above any confidence the model can have
    selectors.forget_loaded()
    case = arrive(desk, tree, CLEAR, django_capture_on_commit_callbacks, category_id=water_category().pk)
    assert case.status == "reported"
    assert CaseSuggestion.objects.get(case=case).body == bodies["water"]  # still suggested


def test_model_dispatch_is_on_the_timeline_and_returnable(  # type: ignore[no-untyped-def]
    tree, desk, bodies, handlers, trained, client, django_capture_on_commit_callbacks
):
    switch_on(tree, desk, categories=[water_category()])
    case = arrive(desk, tree, CLEAR, django_capture_on_commit_callbacks, category_id=water_category().pk)
    assert case.status == "dispatched"
    event = CaseEvent.objects.get(case=case, action="dispatch")
    assert event.actor is None and event.actor_label == workflow.BY_MODEL
    assert event.data["model_version"] == trained.pk and event.data["confidence"] >= trained.threshold
    assert AuditLog.objects.filter(action="cases.dispatch", object_id=str(case.pk), actor__isnull=True).exists()
    client.force_login(desk)
    page = client.get(f"/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert f"智能分拨模型第{trained.pk}版" in page and "置信度" in page

    # The body returns it like any dispatch: back on the desk, and a correction is recorded.
    workflow.perform(actor=handlers["water"], case_id=case.pk, action="return", note="不归我们管")
    case.refresh_from_db()
    assert case.status == "returned" and case.handler_body is None
    returned = Feedback.objects.get(case=case, kind="returned")
    assert returned.suggested_body == bodies["water"] and returned.version == trained
    # A returned case is never dispatched by the model again: suggested only, the desk decides.
    assert services.consider(case_id=case.pk) is not None
    assert Case.objects.get(pk=case.pk).status == "returned"
    assert CaseEvent.objects.filter(case=case, action="dispatch").count() == 1


def test_a_failing_dispatch_leaves_the_case_on_the_desk(  # type: ignore[no-untyped-def]
    tree, desk, bodies, handlers, trained, django_capture_on_commit_callbacks
):
    """Nobody acts for the top body any more: the model's dispatch is refused and the case waits on the desk."""
    switch_on(tree, desk, bodies=[bodies["water"]])
    handlers["water"].role_assignments.update(is_active=False)
    case = arrive(desk, tree, CLEAR, django_capture_on_commit_callbacks, category_id=water_category().pk)
    assert case.status == "reported"
    assert CaseSuggestion.objects.filter(case=case, dispatched=False).exists()


def test_desk_dispatches_are_recorded_and_the_next_training_learns_the_corrections(  # type: ignore[no-untyped-def]
    tree, desk, bodies, handlers, trained, django_capture_on_commit_callbacks
):
    text = "幸福小区井盖松动，人行道上有个坑"
    assert selectors.suggest(user=desk, text=text).bodies[0].id == bodies["water"].pk
    # The desk takes the suggestion once …
    case = arrive(desk, tree, CLEAR, django_capture_on_commit_callbacks)
    workflow.perform(actor=desk, case_id=case.pk, action="dispatch", payload={"handler_body_id": bodies["water"].pk})
    assert Feedback.objects.get(case=case).kind == "accepted"
    # … and overrides it for the loose manhole covers: the street team handles those.
    for place in ("幸福小区", "东风路", "南湖花园", "新华里"):
        case = arrive(desk, tree, f"{place}井盖松动，人行道上有个坑", django_capture_on_commit_callbacks)
        workflow.perform(
            actor=desk, case_id=case.pk, action="dispatch", payload={"handler_body_id": bodies["street"].pk}
        )
        fb = Feedback.objects.get(case=case)
        assert fb.kind == "override" and fb.suggested_body == bodies["water"] and fb.body == bodies["street"]
    services.train(user=desk)
    assert selectors.suggest(user=desk, text=text).bodies[0].id == bodies["street"].pk


def test_a_returned_model_dispatch_teaches_the_body_that_finally_handled_it(  # type: ignore[no-untyped-def]
    tree, desk, bodies, handlers, trained, django_capture_on_commit_callbacks
):
    switch_on(tree, desk, bodies=[bodies["water"]])
    texts = [f"{p}下水道井盖松动，人行道积水" for p in ("幸福小区", "东风路", "南湖花园", "新华里")]
    for text in texts:
        case = arrive(desk, tree, text, django_capture_on_commit_callbacks)
        assert case.status == "dispatched"
        workflow.perform(actor=handlers["water"], case_id=case.pk, action="return", note="井盖归城管")
        workflow.perform(
            actor=desk, case_id=case.pk, action="dispatch", payload={"handler_body_id": bodies["street"].pk}
        )
        workflow.perform(actor=handlers["street"], case_id=case.pk, action="acknowledge")
    assert Feedback.objects.filter(kind="returned").count() == 4
    assert Feedback.objects.filter(kind="override", body=bodies["street"]).count() == 4
    lessons = services.desk_lessons({})
    taught = [lesson for lesson in lessons.values() if lesson.body == str(bodies["street"].pk)]
    assert [lesson.weight for lesson in taught] == [services.CORRECTION_WEIGHT] * 4
    assert all(lesson.ticket.endswith(learn.PLACE_MARK + tree.grids[0].code) for lesson in taught)  # and its place
    services.train(user=desk)
    assert selectors.suggest(user=desk, text="北街三号楼下水道井盖松动，人行道积水").bodies[0].id == bodies["street"].pk


def test_only_the_subdistrict_desk_switches_auto_dispatch(tree, desk, bodies, var) -> None:  # type: ignore[no-untyped-def]
    row = switch_on(tree, desk, bodies=[bodies["water"]])
    assert row.enabled and list(row.bodies.all()) == [bodies["water"]]
    assert AuditLog.objects.filter(action="triage.auto_dispatch").exists()
    for role, where in ((Role.COMMUNITY_STAFF, tree.communities[0]), (Role.GRID_WORKER, tree.grids[0])):
        with pytest.raises((Forbidden, NotFound)):  # the community's staff do not even see the subdistrict
            switch_on(tree, user_with_role(role, node=where), bodies=[bodies["water"]])


def test_training_is_scheduled_weekly_and_on_demand(tree, desk, bodies, var, client) -> None:  # type: ignore[no-untyped-def]
    closed_history(tree, desk, bodies)
    assert services.train_due()
    assert schedule.train_when_due().startswith("enqueued")  # the immediate backend trained it
    version = ModelVersion.objects.get(is_active=True)
    assert not services.train_due() and schedule.train_when_due() == "not due"
    assert services.train_due(now=timezone.now() + timedelta(days=7, minutes=1))
    AutoDispatch.objects.create(subdistrict=tree.subdistrict, train_every_days=2)
    assert services.train_due(now=timezone.now() + timedelta(days=2, minutes=1))
    assert "triage_train" in [job.name for job in schedule.JOBS]
    # On demand, from the page: a new version in use; the page shows its accuracy and lets the desk roll back.
    client.force_login(desk)
    assert client.post("/triage/train/").status_code == 302
    newest = ModelVersion.objects.get(is_active=True)
    assert newest.pk != version.pk and "accuracy" in newest.metrics
    page = client.get("/triage/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'id="triage-accuracy"' in page and f'data-activate="{version.pk}"' in page
    assert client.post(f"/triage/versions/{version.pk}/activate/").status_code == 302
    assert ModelVersion.objects.get(is_active=True).pk == version.pk
    grid_worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    client.force_login(grid_worker)
    assert client.get("/triage/").status_code == 403
    assert client.post("/triage/train/").status_code == 403


def test_triage_page_saves_the_switch(tree, desk, bodies, var, client) -> None:  # type: ignore[no-untyped-def]
    client.force_login(desk)
    prefix = f"s{tree.subdistrict.pk}"
    response = client.post(
        "/triage/",
        {"subdistrict": tree.subdistrict.pk, f"{prefix}-enabled": "on", f"{prefix}-bodies": [bodies["water"].pk],
         f"{prefix}-train_every_days": 7},
    )  # fmt: skip
    assert response.status_code == 302
    row = AutoDispatch.objects.get(subdistrict=tree.subdistrict)
    assert row.enabled and list(row.bodies.all()) == [bodies["water"]]


def test_desk_list_and_dispatch_form_show_suggestions_in_scope(  # type: ignore[no-untyped-def]
    tree, desk, bodies, trained, client, django_capture_on_commit_callbacks
):
    case = arrive(desk, tree, "垃圾堆放多日没人清运，臭味很大", django_capture_on_commit_callbacks)
    client.force_login(desk)
    desk_page = client.get("/cases/desk/").content.decode()
    assert f'id="triage-top-{case.pk}"' in desk_page and "/triage/desk/?ids=" in desk_page
    fragment = client.get(f"/triage/desk/?ids={case.pk}").content.decode()
    assert bodies["waste"].name in fragment and 'hx-swap-oob="true"' in fragment
    # A case the arrival task has not seen (it came before the model): asked now.
    earlier = cf.new_case(desk, tree.grids[0], title="井盖缺失", description="下水道井盖缺失，积水很深")
    assert not CaseSuggestion.objects.filter(case=earlier).exists()
    fragment = client.get(f"/triage/desk/?ids={earlier.pk}").content.decode()
    assert f'id="triage-top-{earlier.pk}"' in fragment and bodies["water"].name in fragment
    form = client.get(f"/cases/{case.pk}/act/dispatch/?next=/cases/desk/").content.decode()
    assert f"/triage/cases/{case.pk}/suggestions/?next=" in form
    one_click = client.get(f"/triage/cases/{case.pk}/suggestions/?next=/cases/desk/").content.decode()
    assert f'name="dispatch-handler" value="body:{bodies["waste"].pk}"' in one_click
    # Community 1's staff see the case but not community 2's station: never named to them.
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0])
    client.force_login(staff)
    assert bodies["waste"].name not in client.get(f"/triage/desk/?ids={case.pk}").content.decode()
    # Another grid's worker does not see the case at all: nothing about it.
    other = user_with_role(Role.GRID_WORKER, node=tree.grids[1])
    client.force_login(other)
    assert f"triage-top-{case.pk}" not in client.get(f"/triage/desk/?ids={case.pk}").content.decode()


def test_case_suggestions_api_in_scope(tree, desk, bodies, trained, api) -> None:  # type: ignore[no-untyped-def]
    case = cf.new_case(desk, tree.grids[0], title="东风路井盖缺失", description="下水道积水漫上来了")
    body = api.as_user(desk).get(f"/api/v1/triage/cases/{case.pk}/suggestions").json()
    assert body["bodies"][0]["id"] == bodies["water"].pk and body["bodies"][0]["words"]
    outsider = user_with_role(Role.GRID_WORKER, node=tree.grids[1])
    assert api.as_user(outsider).get(f"/api/v1/triage/cases/{case.pk}/suggestions").status_code == 404


def test_hotline_row_without_a_usable_category_gets_a_suggested_one(  # type: ignore[no-untyped-def]
    tree, desk, bodies, trained, django_capture_on_commit_callbacks
):
    case = arrive(desk, tree, CLEAR, django_capture_on_commit_callbacks)
    Case.objects.filter(pk=case.pk).update(category_unconfirmed=True, category_text="城建类")
    services.consider(case_id=case.pk)
    assert CaseSuggestion.objects.get(case=case).category == water_category()


def test_admin_lists_the_triage_rows(tree, desk, bodies, trained, admin_client, django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    switch_on(tree, desk, bodies=[bodies["water"]])
    arrive(desk, tree, CLEAR, django_capture_on_commit_callbacks)
    for model in ("autodispatch", "modelversion", "bodysuccessor", "feedback", "casesuggestion"):
        assert admin_client.get(f"/admin/triage/{model}/").status_code == 200
    switch = AutoDispatch.objects.get()
    assert admin_client.get(f"/admin/triage/autodispatch/{switch.pk}/change/").status_code == 200
