from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gongzhi.cases import selectors


@login_required
def todo(request: HttpRequest) -> HttpResponse:
    return render(request, "cases/todo.html", {"cases": selectors.todo(user=request.user)[:100]})
