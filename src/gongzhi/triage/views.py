"""The triage fragment of a case page: the model's suggestions while the case waits to be dispatched (composed by
HTMX: cases cannot import triage). Nothing when the case is past dispatch, out of reach, or no model is in use."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from gongzhi.core.http import AuthedRequest
from gongzhi.triage import selectors


@login_required
def case_suggestions(request: AuthedRequest, case_id: int) -> HttpResponse:
    result = selectors.case_suggestions(user=request.user, case_id=case_id)
    return render(request, "triage/_case_suggestions.html", {"result": result})
