"""The claim rate on the KPI dashboard: the card's numbers are the lengths of the lists they open, and it moves when a
member claims a post."""

from __future__ import annotations

import re

import pytest

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.service import services

pytestmark = pytest.mark.django_db


def _card(client, place_id: int) -> tuple[int, int, list[str]]:  # type: ignore[no-untyped-def]
    html = client.get(f"/kpis/?place={place_id}").content.decode()
    card = html[html.index('id="card-claim-rate"') :]
    card = card[: card.index("</article>")]
    claiming = int(re.search(r'data-claiming="(\d+)"', card).group(1))  # type: ignore[union-attr]
    reported = int(re.search(r'data-reported="(\d+)"', card).group(1))  # type: ignore[union-attr]
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="(/posts/rate/members/[^"]+)"', card)]
    return claiming, reported, links


def _total(client, url: str) -> int:  # type: ignore[no-untyped-def]
    return int(re.search(r'data-total="(\d+)"', client.get(url).content.decode()).group(1))  # type: ignore[union-attr]


def test_dashboard_card_equals_its_lists_and_moves(client, tree, post, members):  # type: ignore[no-untyped-def]
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict)
    client.force_login(operator)
    claiming, reported, links = _card(client, tree.subdistrict.pk)
    assert (claiming, reported) == (0, 2)
    services.claim_post(actor=members.users[0], post_id=post.pk)
    claiming, reported, links = _card(client, tree.subdistrict.pk)
    assert (claiming, reported) == (1, 2)
    claiming_url = next(u for u in links if "claiming=1" in u)
    all_url = next(u for u in links if "claiming" not in u)
    assert _total(client, claiming_url) == 1
    assert _total(client, all_url) == 2
    # Community 1 has no reported-in members: nothing to count there.
    assert _card(client, tree.communities[1].pk)[:2] == (0, 0)
