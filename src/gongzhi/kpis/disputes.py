"""The dispute figures of the KPI dashboard (矛盾纠纷): what each counts and the list behind it.

Every figure is one of ``disputes.selectors``' :class:`~gongzhi.disputes.selectors.Figure`: its value is computed
from the queryset it carries, so the drill-down (``kpis-disputes-drill``, ``/api/v1/kpis/disputes/list``) lists
exactly the disputes (or police notices) it counts — the same filter, never a second one written apart. The period and
the place are the dashboard's (:class:`~gongzhi.kpis.selectors.KpiQuery`): disputes received in the period (local
dates, both ends included) on the place; the cycle time counts the disputes agreed in the period, the notices' on-time
rate the notices due in it, the red-risk figure what is open now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import ErrorDetail, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.disputes import selectors as disputes

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User

    from gongzhi.disputes.selectors import Figure
    from gongzhi.kpis.selectors import KpiQuery

NUM, DEN = "num", "den"
TIER_LABELS = {1: _("Solved on site"), 2: _("Solved at the station"), 3: _("Solved on referral")}


@dataclass(frozen=True)
class Shown:
    """A figure as the dashboard shows it."""

    key: str
    label: Any
    value: float | int | None
    display: str
    count: int
    denominator: int | None = None
    what: str = "disputes"  # or "notices": what its list holds
    extra: dict[str, Any] = field(default_factory=dict)


def period(query: KpiQuery) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    since = datetime.combine(query.start, time.min, tzinfo=tz)
    until = datetime.combine(query.end + timedelta(days=1), time.min, tzinfo=tz)
    return since, until


def _args(user: User, query: KpiQuery) -> dict[str, Any]:
    since, until = period(query)
    return {"user": user, "since": since, "until": until, "node_code": query.place.code}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _days(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _signed_pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f}%"


def headline(*, user: User, query: KpiQuery) -> list[Shown]:
    """The cards: disputes received, mediation success, cycle time (median and P90), red-risk open, repeats,
    police notices answered on time, year-on-year change."""
    a = _args(user, query)
    since, until = a["since"], a["until"]
    total = disputes.dispute_list(user=user, since=since, until=until, node_code=query.place.code).count()
    success = disputes.success_rate(**a)
    cycle = disputes.cycle_time(**a)
    red = disputes.red_open(user=user, node_code=query.place.code)
    repeat = disputes.repeats(**a)
    on_time = disputes.notices_on_time(user=user, since=since, until=until)
    yoy = disputes.year_on_year(**a)
    den = success.denominator.count() if success.denominator is not None else None
    nden = on_time.denominator.count() if on_time.denominator is not None else None
    return [
        Shown("total", _("Disputes received"), total, str(total), total),
        Shown("success_rate", _("Mediation success rate"), success.value, _pct(success.value), success.count, den),
        Shown("cycle_days", _("Cycle time, intake → agreement (median, days)"), cycle.value, _days(cycle.value),
              cycle.count, extra={"p90": _days(cycle.extra.get("p90"))}),
        Shown("red_open", _("Red risk, open now"), red.value, str(red.value), red.count),
        Shown("repeat", _("Repeat disputes"), repeat.value, str(repeat.value), repeat.count),
        Shown("notices_on_time", _("Police notices answered on time"), on_time.value, _pct(on_time.value),
              on_time.count, nden, what="notices"),
        Shown("year_on_year", _("Year on year"), yoy.value, _signed_pct(yoy.value), yoy.count,
              yoy.denominator.count() if yoy.denominator is not None else None,
              extra={"this_year": yoy.extra.get("this_year"), "last_year": yoy.extra.get("last_year")}),
    ]  # fmt: skip


def breakdowns(*, user: User, query: KpiQuery) -> dict[str, list[Shown]]:
    """By kind, by place (communities of a subdistrict, grids of a community), by month, solved per tier."""
    a = _args(user, query)
    length = 15 if len(query.place.code) >= 12 else 12
    tiers = disputes.share_by_tier(**a)
    return {
        "kind": [Shown(f.key, f.label, f.value, str(f.count), f.count) for f in disputes.by_kind(**a)],
        "place": [Shown(f.key, f.label, f.value, str(f.count), f.count) for f in disputes.by_place(**a, length=length)],
        "month": [Shown(f.key, f.label, f.value, str(f.count), f.count) for f in disputes.by_month(**a)],
        "tier": [
            Shown(f.key, TIER_LABELS.get(int(f.key.split(":")[1]), f.key), f.value, _pct(f.value), f.count,
                  f.denominator.count() if f.denominator is not None else None)
            for f in tiers
        ],
    }  # fmt: skip


def _figure(user: User, query: KpiQuery, key: str) -> Figure:
    a = _args(user, query)
    prefix = key.split(":", 1)[0]
    found: Figure | None = None
    if key == "success_rate":
        found = disputes.success_rate(**a)
    elif key == "cycle_days":
        found = disputes.cycle_time(**a)
    elif key == "red_open":
        found = disputes.red_open(user=user, node_code=query.place.code)
    elif key == "repeat":
        found = disputes.repeats(**a)
    elif key == "notices_on_time":
        found = disputes.notices_on_time(user=user, since=a["since"], until=a["until"])
    elif key == "year_on_year":
        found = disputes.year_on_year(**a)
    elif prefix == "kind":
        found = next((f for f in disputes.by_kind(**a) if f.key == key), None)
    elif prefix == "place":
        code = key.split(":", 1)[1]
        found = next((f for f in disputes.by_place(**a, length=len(code)) if f.key == key), None)
    elif prefix == "month":
        found = next((f for f in disputes.by_month(**a) if f.key == key), None)
    elif prefix == "tier":
        found = next((f for f in disputes.share_by_tier(**a) if f.key == key), None)
    if found is None:
        raise ValidationFailed(
            _("Unknown figure."),
            [ErrorDetail(field="figure", message=fmt(_("no figure %(key)s for this period and place"), key=key))],
        )
    return found


def drill(*, user: User, query: KpiQuery, key: str, part: str = NUM) -> tuple[str, QuerySet[Any]]:
    """What a figure counts (``part`` num) or its base (``den``): ``("disputes"|"notices", queryset)``. The key
    ``total`` is every dispute received in the period on the place."""
    if key == "total":
        a = _args(user, query)
        return "disputes", disputes.dispute_list(user=user, since=a["since"], until=a["until"],
                                                 node_code=query.place.code)  # fmt: skip
    figure = _figure(user, query, key)
    what = "notices" if key == "notices_on_time" else "disputes"
    if part == DEN:
        if figure.denominator is None:
            detail = ErrorDetail(field="part", message=_("Open its records with part=num."))
            raise ValidationFailed(_("This figure has no base."), [detail])
        return what, figure.denominator
    return what, figure.queryset


def label_of(key: str) -> Any:
    labels: dict[str, Any] = dict(
        total=_("Disputes received"), success_rate=_("Mediation success rate"),
        cycle_days=_("Cycle time, intake → agreement (median, days)"), red_open=_("Red risk, open now"),
        repeat=_("Repeat disputes"), notices_on_time=_("Police notices answered on time"),
        year_on_year=_("Year on year"),
    )  # fmt: skip
    prefix, _sep, rest = key.partition(":")
    if prefix == "tier" and rest.isdigit():
        return TIER_LABELS.get(int(rest), key)
    return labels.get(key, rest or key)
