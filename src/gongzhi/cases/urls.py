from django.urls import path

from gongzhi.cases import views

urlpatterns = [
    path("", views.todo, name="cases-todo"),
]
