"""Schemathesis over the whole API: no request, however malformed, costs a 5xx, and every error is in the error shape.

Every operation of the OpenAPI document is called as an administrator and as a grid worker, on the small test
territory (``build_tree``) with residents, cases in several states, a visit campaign, a care plan and a notice. Each
operation gets examples of two kinds, valid data (positive) and invalid data (negative: wrong types, out-of-range
numbers, missing or unknown fields …), about half of them with the ids they name (path, query, body) set to objects
that exist, so that the calls reach the services instead of stopping at a 404. Every response is checked: status below 500, and every
4xx in the JSON error shape ``{"error": {"code", "message", "details"}}``.

``FUZZ_EXAMPLES`` (environment) sets the examples per operation, kind and user (default ``EXAMPLES``, sized so that
the run takes about 3 minutes on the 2-core CI machine); the run is deterministic (derandomized) so a failure
repeats. The failures of all operations are collected and reported together.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

import pytest
import schemathesis

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

EXAMPLES = 15
EXAMPLES_PER_KIND = int(os.environ.get("FUZZ_EXAMPLES", EXAMPLES))


def _ground() -> dict[str, Any]:
    """The factories' territory with something behind every kind of path parameter; returns the ids by name."""
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.models import RoleAssignment, User
    from gongzhi.accounts.tests.factories import user_with_role
    from gongzhi.cases.models import Category
    from gongzhi.cases.tests.factories import category, new_case, walk
    from gongzhi.cases.workflow import TRANSITIONS
    from gongzhi.notices import services as notices
    from gongzhi.notices.models import Notice, NoticeDelivery
    from gongzhi.notices.tests.conftest import build_ground
    from gongzhi.registry import services as registry
    from gongzhi.registry.models import CoBuildingAgreement, OrgContact, Person, PersonTag
    from gongzhi.territory.choices import BodyKind
    from gongzhi.territory.models import Body, Node, PartyOrg
    from gongzhi.territory.tests.factories import build_tree
    from gongzhi.visits import services as visits
    from gongzhi.visits.models import Campaign, CarePlan, Visit

    tree = build_tree()
    ground = build_ground(tree)
    admin = user_with_role(Role.ADMIN)
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    company = Body.objects.create(name="物业公司", kind=BodyKind.PROPERTY_COMPANY, node=tree.communities[0])
    user_with_role(Role.DEPARTMENT_HANDLER, body=company)
    cases = [new_case(worker, tree.grids[0], title=f"积水{n}") for n in range(3)]
    walk(admin, cases[1], "in_progress", handler_body=company)
    walk(admin, cases[2], "closed", handler_body=company)
    unit = Body.objects.create(name="共建单位", kind=BodyKind.CO_BUILDING_UNIT, node=tree.communities[0])
    contact = registry.add_contact(actor=admin, body_id=unit.pk, name="联系人", phone="13800001111")
    today = datetime.date.today()
    agreement = registry.create_agreement(
        actor=admin, unit_id=unit.pk, partner_id=tree.communities[0].pk, title="共建协议", signed_on=today, starts=today
    )
    person = Person.objects.filter(household=tree.households[0]).order_by("pk").first()
    assert person is not None
    registry.set_party_membership(actor=admin, person_id=person.pk, member_type="community")
    tag = PersonTag.objects.filter(person__household__in=ground.all_households).order_by("pk").first()
    assert tag is not None
    campaign = visits.create_campaign(
        actor=admin, name="大走访", area_id=tree.communities[0].pk, starts=today, ends=today + datetime.timedelta(30)
    )
    plan = visits.create_care_plan(actor=admin, person_id=person.pk, every_days=7)
    visit = visits.record_visit(actor=worker, household_id=tree.households[0].pk, outcome="met")
    sent = notices.deliver_notice(actor=admin, title="停水通知", body="明日停水", area_id=tree.communities[0].pk)
    delivery = NoticeDelivery.objects.filter(notice=sent.notice, household=tree.households[0]).first()
    assert delivery is not None
    assert visit and plan and campaign and contact and agreement and delivery  # behind the pools below
    # Inspections: the default checklists, a plan's rounds, one round done with a hazard found.
    from gongzhi.inspections import services as inspections
    from gongzhi.inspections.models import ChecklistItem, Hazard, Round

    inspections.ensure_checklists(actor=admin, subdistrict_id=tree.subdistrict.pk)
    inspections.create_plan(actor=admin, area_id=tree.communities[0].pk, kind="residential", every_months=1)
    first = Round.objects.order_by("pk").first()
    assert first is not None
    inspections.submit_round(
        actor=admin,
        round_id=first.pk,
        answers=[
            {"item": i.pk, "result": "fail" if i.position == 7 else "pass"}
            for i in ChecklistItem.objects.filter(checklist=first.checklist, is_active=True)
        ],
    )

    def ids(model: Any) -> list[int]:
        return list(model.objects.order_by("pk").values_list("pk", flat=True)[:20])

    pools = {
        "node": ids(Node),
        "body": ids(Body),
        "party_org": ids(PartyOrg),
        "category": [*ids(Category)[:5], category().pk],
        "user": ids(User),
        "assignment": ids(RoleAssignment),
        "person": ids(Person),
        "tag": ids(PersonTag),
        "case": [c.pk for c in cases],
        "campaign": ids(Campaign),
        "care_plan": ids(CarePlan),
        "visit": ids(Visit),
        "notice": ids(Notice),
        "delivery": ids(NoticeDelivery),
        "contact": ids(OrgContact),
        "agreement": ids(CoBuildingAgreement),
        "action": sorted(TRANSITIONS),
        "round": ids(Round),
        "hazard": ids(Hazard),
    }
    return {"users": {"admin": admin, "grid_worker": worker}, "pools": pools}


