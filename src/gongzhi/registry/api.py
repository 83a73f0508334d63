from __future__ import annotations

from typing import Any

from ninja import Router
from ninja.pagination import PageNumberPagination, paginate

from gongzhi.accounts.schemas import RevealOut
from gongzhi.core.http import ApiRequest
from gongzhi.registry import selectors, services
from gongzhi.registry.schemas import MoveIn, PersonDetailOut, PersonIn, PersonOut, PersonPatch, PersonRevealIn

people_router = Router(tags=["registry"])
households_router = Router(tags=["registry"])
organisations_router = Router(tags=["registry"])


@people_router.get("", response=list[PersonOut], summary="Residents in scope (ID numbers and phones masked)")
@paginate(PageNumberPagination)
def people(  # type: ignore[no-untyped-def]
    request: ApiRequest,
    q: str | None = None,
    household_id: int | None = None,
    within_id: int | None = None,
    population_type: str | None = None,
    tag: str | None = None,
):
    return selectors.person_list(
        user=request.auth,
        q=q,
        household_id=household_id,
        within_id=within_id,
        population_type=population_type,
        tag=tag,
    )


def _detail(user: Any, person_id: int) -> Any:
    return selectors.person_get(user=user, person_id=person_id)


@people_router.post("", response={201: PersonDetailOut}, summary="Register a resident in a household")
def person_create(request: ApiRequest, payload: PersonIn):  # type: ignore[no-untyped-def]
    person = services.create_person(actor=request.auth, **payload.dict())
    return 201, _detail(request.auth, person.pk)


@people_router.get("/{person_id}", response=PersonDetailOut)
def person_detail(request: ApiRequest, person_id: int) -> Any:
    return _detail(request.auth, person_id)


@people_router.patch("/{person_id}", response=PersonDetailOut)
def person_update(request: ApiRequest, person_id: int, payload: PersonPatch) -> Any:
    services.update_person(actor=request.auth, person_id=person_id, **payload.dict(exclude_unset=True))
    return _detail(request.auth, person_id)


@people_router.post("/{person_id}/move", response=PersonOut, summary="Move to another household (history kept)")
def person_move(request: ApiRequest, person_id: int, payload: MoveIn) -> Any:
    person = services.move_person(actor=request.auth, person_id=person_id, **payload.dict())
    return selectors.person_list(user=request.auth, include_inactive=True).filter(pk=person.pk).first() or person


@people_router.post("/{person_id}/reveal", response=RevealOut, summary="Reveal an ID number or phone (audited)")
def person_reveal(request: ApiRequest, person_id: int, payload: PersonRevealIn) -> RevealOut:
    value = services.reveal_person_field(actor=request.auth, person_id=person_id, field=payload.field)
    return RevealOut(field=payload.field, value=value)


@households_router.get("/{household_id}/members", response=list[PersonOut], summary="Who lives in a household")
def household_members(request: ApiRequest, household_id: int) -> Any:
    return list(selectors.household_members(user=request.auth, household_id=household_id))
