"""Building disputes in a given state for the tests (through the services and the workflow, as users would)."""

from __future__ import annotations

from typing import Any

from gongzhi.disputes import services, workflow
from gongzhi.disputes.models import Dispute
from gongzhi.disputes.services import PartyIn

PARTIES = [
    PartyIn(name="张三", phone="13812345678", id_number="210113199001011234"),
    PartyIn(role="respondent", name="李四", phone="13900001111"),
]

# How to reach each status from a new dispute.
PATHS: dict[str, list[str]] = {
    "registered": [],
    "mediating": ["start"],
    "agreed": ["start", "agree"],
    "closed": ["start", "agree", "close"],
    "unresolved": ["start", "fail"],
    "withdrawn": ["withdraw"],
}


def new_dispute(actor: Any, w: Any, *, node: Any = None, risk: str = "green", parties: Any = None,
                **extra: Any) -> Dispute:  # fmt: skip
    return services.register_dispute(
        actor=actor, summary="楼上漏水，邻里争执", facts="楼上卫生间漏水至楼下，双方争执。",
        node_id=(node or w.tree.households[0]).pk, risk=risk, parties=PARTIES if parties is None else parties,
        **{"kind_id": w.kind.pk, **extra},
    )  # fmt: skip


def draft(actor: Any, dispute: Dispute) -> Any:
    return services.draft_agreement(
        actor=actor, dispute_id=dispute.pk,
        terms=[{"text": "李四于七日内修复卫生间防水", "how": "自行维修", "by": "2026-12-20"},
               {"text": "李四赔偿张三装修损失2000元", "how": "现金当面支付", "by": ""}],
        performance="按上述约定履行。",
    )  # fmt: skip


def walk(actor: Any, dispute: Dispute, status: str) -> Dispute:
    for action in PATHS[status]:
        if action == "agree":
            draft(actor, dispute)
        dispute = workflow.perform(actor=actor, dispute_id=dispute.pk, action=action, note="理由")
    assert dispute.status == status
    return dispute
