from django.contrib import admin
from django.urls import include, path

from gongzhi.config.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("gongzhi.accounts.urls")),
    path("territory/", include("gongzhi.territory.urls")),
    path("cases/", include("gongzhi.cases.urls")),
    path("registry/", include("gongzhi.registry.urls")),
    path("visits/", include("gongzhi.visits.urls")),
    path("notices/", include("gongzhi.notices.urls")),
    path("kpis/", include("gongzhi.kpis.urls")),
]
