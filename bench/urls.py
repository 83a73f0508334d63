"""The project's URL conf plus ``/bench/ping``, a bare JSON view (no database, no authentication)."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from gongzhi.config.urls import urlpatterns as project_urlpatterns


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/ping", ping), *project_urlpatterns]
