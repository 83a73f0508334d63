from django.urls import path

from gongzhi.meetings import views

urlpatterns = [
    path("", views.meeting_list, name="meetings-list"),
    path("new/", views.meeting_new, name="meetings-new"),
    path("<int:meeting_id>/", views.meeting_detail, name="meetings-detail"),
    path("<int:meeting_id>/<slug:action>/", views.meeting_action, name="meetings-action"),
    path("decisions/<int:decision_id>/", views.decision, name="meetings-decision"),
    path("topics/", views.topics, name="meetings-topics"),
    path("sign-in/<str:token>/", views.sign_in, name="meetings-sign-in"),
    path("series/", views.series, name="meetings-series"),
    path("figures/", views.figures, name="meetings-figures"),
    path("figures/records/", views.records, name="meetings-records"),
    path("public/", views.public_index, name="meetings-public-index"),
    path("public/<str:code>/", views.public, name="meetings-public"),
]
