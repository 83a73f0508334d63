from django.urls import path

from gongzhi.visits import views

urlpatterns = [
    path("", views.home, name="visits-home"),
    path("households/<int:household_id>/", views.household, name="visits-household"),
    path("households/<int:household_id>/record/", views.record, name="visits-record"),
    path("campaigns/", views.campaigns, name="visits-campaigns"),
    path("campaigns/new/", views.campaign_new, name="visits-campaign-new"),
    path("campaigns/<int:campaign_id>/", views.campaign, name="visits-campaign"),
    path("campaigns/<int:campaign_id>/coverage/", views.campaign_coverage, name="visits-campaign-coverage"),
    path("campaigns/<int:campaign_id>/uncovered/", views.campaign_uncovered, name="visits-campaign-uncovered"),
    path("campaigns/<int:campaign_id>/close/", views.campaign_close, name="visits-campaign-close"),
    path("care/", views.care, name="visits-care"),
    path("care/people/", views.care_people, name="visits-care-people"),
    path("care/new/", views.care_new, name="visits-care-new"),
    path("care/<int:care_plan_id>/end/", views.care_end, name="visits-care-end"),
]
