from django.urls import path

from gongzhi.service import views

urlpatterns = [
    path("", views.post_list, name="service-posts"),
    path("new/", views.post_new, name="service-post-new"),
    path("<int:post_id>/", views.post_detail, name="service-post"),
    path("<int:post_id>/claim/", views.claim, name="service-claim"),
    path("claims/<int:claim_id>/give-up/", views.give_up, name="service-give-up"),
    path("claims/<int:claim_id>/serve/", views.serve, name="service-serve"),
    path("services/<int:service_id>/confirm/", views.confirm, name="service-confirm"),
    path("mine/", views.mine, name="service-mine"),
    path("rate/", views.rate, name="service-rate"),
    path("rate/members/", views.rate_members, name="service-rate-members"),
    path("report/", views.report, name="service-report"),
]

urlpatterns += [
    path("volunteers/", views.volunteer_list, name="service-volunteers"),
    path("volunteers/new/", views.volunteer_new, name="service-volunteer-new"),
    path("volunteers/mine/", views.volunteer_mine, name="service-volunteer-mine"),
    path("volunteers/figures/", views.volunteer_figures, name="service-volunteer-figures"),
    path("volunteers/figures/volunteers/", views.figure_volunteers, name="service-figure-volunteers"),
    path("volunteers/figures/served/", views.figure_served, name="service-figure-served"),
    path("volunteers/<int:volunteer_id>/", views.volunteer_detail, name="service-volunteer"),
    path("teams/", views.team_list, name="service-teams"),
    path("activities/", views.activity_list, name="service-activities"),
    path("activities/new/", views.activity_new, name="service-activity-new"),
    path("activities/<int:activity_id>/", views.activity_detail, name="service-activity"),
    path("activities/<int:activity_id>/sign-up/", views.activity_sign_up, name="service-activity-sign-up"),
    path("activities/<int:activity_id>/qr/", views.activity_qr, name="service-activity-qr"),
    path("activities/<int:activity_id>/check/<str:code>/", views.activity_check, name="service-activity-check"),
    path("activities/<int:activity_id>/served/", views.activity_served, name="service-activity-served"),
    path("sign-ups/<int:signup_id>/<str:action>/", views.signup_action, name="service-signup-action"),
]
