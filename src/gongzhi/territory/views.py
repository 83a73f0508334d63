from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongzhi.territory import selectors


@login_required
def browser(request: HttpRequest) -> HttpResponse:
    return render(request, "territory/browser.html", {"roots": selectors.scope_roots(user=request.user)})
