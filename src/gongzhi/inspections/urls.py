from django.urls import path

from gongzhi.inspections import views

urlpatterns = [
    path("", views.home, name="inspections-home"),
    path("rounds/<int:round_id>/", views.round_view, name="inspections-round"),
    path("hazards/", views.hazards, name="inspections-hazards"),
    path("hazards/<int:hazard_id>/", views.hazard, name="inspections-hazard"),
    path("hazards/<int:hazard_id>/recheck/", views.hazard_recheck, name="inspections-recheck"),
    path("hazards/<int:hazard_id>/case/", views.hazard_case, name="inspections-hazard-case"),
    path("buildings/<int:building_id>/", views.building, name="inspections-building"),
    path("buildings/<int:building_id>/site/", views.building_site, name="inspections-site"),
    path("cases/<int:case_id>/hazards/", views.case_hazards, name="inspections-case-hazards"),
    path("photos/<int:photo_id>/", views.photo, name="inspections-photo"),
    path("figures/", views.figures, name="inspections-figures"),
    path("figures/panel/", views.place_figures, name="inspections-place-figures"),
    path("figures/records/", views.records, name="inspections-records"),
    path("checklists/", views.checklists, name="inspections-checklists"),
    path("checklists/<int:checklist_id>/items/", views.checklist_item, name="inspections-item"),
    path("plans/", views.plans, name="inspections-plans"),
]
