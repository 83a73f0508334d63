from django.urls import path

from gongzhi.notices import views

urlpatterns = [
    path("", views.notice_list, name="notices-list"),
    path("new/", views.notice_new, name="notices-new"),
    path("<int:notice_id>/", views.notice_detail, name="notices-detail"),
    path("deliveries/<int:delivery_id>/confirm/", views.delivery_confirm, name="notices-confirm"),
    # Residents, no account: the read link.
    path("r/<str:token>/", views.notice_read, name="notices-read"),
]
