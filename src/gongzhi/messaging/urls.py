from django.urls import path

from gongzhi.messaging import views

urlpatterns = [
    path("", views.inbox, name="messaging-inbox"),
    path("bell/", views.bell, name="messaging-bell"),
    path("read-all/", views.read_all, name="messaging-read-all"),
    path("<int:message_id>/open/", views.open_message, name="messaging-open"),
    path("preferences/", views.preferences, name="messaging-preferences"),
    path("deliveries/", views.deliveries, name="messaging-deliveries"),
    path("deliveries/<int:delivery_id>/resend/", views.resend, name="messaging-resend"),
    path("role-defaults/", views.role_defaults, name="messaging-role-defaults"),
    path("duty-groups/", views.duty_groups, name="messaging-duty-groups"),
]
