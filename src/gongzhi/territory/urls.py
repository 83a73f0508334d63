from django.urls import path

from gongzhi.territory import views

urlpatterns = [
    path("", views.browser, name="territory-browser"),
    path("nodes/<int:node_id>/", views.node_page, name="territory-node"),
    path("nodes/<int:node_id>/children/", views.node_children, name="territory-node-children"),
    path("nodes/<int:node_id>/panel/", views.node_panel, name="territory-node-panel"),
]
