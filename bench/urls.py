"""The project's URL conf plus ``/bench/ping``, a bare JSON view (no database, no authentication).

Should the project's URL conf not import (an app's views half-written in a working tree), the apps whose URLs do
import are served and the failure is reported by ``bench.run`` (``meta.urlconf``); a committed tree never needs it.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def ping(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


try:
    from gongzhi.config.urls import urlpatterns as project_urlpatterns

    BROKEN: list[str] = []
except Exception:
    from django.contrib import admin

    from gongzhi.config.api import api

    project_urlpatterns = [path("api/v1/", api.urls), path("admin/", admin.site.urls),
                           path("i18n/", include("django.conf.urls.i18n"))]  # fmt: skip
    BROKEN = []
    for prefix, module in (("", "accounts"), ("territory/", "territory"), ("cases/", "cases"),
                           ("registry/", "registry"), ("visits/", "visits"), ("notices/", "notices"),
                           ("kpis/", "kpis")):  # fmt: skip
        try:
            project_urlpatterns.append(path(prefix, include(f"gongzhi.{module}.urls")))
        except Exception:
            BROKEN.append(module)

urlpatterns = [path("bench/ping", ping), *project_urlpatterns]
