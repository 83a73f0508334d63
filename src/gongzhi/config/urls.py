from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _

from gongzhi.config import pwa, workbench
from gongzhi.config.api import api
from gongzhi.core.errors import NotFound
from gongzhi.core.messages import fmt
from gongzhi.disputes import urls as disputes_urls


def api_not_found(request: HttpRequest, rest: str = "") -> JsonResponse:
    """An API path that names no endpoint: the API's error shape, not the site's HTML 404 page."""
    error = NotFound(
        fmt(_("No API endpoint %(method)s %(path)s; see /api/v1/docs."), method=request.method, path=request.path)
    )
    return JsonResponse(error.as_dict(), status=404)


urlpatterns = [
    path("api/v1/", api.urls),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", workbench.home, name="home"),  # each role's workbench
    # The offline app (docs/offline.md): the manifest and the service worker at the root, the phone's outbox.
    path("manifest.webmanifest", pwa.manifest, name="pwa-manifest"),
    path("sw.js", pwa.service_worker, name="pwa-sw"),
    path("outbox/", pwa.outbox, name="pwa-outbox"),
    path("offline/", pwa.offline, name="pwa-offline"),
    path("", include("gongzhi.accounts.urls")),
    path("territory/", include("gongzhi.territory.urls")),
    path("cases/", include("gongzhi.cases.urls")),
    path("registry/", include("gongzhi.registry.urls")),
    path("visits/", include("gongzhi.visits.urls")),
    path("notices/", include("gongzhi.notices.urls")),
    path("posts/", include("gongzhi.service.urls")),
    path("recognition/", include("gongzhi.recognition.urls")),
    path("inspections/", include("gongzhi.inspections.urls")),
    path("participation/", include("gongzhi.participation.urls")),
    path("meetings/", include("gongzhi.meetings.urls")),
    path("triage/", include("gongzhi.triage.urls")),
    path("messages/", include("gongzhi.messaging.urls")),
    path("kpis/", include("gongzhi.kpis.urls")),
    path("disputes/", include("gongzhi.disputes.urls")),
    path("open311/v2/", include("gongzhi.open311.urls")),  # GeoReport v2 for outside apps (docs/open311.md)
    path("disputes/", include(disputes_urls.namespaced)),  # notify.py's "disputes:detail" / "disputes:notice"
]
