from django.urls import path

from gongzhi.participation import views

urlpatterns = [
    path("", views.need_list, name="participation-needs"),
    path("resources/", views.resource_list, name="participation-resources"),
    path("projects/", views.project_list, name="participation-projects"),
    path("needs/new/", views.need_new, name="participation-need-new"),
    path("needs/<int:need_id>/", views.need_detail, name="participation-need"),
    path("needs/<int:need_id>/suggestions/", views.need_suggestions, name="participation-need-suggestions"),
    path("needs/<int:need_id>/confirm/", views.need_confirm, name="participation-need-confirm"),
    path("needs/<int:need_id>/claim/", views.need_claim, name="participation-need-claim"),
    path("resources/new/", views.resource_new, name="participation-resource-new"),
    path("resources/<int:resource_id>/", views.resource_detail, name="participation-resource"),
    path("projects/<int:project_id>/", views.project_detail, name="participation-project"),
    path("projects/<int:project_id>/progress/", views.project_progress, name="participation-project-progress"),
    path("projects/<int:project_id>/accept/", views.project_accept, name="participation-project-accept"),
    path("units/mine/", views.mine, name="participation-mine"),
    path("units/<int:unit_id>/", views.unit_detail, name="participation-unit"),
    path("units/<int:unit_id>/export.xlsx", views.unit_export, name="participation-unit-export"),
]
