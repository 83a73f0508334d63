from django.urls import path

from gongzhi.disputes import views

urlpatterns = [
    path("", views.desk, name="disputes-desk"),
    path("all/", views.dispute_list, name="disputes-list"),
    path("new/", views.dispute_new, name="disputes-new"),
    path("<int:dispute_id>/", views.detail, name="disputes-detail"),
    path("<int:dispute_id>/parties/", views.party_add, name="disputes-party-add"),
    path("<int:dispute_id>/sessions/", views.session_add, name="disputes-session-add"),
    path("<int:dispute_id>/escalate/", views.escalate, name="disputes-escalate"),
    path("<int:dispute_id>/act/", views.act, name="disputes-act"),
    path("<int:dispute_id>/agreement/", views.agreement_draft, name="disputes-agreement"),
    path("<int:dispute_id>/sign/", views.agreement_sign, name="disputes-sign"),
    path("<int:dispute_id>/follow-up/", views.follow_up, name="disputes-follow-up"),
    path("parties/<int:party_id>/reveal/", views.party_reveal, name="disputes-party-reveal"),
    path("agreements/<int:agreement_id>/print/", views.agreement_print, name="disputes-agreement-print"),
    path("notices/", views.notices, name="disputes-notices"),
    path("notices/new/", views.notice_new, name="disputes-notice-new"),
    path("notices/<int:notice_id>/", views.notice, name="disputes-notice"),
    path("notices/<int:notice_id>/act/", views.notice_act, name="disputes-notice-act"),
    path("notices/<int:notice_id>/answer/", views.notice_answer, name="disputes-notice-answer"),
]

# The names disputes/notify.py links to ("disputes:detail", "disputes:notice"): the same pages, namespaced.
namespaced = (
    [
        path("<int:dispute_id>/", views.detail, name="detail"),
        path("notices/<int:notice_id>/", views.notice, name="notice"),
    ],
    "disputes",
)
