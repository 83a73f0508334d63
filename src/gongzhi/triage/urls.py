from django.urls import path

from gongzhi.triage import views

urlpatterns = [
    path("", views.home, name="triage-home"),
    path("train/", views.train_now, name="triage-train"),
    path("versions/<int:version_id>/activate/", views.activate, name="triage-activate"),
    path("desk/", views.desk_suggestions, name="triage-desk"),
    path("cases/<int:case_id>/suggestions/", views.case_suggestions, name="triage-case-suggestions"),
]
