from django.urls import path

from gongzhi.triage import views

urlpatterns = [
    path("cases/<int:case_id>/suggestions/", views.case_suggestions, name="triage-case-suggestions"),
]
