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
