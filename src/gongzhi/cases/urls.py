from django.urls import path

from gongzhi.cases import views

urlpatterns = [
    path("", views.todo, name="cases-todo"),
    path("new/", views.report, name="cases-report"),
    path("similar/", views.similar, name="cases-similar"),
    path("desk/", views.desk, name="cases-desk"),
    path("desk/dispatch/", views.desk_dispatch, name="cases-desk-dispatch"),
    path("overdue/", views.overdue, name="cases-overdue"),
    path("list/", views.case_list, name="cases-list"),
    path("hotline/", views.hotline_import, name="cases-hotline"),
    # Residents with an account: 我要反映 and 我的反映.
    path("mine/", views.mine, name="cases-mine"),
    path("mine/new/", views.my_report, name="cases-my-report"),
    path("mine/<int:case_id>/", views.mine_detail, name="cases-mine-detail"),
    path("mine/<int:case_id>/rate/", views.mine_rate, name="cases-mine-rate"),
    path("attachments/<int:attachment_id>/", views.attachment, name="cases-attachment"),
    path("<int:case_id>/", views.detail, name="cases-detail"),
    path("<int:case_id>/act/<slug:action>/", views.act, name="cases-act"),
    path("<int:case_id>/note/", views.add_note, name="cases-note"),
    path("<int:case_id>/photos/", views.attach, name="cases-attach"),
    path("<int:case_id>/hand-over/", views.hand_over, name="cases-hand-over"),
    path("<int:case_id>/reveal/", views.reveal, name="cases-reveal"),
    path("<int:case_id>/category/", views.confirm_category, name="cases-category"),
    # Residents, no account.
    path("public/report/", views.public_report, name="cases-public-report"),
    path("public/report/done/", views.public_report_done, name="cases-public-report-done"),
    path("public/track/", views.public_track, name="cases-public-track"),
    path("public/rate/", views.public_rate, name="cases-public-rate"),
]
