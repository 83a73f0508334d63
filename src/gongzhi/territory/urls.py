from django.urls import path

from gongzhi.territory import views

urlpatterns = [
    path("", views.browser, name="territory-browser"),
]
