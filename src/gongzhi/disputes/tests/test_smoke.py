from __future__ import annotations

from gongzhi.disputes import services
from gongzhi.disputes.services import PartyIn


def test_register_and_mediate(world) -> None:  # type: ignore[no-untyped-def]
    w = world
    d = services.register_dispute(
        actor=w.worker, kind_id=w.kind.pk, summary="楼上漏水", node_id=w.tree.households[0].pk,
        parties=[PartyIn(name="张三", phone="13812345678"), PartyIn(role="respondent", name="李四", phone="13900001111")],
    )
    assert d.status == "registered" and d.tier == 1 and d.handler_code == w.tree.grids[0].code