# Which objects a parameter or field names (path, query and body alike).
POOL_OF = {
    **dict.fromkeys(
        ("node_id", "parent_id", "within_id", "area_id", "handler_node_id", "place", "place_id", "building_id",
         "household_id", "partner_id"),
        "node",
    ),
    **dict.fromkeys(
        ("body_id", "lead_body_id", "handler_body_id", "sender_body_id", "work_unit_id", "body"), "body"
    ),
    **dict.fromkeys(("branch_id", "party_org_id"), "party_org"),
    **dict.fromkeys(("category_id", "category"), "category"),
    **dict.fromkeys(("user_id", "to_user_id", "assignee_id", "worker"), "user"),
    **dict.fromkeys(("case_id", "into_case_id"), "case"),
    **dict.fromkeys(("notice_id", "joins_notice_id"), "notice"),
    "assignment_id": "assignment",
    "person_id": "person",
    "tag_id": "tag",
    "campaign_id": "campaign",
    "care_plan_id": "care_plan",
    "visit_id": "visit",
    "delivery_id": "delivery",
    "contact_id": "contact",
    "agreement_id": "agreement",
    "action": "action",
    "round_id": "round",
    "hazard_id": "hazard",
}


def _token(client: Any, user: Any) -> str:
    from gongzhi.core.testing import PASSWORD

    response = client.post(
        "/api/v1/auth/token",
        data=json.dumps({"username": user.username, "password": PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


def _problem(response: Any) -> str | None:
    """What is wrong with a response, or None."""
    status = response.status_code
    if status >= 500:
        return f"{status}: {response.text[:300]}"
    if status < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]  # lower-case keys, lists of values
    if not content_type.startswith("application/json"):
        return f"{status} is not JSON: {content_type} {response.text[:200]}"
    try:
        body = response.json()
    except ValueError:
        return f"{status}: the body is not JSON: {response.text[:200]}"
    error = body.get("error") if isinstance(body, dict) else None
    if not (
        isinstance(error, dict)
        and isinstance(error.get("code"), str)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("details"), list)
    ):
        return f"{status} is not in the error shape: {response.text[:200]}"
    return None


def _with_real_ids(case: Any, pools: dict[str, list[Any]]) -> Any:
    """A strategy: the generated case as it is, or with the ids it names (path, query, body) swapped for ids of
    objects that exist, so that the call reaches the services instead of stopping at a 404."""
    from hypothesis import strategies as st

    containers = [c for c in (case.path_parameters, case.query, case.body) if isinstance(c, dict)]
    slots = [(c, key) for c in containers for key in c if key in POOL_OF]
    if not slots:
        return st.just(case)

    def swap(values: list[Any]) -> Any:
        for (container, key), value in zip(slots, values, strict=True):
            container[key] = value
        return case

    real = st.tuples(*(st.sampled_from(pools[POOL_OF[key]]) for _, key in slots)).map(lambda v: swap(list(v)))
    return st.one_of(real, st.just(case))


def _run(operation: Any, mode: Any, headers: dict[str, str], pools: dict[str, list[Any]]) -> list[str]:
    from hypothesis import HealthCheck, Phase, given, settings

    failures: list[str] = []
    strategy = operation.as_strategy(generation_mode=mode).flatmap(lambda case: _with_real_ids(case, pools))

    @settings(
        max_examples=EXAMPLES_PER_KIND,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: every failure is reported as found
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def call(case: Any) -> None:
        response = case.call(headers=headers)
        problem = _problem(response)
        if problem is not None and len(failures) < 3:
            failures.append(f"{case.method} {case.formatted_path} {case.query or ''} {str(case.body)[:200]}: {problem}")

    call()
    return failures


@pytest.mark.slow
def test_no_request_costs_a_server_error_and_every_error_has_the_shape(client, settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.signals import request_finished, request_started
    from django.core.wsgi import get_wsgi_application
    from django.db import close_old_connections

    settings.AXES_ENABLED = False  # the fuzzer's wrong passwords must not lock the users out
    ground = _ground()
    tokens = {name: _token(client, user) for name, user in ground["users"].items()}  # before the signals go
    app = get_wsgi_application()
    # As Django's test client does: a request must not close the test's connection (its transaction holds the data).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        failures = _fuzz(app, tokens, ground["pools"])
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert not failures, "\n".join(failures)


def _fuzz(app: Any, tokens: dict[str, str], pools: dict[str, list[Any]]) -> list[str]:
    from django.core.cache import cache
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 50
    for name, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        for operation in operations:
            cache.clear()  # the anonymous endpoints' rate limits
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                try:
                    found = _run(operation, mode, headers, pools)
                except Exception as exc:  # a strategy schemathesis cannot build, or a request it cannot send
                    found = [f"{operation.label}: {type(exc).__name__}: {str(exc)[:300]}"]
                failures += [f"[{name}, {mode.value}] {f}" for f in found]
    return failures
