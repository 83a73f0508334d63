"""Triage API: suggestions for a ticket's words, or for a case (top bodies and categories, each with the words that
weighed most). Only bodies and cases the user may see."""

from dataclasses import asdict
from typing import Any

from ninja import Router

from gongzhi.core.http import ApiRequest
from gongzhi.core.schemas import Int64
from gongzhi.territory import selectors as territory
from gongzhi.triage import selectors
from gongzhi.triage.schemas import SuggestIn, SuggestOut

router = Router(tags=["triage"])


@router.post("/suggest", response=SuggestOut)
def suggest(request: ApiRequest, payload: SuggestIn) -> Any:
    node_code = ""
    if payload.place_id is not None:
        node_code = territory.node_get(user=request.auth, node_id=payload.place_id).code
    return asdict(selectors.suggest(user=request.auth, text=payload.text, node_code=node_code))


@router.get("/cases/{case_id}/suggestions", response=SuggestOut)
def case_suggestions(request: ApiRequest, case_id: Int64) -> Any:
    """The suggestions for a case the user may see (404 otherwise, as for the case itself)."""
    return asdict(selectors.case_suggestions_api(user=request.auth, case_id=case_id))
