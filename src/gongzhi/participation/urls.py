from django.urls import path

from gongzhi.participation import views, wish_views

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
    # 微心愿 (点亮心愿): the wishes of the user's ground, a wish's page and its actions
    path("wishes/", wish_views.wish_list, name="participation-wishes"),
    path("wishes/new/", wish_views.wish_new, name="participation-wish-new"),
    path("wishes/<int:wish_id>/", wish_views.wish_detail, name="participation-wish"),
    path("wishes/<int:wish_id>/claim/", wish_views.wish_claim, name="participation-wish-claim"),
    path("wishes/<int:wish_id>/give-up/", wish_views.wish_give_up, name="participation-wish-give-up"),
    path("wishes/<int:wish_id>/fulfil/", wish_views.wish_fulfil, name="participation-wish-fulfil"),
    path("wishes/<int:wish_id>/confirm/", wish_views.wish_confirm, name="participation-wish-confirm"),
    path("wishes/<int:wish_id>/withdraw/", wish_views.wish_withdraw, name="participation-wish-withdraw"),
    path("wishes/<int:wish_id>/reveal/", wish_views.wish_reveal, name="participation-wish-reveal"),
    path("wishes/<int:wish_id>/photo/", wish_views.wish_photo, name="participation-wish-photo"),
    # Public, no account: the communities' wish walls (心愿墙) and projects' progress
    path("public/", wish_views.public_index, name="participation-public"),
    path("public/<str:code>/wishes/", wish_views.public_wall, name="participation-public-wall"),
    path("public/<str:code>/projects/", wish_views.public_projects, name="participation-public-projects"),
    path("public/<str:code>/photos/<int:report_id>/", wish_views.public_photo, name="participation-public-photo"),
]
