"""The 人民调解协议书 as a DOCX: read back, it has the usual layout and the agreement's content."""

from __future__ import annotations

import datetime

import pytest

from gongzhi.core.errors import NotFound
from gongzhi.core.models import AuditLog
from gongzhi.disputes import document, services, workflow
from gongzhi.disputes.tests.helpers import draft, new_dispute, walk


def test_the_document_reads_back(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = walk(w.worker, new_dispute(w.worker, w), "mediating")
    agreement = draft(w.worker, d)
    workflow.perform(actor=w.worker, dispute_id=d.pk, action="agree", payload={"signed_on": "2026-12-07"})
    name, data = services.agreement_document(actor=w.worker, agreement_id=agreement.pk)
    assert name == f"{agreement.number}.docx" and data[:2] == b"PK"
    lines = [line for line in document.read_text(data) if line.strip()]
    text = "\n".join(lines)
    assert lines[0] == "人民调解协议书"
    assert lines[1] == f"编号：{agreement.number}"
    # The parties with their roles, contacts masked.
    assert "申请人：张三，身份证号码：2101**********1234，联系电话：138****5678" in lines
    assert "被申请人：李四，联系电话：139****1111" in lines
    assert "13812345678" not in text and "210113199001011234" not in text
    # Facts, the terms with how and by when, the performance.
    i = lines.index("纠纷主要事实、争议事项")
    assert lines[i + 1] == "楼上卫生间漏水至楼下，双方争执。"
    assert "1. 李四于七日内修复卫生间防水（履行方式：自行维修；履行期限：2026年12月20日前）" in lines
    assert "2. 李四赔偿张三装修损失2000元（履行方式：现金当面支付）" in lines
    assert "按上述约定履行。" in lines
    assert "本协议一式3份" in text  # two parties and the committee
    # Signatures: each party, the mediator, the committee, the date.
    assert any(line.startswith("申请人（签名）：张三") for line in lines)
    assert any(line.startswith("被申请人（签名）：李四") for line in lines)
    assert any(line.startswith(f"人民调解员（签名）：{w.worker}") for line in lines)
    assert lines[-2] == "社区1人民调解委员会（盖章）"
    assert lines[-1] == "2026年12月7日"
    assert AuditLog.objects.filter(action="disputes.agreement_document", object_id=str(agreement.pk)).exists()


def test_revealed_only_with_the_right(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = walk(w.operator, new_dispute(w.operator, w), "mediating")
    agreement = draft(w.operator, d)
    _name, data = services.agreement_document(actor=w.operator, agreement_id=agreement.pk, reveal=True)
    assert "申请人：张三，身份证号码：210113199001011234，联系电话：13812345678" in document.read_text(data)
    with pytest.raises(NotFound):  # outside the handling circle the agreement does not exist
        services.agreement_document(actor=w.other_worker, agreement_id=agreement.pk, reveal=True)
    from gongzhi.accounts.choices import Role
    from gongzhi.accounts.tests.factories import user_with_role

    head = user_with_role(Role.BUILDING_HEAD, node=w.tree.buildings[0])
    with pytest.raises(NotFound):
        services.agreement_document(actor=head, agreement_id=agreement.pk)


def test_unsigned_has_blanks_for_the_date() -> None:
    doc = document.AgreementDoc(
        number="TJ2026000001-1", parties=[document.PartyLine("applicant", "张三")], facts="事实",
        terms=[document.Term("条款")], performance="", mediator="王调解", committee="道义街道人民调解委员会",
        signed_on=None,
    )  # fmt: skip
    lines = [line for line in document.read_text(document.render(doc)) if line.strip()]
    assert lines[-1] == "　　　　年　　月　　日" and "1. 条款" in lines
    assert document.chinese_date(datetime.date(2027, 1, 5)) == "2027年1月5日"
