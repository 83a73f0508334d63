from django.urls import path

from gongzhi.recognition import views

urlpatterns = [
    path("", views.campaign_list, name="recognition-campaigns"),
    path("new/", views.campaign_new, name="recognition-campaign-new"),
    path("<int:campaign_id>/", views.campaign_detail, name="recognition-campaign"),
    path("<int:campaign_id>/nominate/", views.nominate, name="recognition-nominate"),
    path("<int:campaign_id>/<str:action>/", views.campaign_act, name="recognition-campaign-act"),
    path("nominations/<int:nomination_id>/<str:action>/", views.nomination_act, name="recognition-nomination-act"),
    path("households/<int:household_id>/", views.household_fragment, name="recognition-household"),
    path("people/<int:person_id>/", views.person_fragment, name="recognition-person"),
    # Public, no account: campaigns open to voting (the phone page) and published results.
    path("public/", views.public_index, name="recognition-public-index"),
    path("public/<int:campaign_id>/", views.public_campaign, name="recognition-public"),
    path("public/<int:campaign_id>/results/", views.public_results, name="recognition-public-results"),
]
