"""The dispute figures: each value equals the count of the list it opens (page and API), and the figures mean
what docs/disputes.md says (success rate, cycle time, share per tier, year on year, notices on time)."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from gongzhi.disputes import services, workflow
from gongzhi.disputes.models import Dispute, PoliceNotice
from gongzhi.disputes.services import PartyIn
from gongzhi.disputes.tests.conftest import world  # noqa: F401  (the disputes' fixture)
from gongzhi.kpis import disputes as figures
from gongzhi.kpis import selectors

pytestmark = pytest.mark.django_db
PHONES = {name: f"1380000{i:04d}" for i, name in enumerate("甲乙丙丁戊己庚辛壬癸")}


def _make(w, summary, *, days_ago, risk="green", place=0, names=("甲", "乙")):  # type: ignore[no-untyped-def]
    now = timezone.now()
    return services.register_dispute(
        actor=w.operator, kind_id=w.kind.pk, summary=summary, node_id=w.tree.grids[place].pk, risk=risk,
        parties=[PartyIn(name=names[0], phone=PHONES[names[0]]), PartyIn(role="respondent", name=names[1],
                                                                          phone=PHONES[names[1]])],
        received_at=now - timedelta(days=days_ago),
    )  # fmt: skip


def _agree(w, d, *, days_after):  # type: ignore[no-untyped-def]
    at = d.received_at + timedelta(days=days_after)
    workflow.perform(actor=w.operator, dispute_id=d.pk, action="start", now=at)
    services.draft_agreement(actor=w.operator, dispute_id=d.pk, terms=[{"text": "互谅互让"}])
    workflow.perform(actor=w.operator, dispute_id=d.pk, action="agree", now=at)


@pytest.fixture
def data(world):  # type: ignore[no-untyped-def]  # noqa: F811
    w = world
    a = _make(w, "一", days_ago=10)
    _agree(w, a, days_after=1)  # solved on site in 1 day
    b = _make(w, "二", days_ago=20, place=3, names=("丙", "丁"))
    workflow.perform(actor=w.operator, dispute_id=b.pk, action="escalate", note="现场不成")
    _agree(w, Dispute.objects.get(pk=b.pk), days_after=3)  # at the station in 3 days
    c = _make(w, "三", days_ago=30, names=("戊", "己"))
    workflow.perform(actor=w.operator, dispute_id=c.pk, action="start")
    workflow.perform(actor=w.operator, dispute_id=c.pk, action="fail", note="调解不成")
    _make(w, "四", days_ago=5, risk="red", names=("庚", "辛"))  # open, red
    _make(w, "五", days_ago=3, names=("甲", "乙"))  # the same parties as 一: a repeat
    _make(w, "去年", days_ago=370, names=("壬", "癸"))  # a year before
    n = services.file_police_notice(actor=w.police, title="警情", ask="走访", node_id=w.tree.grids[0].pk)
    services.answer_police_notice(actor=w.worker, notice_id=n.pk, result="resolved", feedback="已化解")
    PoliceNotice.objects.filter(pk=n.pk).update(due_at=F("answered_at") + timedelta(seconds=1))  # due in the period
    late = services.file_police_notice(actor=w.police, title="逾期警情", ask="走访", node_id=w.tree.grids[0].pk)
    PoliceNotice.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(hours=1))
    return w


def _query(w, days=60):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    return selectors.query_from_params(
        user=w.operator, params={"place": str(w.tree.subdistrict.pk), "start": str(today - timedelta(days=days)),
                                 "end": str(today)},
    )  # fmt: skip


def test_values_mean_what_the_docs_say(data) -> None:  # type: ignore[no-untyped-def]
    w = data
    shown = {f.key: f for f in figures.headline(user=w.operator, query=_query(w))}
    assert shown["total"].value == 5
    assert shown["success_rate"].value == pytest.approx(2 / 3)  # 2 agreed of 3 ended
    assert shown["cycle_days"].value == pytest.approx(1.0) and shown["cycle_days"].extra["p90"] == "3.0"
    assert shown["red_open"].value == 1 and shown["repeat"].value == 1
    assert shown["notices_on_time"].value == pytest.approx(0.5)  # one answered in time, one overdue unanswered
    year = {f.key: f for f in figures.headline(user=w.operator, query=_query(w, days=364))}["year_on_year"]
    assert year.extra == {"this_year": 5, "last_year": 1} and year.value == pytest.approx(4.0)
    tiers = {f.key: f for f in figures.breakdowns(user=w.operator, query=_query(w))["tier"]}
    assert tiers["tier:1"].value == pytest.approx(0.5) and tiers["tier:2"].value == pytest.approx(0.5)


def test_every_figure_equals_its_drill_down_page(client, data) -> None:  # type: ignore[no-untyped-def]
    w = data
    client.force_login(w.operator)
    q = _query(w)
    html = client.get(reverse("kpis-disputes"), selectors.query_params(q)).content.decode()
    shown = figures.headline(user=w.operator, query=q)
    for group in figures.breakdowns(user=w.operator, query=q).values():
        shown += group
    assert len(shown) > 10
    for f in shown:
        assert f'data-figure="{f.key}" data-count="{f.count}"' in html
        r = client.get(reverse("kpis-disputes-drill"), {**selectors.query_params(q), "figure": f.key})
        assert r.status_code == 200
        assert f'data-count="{f.count}"' in r.content.decode(), f.key
        if f.denominator is not None:
            r = client.get(
                reverse("kpis-disputes-drill"), {**selectors.query_params(q), "figure": f.key, "part": "den"}
            )
            assert f'data-count="{f.denominator}"' in r.content.decode(), f.key


def test_api_figures_equal_their_lists(api, data) -> None:  # type: ignore[no-untyped-def]
    w = data
    api.as_user(w.operator)
    params = selectors.query_params(_query(w))
    body = api.get(f"/api/v1/kpis/disputes?{urlencode(params)}").json()
    rows = body["headline"] + body["by_kind"] + body["by_place"] + body["by_month"] + body["by_tier"]
    for f in rows:
        listed = api.get(f"/api/v1/kpis/disputes/list?{urlencode({**params, 'figure': f['key']})}").json()
        assert listed["count"] == f["count"], f["key"]


def test_drill_link_of_a_card_opens_the_same_query(client, data) -> None:  # type: ignore[no-untyped-def]
    w = data
    client.force_login(w.operator)
    q = _query(w)
    html = client.get(reverse("kpis-disputes"), selectors.query_params(q)).content.decode()
    start = html.index('id="fig-red_open"')
    href = html[html.rindex('href="', 0, start) + 6 :].split('"', 1)[0].replace("&amp;", "&")
    params = parse_qs(urlparse(href).query)
    assert params["figure"] == ["red_open"] and params["start"] == [str(q.start)]


def test_unknown_figure_is_a_400(client, data) -> None:  # type: ignore[no-untyped-def]
    client.force_login(data.operator)
    assert client.get(reverse("kpis-disputes-drill"), {"figure": "nonsense"}).status_code == 400


def test_the_dashboard_loads_the_dispute_row(client, data) -> None:  # type: ignore[no-untyped-def]
    w = data
    client.force_login(w.operator)
    q = _query(w)
    page = client.get(reverse("kpis-dashboard"), selectors.query_params(q)).content.decode()
    assert 'id="kpi-disputes-box"' in page and "fragment=cards" in page
    fragment = client.get(reverse("kpis-disputes"), {**selectors.query_params(q), "fragment": "cards"})
    html = fragment.content.decode()
    assert "<html" not in html and 'data-figure="total" data-count="5"' in html and "调解成功率" in html
