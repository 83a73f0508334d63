from django.urls import path

from gongzhi.accounts import views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("accounts/staff/<int:node_id>/", views.staff, name="accounts-staff"),
    path("accounts/users/<int:user_id>/reveal/", views.reveal_phone, name="accounts-reveal"),
    path("accounts/tokens/<int:token_id>/revoke/", views.token_revoke, name="accounts-token-revoke"),
]
