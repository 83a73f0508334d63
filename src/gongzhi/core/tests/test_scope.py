from __future__ import annotations

from gongzhi.core.privacy import mask_id_number, mask_phone
from gongzhi.core.scope import NOTHING, Scope, ScopeRule, ancestor_codes, minimal_prefixes


def test_ancestor_codes() -> None:
    assert ancestor_codes("2101130060010010001") == ["210113006", "210113006001", "210113006001001"]
    assert ancestor_codes("210113006") == []


def test_minimal_prefixes_drop_covered_subtrees() -> None:
    assert minimal_prefixes({"210113006001", "210113006001002", "210113006002"}) == ("210113006001", "210113006002")


def test_empty_scope_matches_nothing() -> None:
    q = ScopeRule(node="node", body="body").q(NOTHING)
    assert "pk__in" in str(q)


def test_scope_union() -> None:
    a = Scope(prefixes=frozenset({"1"}), bodies=frozenset({2}))
    b = Scope(prefixes=frozenset({"3"}), lead_bodies=frozenset({4}))
    u = a | b
    assert u.prefixes == {"1", "3"} and u.bodies == {2} and u.lead_bodies == {4} and not u.everything
    assert (a | Scope(everything=True)).everything


def test_masking() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("") == ""
    assert mask_phone("12345") == "***45"
    assert mask_id_number("320102199001011234") == "3201**********1234"
    assert mask_id_number("1234") == "****"


def test_covers() -> None:
    scope = Scope(prefixes=frozenset({"210113006001"}), lead_bodies=frozenset({7}))
    assert scope.covers("210113006001002") and not scope.covers("210113006002")
    assert scope.covers("210113006002", lead_body_id=7) and not scope.covers("210113006002", lead_body_id=8)
    assert Scope(everything=True).covers("1") and not NOTHING.covers("1")
