"""The dispute pages: the desk, the list and its filters, a dispute with its parties masked and its private notes
only for those allowed, each step's form, the printable agreement, and the police loop's pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.core.models import AuditLog
from gongzhi.disputes import services, workflow
from gongzhi.disputes.models import Agreement, Dispute, PoliceNotice, Session
from gongzhi.disputes.services import PartyIn

pytestmark = pytest.mark.django_db
LOCAL = "%Y-%m-%dT%H:%M"


def _dispute(w, **kw):  # type: ignore[no-untyped-def]
    return services.register_dispute(
        actor=w.worker, kind_id=w.kind.pk, summary=kw.pop("summary", "楼上漏水"), node_id=w.tree.grids[0].pk,
        parties=[PartyIn(name="张三", phone="13812345678", id_number="210113199001011234"),
                 PartyIn(role="respondent", name="李四", phone="13900001111")], **kw,
    )  # fmt: skip


def _at_station(w):  # type: ignore[no-untyped-def]
    d = _dispute(w)
    workflow.perform(actor=w.worker, dispute_id=d.pk, action="escalate", note="现场调解不成")
    services.assign_mediators(actor=w.operator, dispute_id=d.pk, user_ids=[w.mediator.pk])
    return Dispute.objects.get(pk=d.pk)


def test_menu_offers_mediation_to_mediator_and_notices_to_police(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.mediator)
    html = client.get(reverse("home")).content.decode()
    assert 'id="nav-disputes"' in html and 'id="nav-police-notices"' not in html
    client.force_login(world.police)
    html = client.get(reverse("home")).content.decode()
    assert 'id="nav-police-notices"' in html and 'id="nav-disputes"' not in html
    client.force_login(user_with_role(Role.RESIDENT))
    assert client.get(reverse("disputes-desk")).status_code == 403
    assert client.get(reverse("disputes-notices")).status_code == 403


def test_desk_shows_my_disputes_sessions_and_follow_ups(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)
    services.record_session(actor=w.mediator, dispute_id=d.pk, held_at=timezone.now(), mode="separate")
    other = _dispute(w, summary="别人的纠纷")
    client.force_login(w.mediator)
    html = client.get(reverse("disputes-desk")).content.decode()
    assert d.number in html and other.number not in html.split('id="block-sessions"')[0]
    assert "背对背" in html  # this week's session, its mode in Chinese


def test_list_filters_by_risk_kind_tier_and_place(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    green = _dispute(w, summary="绿色纠纷")
    red = _dispute(w, summary="红色纠纷", risk="red")
    client.force_login(w.operator)
    url = reverse("disputes-list")
    html = client.get(url, {"risk": "red"}).content.decode()
    assert red.number in html and green.number not in html
    html = client.get(url, {"tier": "1"}).content.decode()
    assert green.number in html and red.number not in html  # red started at the station (tier 2)
    html = client.get(url, {"place": w.tree.communities[1].code}).content.decode()
    assert green.number not in html and red.number not in html
    html = client.get(url, {"ids": str(green.pk)}).content.decode()
    assert green.number in html and red.number not in html
    r = client.get(url, {"risk": "red", "partial": "1"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "<html" not in r.content.decode() and red.number in r.content.decode()


def test_parties_masked_and_hidden_outside_the_circle(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _dispute(w)
    client.force_login(w.worker)  # the handling grid: sees the parties, masked
    html = client.get(reverse("disputes-detail", args=[d.pk])).content.decode()
    assert "张三" in html and "138****5678" in html and "13812345678" not in html
    workflow.perform(actor=w.worker, dispute_id=d.pk, action="escalate", note="现场调解不成")
    workflow.perform(actor=w.operator, dispute_id=d.pk, action="escalate", note="诉调对接",
                     payload={"body_id": w.court.pk, "referral_kind": "court"})  # fmt: skip
    html = client.get(reverse("disputes-detail", args=[d.pk])).content.decode()  # referred: the place, not who
    assert "张三" not in html and 'id="parties-hidden"' in html
    client.force_login(w.other_worker)  # another community's grid: nothing at all
    assert client.get(reverse("disputes-detail", args=[d.pk])).status_code == 404


def test_reveal_party_is_audited(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)
    party = d.parties.get(name="张三")
    client.force_login(w.mediator)
    r = client.post(reverse("disputes-party-reveal", args=[party.pk]), HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "13812345678" in r.content.decode()
    assert AuditLog.objects.filter(action="disputes.reveal_party").exists()


def test_private_notes_only_for_mediators_and_station(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)
    services.record_session(actor=w.mediator, dispute_id=d.pk, held_at=timezone.now(), mode="separate",
                            summary="分别听取意见", private_notes="申请人底线三千元")  # fmt: skip
    client.force_login(w.mediator)
    assert "申请人底线三千元" in client.get(reverse("disputes-detail", args=[d.pk])).content.decode()
    client.force_login(w.worker)  # the grid that held it on site: the session, not its notes
    html = client.get(reverse("disputes-detail", args=[d.pk])).content.decode()
    assert "分别听取意见" in html and "申请人底线三千元" not in html


def test_create_dispute_form(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    client.force_login(w.worker)
    r = client.post(reverse("disputes-new"), {
        "kind": w.kind.pk, "summary": "噪音扰民", "facts": "", "place": w.tree.grids[0].pk, "address": "",
        "risk": "yellow", "source": "walk_in", "applicant": "王五", "applicant_phone": "13711112222",
        "respondent": "赵六", "respondent_phone": "", "mediate_myself": "on",
    })  # fmt: skip
    d = Dispute.objects.get(summary="噪音扰民")
    assert r.status_code == 302 and r["Location"] == reverse("disputes-detail", args=[d.pk])
    assert d.risk == "yellow" and d.parties.count() == 2
    r = client.post(reverse("disputes-new"), {"kind": w.kind.pk, "summary": "", "risk": "green", "source": "walk_in"})
    assert r.status_code == 200 and 'data-field="summary"' in r.content.decode()


def test_session_escalate_agreement_sign_follow_up_forms(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _dispute(w)
    ids = list(d.parties.values_list("pk", flat=True))
    client.force_login(w.worker)
    now = timezone.localtime()
    r = client.post(reverse("disputes-session-add", args=[d.pk]), {
        "s-held_at": now.strftime(LOCAL), "s-mode": "face_to_face", "s-where": "网格工作站",
        "s-attendees": [str(i) for i in ids], "s-summary": "现场调解", "s-result": "no_agreement",
    })  # fmt: skip
    assert r.status_code == 302 and Session.objects.filter(dispute=d).count() == 1
    r = client.post(reverse("disputes-escalate", args=[d.pk]), {"e-reason": ""})
    assert r.status_code == 400
    r = client.post(reverse("disputes-escalate", args=[d.pk]), {"e-reason": "现场调解不成，移交综治站"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.tier == 2 and d.escalations.get().reason == "现场调解不成，移交综治站"
    client.force_login(w.mediator)  # the station's team (the tier's body) takes over
    for mode in ("face_to_face", "separate"):
        r = client.post(reverse("disputes-session-add", args=[d.pk]), {
            "s-held_at": now.strftime(LOCAL), "s-mode": mode, "s-attendees": [str(i) for i in ids],
            "s-result": "progress",
        })  # fmt: skip
        assert r.status_code == 302, r.content.decode()[:2000]
    r = client.post(reverse("disputes-agreement", args=[d.pk]), {
        "a-facts": "楼上漏水致楼下受损", "a-term_1": "李四赔偿张三维修费三千元", "a-how_1": "现金",
        "a-by_1": (now.date() + timedelta(days=7)).isoformat(), "a-follow_up_days": "30",
    })  # fmt: skip
    assert r.status_code == 302, r.content.decode()[:3000]
    agreement = Agreement.objects.get(dispute=d)
    r = client.post(reverse("disputes-sign", args=[d.pk]), {"g-signed_on": now.date().isoformat(),
                                                            "g-signed": [str(i) for i in ids]})  # fmt: skip
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == "agreed" and d.resolved_tier == 2
    html = client.get(reverse("disputes-agreement-print", args=[agreement.pk])).content.decode()
    assert "人民调解协议书" in html and "李四赔偿张三维修费三千元" in html and "138****5678" in html
    r = client.post(reverse("disputes-follow-up", args=[d.pk]), {"f-performance": "performed", "f-note": "已履行"})
    assert r.status_code == 302
    d.refresh_from_db()
    assert d.status == "closed"


def test_agreement_print_is_404_outside_the_circle(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _dispute(w)
    workflow.perform(actor=w.worker, dispute_id=d.pk, action="start")
    a = services.draft_agreement(actor=w.worker, dispute_id=d.pk, terms=[{"text": "互相谅解"}])
    workflow.perform(actor=w.worker, dispute_id=d.pk, action="escalate", note="现场调解不成")
    workflow.perform(actor=w.operator, dispute_id=d.pk, action="escalate", note="诉调对接",
                     payload={"body_id": w.court.pk, "referral_kind": "court"})  # fmt: skip
    client.force_login(w.worker)  # the grid, once it no longer handles it
    assert client.get(reverse("disputes-agreement-print", args=[a.pk])).status_code == 404
    client.force_login(w.judge)  # the court it was referred to
    assert client.get(reverse("disputes-agreement-print", args=[a.pk])).status_code == 200


def test_police_notice_loop_pages(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    client.force_login(w.police)
    now = timezone.localtime().replace(second=0, microsecond=0)
    r = client.post(reverse("disputes-notice-new"), {
        "title": "邻里因漏水争吵报警", "happened_at": now.strftime(LOCAL), "place": w.tree.grids[0].pk,
        "people": "张三、李四", "ask": "入户走访调解", "due_at": (now + timedelta(days=2)).strftime(LOCAL),
    })  # fmt: skip
    n = PoliceNotice.objects.get(title="邻里因漏水争吵报警")
    assert r.status_code == 302 and n.node == w.tree.grids[0]
    client.force_login(w.worker)
    html = client.get(reverse("disputes-notices")).content.decode()
    assert n.number in html
    r = client.post(reverse("disputes-notice-answer", args=[n.pk]), {"result": "dispute", "feedback": "双方同意调解"})
    assert r.status_code == 400  # which kind of dispute?
    r = client.post(reverse("disputes-notice-answer", args=[n.pk]), {
        "result": "dispute", "feedback": "双方同意调解", "kind": w.kind.pk, "summary": "漏水纠纷", "risk": "green",
    })  # fmt: skip
    d = Dispute.objects.get(source_notice=n)
    assert r.status_code == 302 and r["Location"] == reverse("disputes-detail", args=[d.pk])
    client.force_login(w.police)
    html = client.get(reverse("disputes-notices")).content.decode()
    assert n.number in html and "双方同意调解" in html
    html = client.get(reverse("disputes-notice", args=[n.pk])).content.decode()
    assert "双方同意调解" in html and 'id="answer-form"' not in html
    client.force_login(w.other_worker)
    assert client.get(reverse("disputes-notice", args=[n.pk])).status_code == 404


def test_notice_form_only_for_senders(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.worker)
    assert client.get(reverse("disputes-notice-new")).status_code == 403


def test_notify_links_resolve(world) -> None:  # type: ignore[no-untyped-def]
    assert reverse("disputes:detail", args=[1]) == reverse("disputes-detail", args=[1])
    assert reverse("disputes:notice", args=[1]) == reverse("disputes-notice", args=[1])


def test_workbench_cards_of_mediator_and_police(client, world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = _at_station(w)
    n = services.file_police_notice(actor=w.police, title="打架警情", ask="走访", node_id=w.tree.grids[0].pk)
    client.force_login(w.mediator)
    html = client.get(reverse("home")).content.decode()
    assert 'id="wb-disputes"' in html and f'data-dispute-id="{d.pk}"' in html and 'id="wb-dispute"' in html
    client.force_login(w.worker)
    html = client.get(reverse("home")).content.decode()
    assert 'id="wb-notices-to-visit"' in html and f'data-notice-id="{n.pk}"' in html
    client.force_login(w.police)
    html = client.get(reverse("home")).content.decode()
    assert 'id="wb-notices-waiting"' in html and f'data-notice-id="{n.pk}"' in html and 'id="wb-notice"' in html
    services.answer_police_notice(actor=w.worker, notice_id=n.pk, result="nothing", feedback="已了解，无需处置")
    html = client.get(reverse("home")).content.decode()
    answered = html.split('id="wb-notices-answered"')[1]
    assert f'data-notice-id="{n.pk}"' in answered and "无需处置" in answered


def test_notice_answer_became_a_case_and_nothing_to_do(client, world) -> None:  # type: ignore[no-untyped-def]
    from gongzhi.cases.models import Case, Category

    w = world
    minor = Category.objects.filter(parent__isnull=False, is_active=True).first()
    if minor is None:
        major = Category.objects.create(code="99", name="其他")
        minor = Category.objects.create(code="9901", name="其他事项", parent=major)
    one = services.file_police_notice(actor=w.police, title="楼道杂物起火隐患", ask="走访", node_id=w.tree.grids[0].pk)
    two = services.file_police_notice(actor=w.police, title="误报", ask="核实", node_id=w.tree.grids[0].pk)
    client.force_login(w.worker)
    r = client.post(reverse("disputes-notice-answer", args=[one.pk]),
                    {"result": "case", "feedback": "已上报清理楼道杂物", "category": minor.pk})  # fmt: skip
    one.refresh_from_db()
    assert r.status_code == 302 and one.result == "case" and one.case is not None
    assert Case.objects.filter(pk=one.case_id, channel="police").exists()
    r = client.post(reverse("disputes-notice-answer", args=[two.pk]), {"result": "nothing", "feedback": "系误报"})
    two.refresh_from_db()
    assert r.status_code == 302 and two.status == "answered" and two.result == "nothing"
