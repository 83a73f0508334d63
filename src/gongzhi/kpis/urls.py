from django.urls import path

from gongzhi.kpis import dispute_views, participation_views, report_views, views

urlpatterns = [
    path("", views.dashboard, name="kpis-dashboard"),
    path("map.json", views.map_data, name="kpis-map-data"),
    path("screen/", views.screen, name="kpis-screen"),
    path("screen/data.json", views.screen_data, name="kpis-screen-data"),
    path("cases/", views.drill, name="kpis-drill"),
    path("me/", views.me, name="kpis-me"),
    path("participation/", participation_views.figures, name="kpis-participation"),
    path("disputes/", dispute_views.figures, name="kpis-disputes"),
    path("disputes/list/", dispute_views.drill, name="kpis-disputes-drill"),
    path("reports/", report_views.reports, name="kpis-reports"),
    path("reports/month/", report_views.month, name="kpis-report-month"),
    path("reports/month.xlsx", report_views.month_xlsx, name="kpis-report-month-xlsx"),
    path("reports/<int:report_id>/download/", report_views.download, name="kpis-report-download"),
]
