from django.urls import path

from gongzhi.registry import views

urlpatterns = [
    path("", views.people, name="registry-people"),
    path("export/<slug:kind>.xlsx", views.export, name="registry-export"),
    path("exports/<int:job_id>/", views.export_job, name="registry-export-job"),
    path("exports/<int:job_id>/file.xlsx", views.export_job_file, name="registry-export-job-file"),
    path("people/<int:person_id>/", views.person, name="registry-person"),
    path("people/<int:person_id>/reveal/", views.reveal, name="registry-reveal"),
    path("people/<int:person_id>/tags/", views.tag, name="registry-tag"),
    path("tags/<int:tag_id>/end/", views.untag, name="registry-untag"),
    path("households/<int:household_id>/", views.household, name="registry-household"),
    path("import/", views.import_page, name="registry-import"),
    path("import/template/<slug:kind>.xlsx", views.import_template, name="registry-import-template"),
    path("import/<int:run_id>/", views.import_result, name="registry-import-result"),
    path("import/<int:run_id>/bad-rows.xlsx", views.import_bad_rows, name="registry-import-bad-rows"),
    path("party-members/", views.party_members, name="registry-party-members"),
    path("organisations/", views.organisations, name="registry-organisations"),
    path("organisations/<int:body_id>/", views.organisation, name="registry-organisation"),
    path("organisations/<int:body_id>/contacts/", views.contact_add, name="registry-contact-add"),
    path("organisations/<int:body_id>/contacts/<int:contact_id>/", views.contact_edit, name="registry-contact-edit"),
    path(
        "organisations/<int:body_id>/contacts/<int:contact_id>/remove/",
        views.contact_remove,
        name="registry-contact-remove",
    ),
    path(
        "organisations/<int:body_id>/contacts/<int:contact_id>/reveal/",
        views.contact_reveal,
        name="registry-contact-reveal",
    ),
    path("organisations/<int:body_id>/agreements/", views.agreement_add, name="registry-agreement-add"),
    path(
        "organisations/<int:body_id>/agreements/<int:agreement_id>/",
        views.agreement_edit,
        name="registry-agreement-edit",
    ),
    path(
        "organisations/<int:body_id>/agreements/<int:agreement_id>/end/",
        views.agreement_end,
        name="registry-agreement-end",
    ),
]
