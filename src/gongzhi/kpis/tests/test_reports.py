"""Monthly reports: the workbook equals the dashboard figures, generation is stored and audited within scope, the
monthly task covers the subdistrict and each community, the printable page and the on-the-fly XLSX."""

from __future__ import annotations

import io
from datetime import date, datetime
from urllib.parse import unquote

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from gongzhi.accounts.choices import Role
from gongzhi.accounts.tests.factories import user_with_role
from gongzhi.cases.tests.factories import new_case, walk
from gongzhi.core.errors import Forbidden, NotFound
from gongzhi.core.models import AuditLog
from gongzhi.kpis import periods, reports, selectors, services
from gongzhi.kpis.models import MonthlyReport
from gongzhi.kpis.reports import SYSTEM
from gongzhi.kpis.selectors import KpiQuery

pytestmark = pytest.mark.django_db

MONTH = date(2026, 10, 1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path


def at(day: int, hour: int = 9, month: int = 10) -> datetime:
    return timezone.make_aware(datetime(2026, month, day, hour))


@pytest.fixture
def month_cases(tree):  # type: ignore[no-untyped-def]
    """October 2026 on the first community: two closed, one disposed, one open, one rejected; one in the second
    community; one in September and one in November (outside the month)."""
    operator = user_with_role(Role.SUBDISTRICT_OPERATOR, node=tree.subdistrict, body=tree.office)
    admin = user_with_role(Role.ADMIN)
    g1, g2, g3 = tree.grids[0], tree.grids[1], tree.grids[2]
    for status, grid, day in (
        ("closed", g1, 3),
        ("closed", g2, 15),
        ("disposed", g1, 20),
        ("dispatched", g2, 31),
        ("rejected", g1, 1),
        ("closed", g3, 12),
    ):
        case = new_case(operator, grid, reported_at=at(day), title=f"{status}{day}")
        walk(admin, case, status, handler_body=tree.department)
    new_case(operator, g1, reported_at=at(30, month=9), title="九月")
    new_case(operator, g1, reported_at=at(2, month=11), title="十一月")
    services.refresh_rollup(full=True)
    return operator


def _sheet(data: bytes, title: str) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    return [tuple(row) for row in workbook[title].iter_rows(values_only=True)]


def _summary_row(rows: list[tuple], name: str) -> tuple:
    return next(row for row in rows if row[0] == name)


def test_system_principal_reads_everything_and_changes_nothing(tree, other_tree):  # type: ignore[no-untyped-def]
    from gongzhi.territory.models import Node

    assert Node.objects.restrict(SYSTEM, "view").count() == Node.objects.count() > 0
    assert not Node.objects.restrict(SYSTEM, "change").exists()
    assert selectors.default_place(user=SYSTEM) is not None


def test_xlsx_summary_equals_the_dashboard_figures(tree, month_cases):  # type: ignore[no-untyped-def]
    for place in (tree.subdistrict, tree.communities[0]):
        report = reports.month_report(user=month_cases, place=place, month=MONTH)
        data = reports.month_report_xlsx(report)
        figures = selectors.total(user=month_cases, query=KpiQuery(place=place, start=MONTH, end=date(2026, 10, 31)))
        workbook = load_workbook(io.BytesIO(data), read_only=True)
        place_sheet = "按社区" if place == tree.subdistrict else "按网格"
        assert workbook.sheetnames == ["概要", place_sheet, "按类别", "按渠道", "按层级", "按部门", "按日"]
        summary = _sheet(data, "概要")
        assert summary[0][:6] == ("指标", "本月数值", "单位", "分子", "分母", "计算公式")
        intake = _summary_row(summary, "受理量")
        assert intake[1] == intake[3] == figures.counts["intake"]
        ontime = _summary_row(summary, "按期处置率")
        num, den = figures.fraction("ontime_disposal")
        assert (ontime[3], ontime[4]) == (num, den)
        assert ontime[1] == round(100 * num / den, 1)
        assert ontime[2] == "%"
    # the subdistrict: 6 cases in October (September and November left out), the first community 4 of them
    sub = _summary_row(
        _sheet(
            reports.month_report_xlsx(reports.month_report(user=month_cases, place=tree.subdistrict, month=MONTH)),
            "概要",
        ),
        "受理量",
    )
    assert sub[1] == 6
    days = _sheet(
        reports.month_report_xlsx(reports.month_report(user=month_cases, place=tree.subdistrict, month=MONTH)), "按日"
    )
    assert len(days) == 1 + 31  # the header and every day of October
    assert sum(row[1] for row in days[1:]) == 6


def test_breakdowns_add_up_to_the_total(tree, month_cases):  # type: ignore[no-untyped-def]
    report = reports.month_report(user=month_cases, place=tree.subdistrict, month=MONTH)
    assert report.place_dimension == "community"
    assert {r.key: r.figures.counts["intake"] for r in report.places} == {
        tree.communities[0].code: 5,
        tree.communities[1].code: 1,
    }
    for rows in (report.places, report.majors, report.channels, report.bodies, report.days):
        assert sum(r.figures.counts["intake"] for r in rows) == report.total.counts["intake"] == 6
    assert sum(t.solved for t in report.tiers) == report.total.counts["closed"] == 3
    assert report.previous.counts["intake"] == 1  # September


def test_generate_stores_a_file_and_an_audit_record(tree, month_cases):  # type: ignore[no-untyped-def]
    row = services.generate_monthly_report(actor=month_cases, node=tree.subdistrict, month=date(2026, 10, 17))
    assert row.month == MONTH and row.intake == 6 and row.created_by == month_cases
    with row.file.open("rb") as handle:
        assert _summary_row(_sheet(handle.read(), "概要"), "受理量")[1] == 6
    log = AuditLog.objects.get(action="kpis.report_generated")
    assert log.actor == month_cases and log.node_code == tree.subdistrict.code and log.object_id == str(row.pk)
    # regenerating replaces the row (one per place and month) and records the earlier one
    again = services.generate_monthly_report(actor=month_cases, node=tree.subdistrict, month=MONTH)
    assert again.pk == row.pk and MonthlyReport.objects.count() == 1
    assert AuditLog.objects.filter(action="kpis.report_generated").count() == 2
    assert AuditLog.objects.filter(action="kpis.report_generated").order_by("-id").first().before["intake"] == 6


def test_community_staff_may_not_generate_for_another_community(tree, month_cases):  # type: ignore[no-untyped-def]
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    row = services.generate_monthly_report(actor=staff, node=tree.communities[0], month=MONTH)
    assert row.intake == 5
    with pytest.raises(NotFound):
        services.generate_monthly_report(actor=staff, node=tree.communities[1], month=MONTH)
    with pytest.raises(NotFound):
        services.generate_monthly_report(actor=staff, node=tree.subdistrict, month=MONTH)
    worker = user_with_role(Role.GRID_WORKER, node=tree.grids[0])
    with pytest.raises((Forbidden, NotFound)):
        services.generate_monthly_report(actor=worker, node=tree.communities[0], month=MONTH)
    assert list(MonthlyReport.objects.values_list("node_id", flat=True)) == [tree.communities[0].pk]


def test_the_monthly_task_reports_on_the_subdistrict_and_each_community(tree, month_cases):  # type: ignore[no-untyped-def]
    from gongzhi.kpis.tasks import monthly_reports

    result = monthly_reports.enqueue(month="2026-10-01").return_value
    assert result["generated"] == 3 and not result["failed"]
    rows = {r.node_id: r for r in MonthlyReport.objects.all()}
    assert set(rows) == {tree.subdistrict.pk, tree.communities[0].pk, tree.communities[1].pk}
    assert rows[tree.subdistrict.pk].intake == 6 and rows[tree.communities[1].pk].intake == 1
    assert all(r.created_by is None and r.month == MONTH for r in rows.values())
    assert AuditLog.objects.filter(action="kpis.report_generated", actor=None).count() == 3


def test_default_month_is_last_month(tree, month_cases):  # type: ignore[no-untyped-def]
    result = services.generate_month_reports()
    assert result["month"] == f"{periods.last_month():%Y-%m}"


def test_schedule_enqueues_the_refresh_and_missing_reports_once(tree, month_cases, monkeypatch):  # type: ignore[no-untyped-def]
    from django.core.management import call_command

    from gongzhi.kpis import schedule

    monkeypatch.setattr(periods, "last_month", lambda today=None: MONTH)
    monkeypatch.setattr(schedule, "_enqueued_months", set())
    out = io.StringIO()
    call_command("kpi_schedule", stdout=out)
    assert "refresh_rollups enqueued" in out.getvalue() and "monthly_reports enqueued 2026-10" in out.getvalue()
    assert MonthlyReport.objects.filter(month=MONTH).count() == 3  # the immediate backend ran it
    out = io.StringIO()
    call_command("kpi_schedule", stdout=out)
    assert "monthly_reports nothing missing" in out.getvalue()


def test_month_page_renders(client, tree, month_cases):  # type: ignore[no-untyped-def]
    client.force_login(month_cases)
    response = client.get(f"/kpis/reports/month/?place={tree.subdistrict.pk}&month=2026-10")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="report-data"' in html and "echarts.min.js" in html and "kpis/report.js" in html
    assert "kpis/report.css" in html and 'id="report-print"' in html  # the print layout: a style sheet (CSP)
    assert f"month.xlsx?place={tree.subdistrict.pk}" in html
    assert 'data-kpi="intake"' in html and "社区1" in html


def test_month_page_bad_month_is_400(client, tree, month_cases):  # type: ignore[no-untyped-def]
    client.force_login(month_cases)
    response = client.get(f"/kpis/reports/month/?place={tree.subdistrict.pk}&month=2026-13")
    assert response.status_code == 400
    assert "YYYY-MM" in response.content.decode()


def test_month_page_out_of_scope_is_404(client, tree, other_tree, month_cases):  # type: ignore[no-untyped-def]
    client.force_login(month_cases)
    assert client.get(f"/kpis/reports/month/?place={other_tree.subdistrict.pk}&month=2026-10").status_code == 404


def test_month_xlsx_downloads(client, tree, month_cases):  # type: ignore[no-untyped-def]
    client.force_login(month_cases)
    response = client.get(f"/kpis/reports/month.xlsx?place={tree.communities[0].pk}&month=2026-10")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert "attachment" in disposition and "filename*=utf-8''" in disposition
    assert unquote(disposition.split("filename*=utf-8''")[1]) == "社区12026年10月工作月报.xlsx"
    data = b"".join(response.streaming_content) if response.streaming else response.content
    assert _summary_row(_sheet(data, "概要"), "受理量")[1] == 5


def test_reports_page_lists_generates_and_downloads(client, tree, month_cases):  # type: ignore[no-untyped-def]
    client.force_login(month_cases)
    response = client.post("/kpis/reports/", {"place": tree.communities[1].pk, "month": "2026-10"}, follow=True)
    assert response.status_code == 200
    row = MonthlyReport.objects.get()
    assert row.node == tree.communities[1] and row.created_by == month_cases
    html = response.content.decode()
    assert f"/kpis/reports/{row.pk}/download/" in html and 'id="report-form"' in html
    download = client.get(f"/kpis/reports/{row.pk}/download/")
    assert download.status_code == 200
    assert _summary_row(_sheet(b"".join(download.streaming_content), "概要"), "受理量")[1] == 1
    bad = client.post("/kpis/reports/", {"place": tree.communities[1].pk, "month": "October"}, follow=True)
    assert MonthlyReport.objects.count() == 1 and "YYYY-MM" in bad.content.decode()


def test_download_out_of_scope_is_404(client, tree, month_cases):  # type: ignore[no-untyped-def]
    row = services.generate_monthly_report(actor=None, node=tree.communities[1], month=MONTH)
    staff = user_with_role(Role.COMMUNITY_STAFF, node=tree.communities[0], body=tree.committees[0])
    client.force_login(staff)
    assert client.get(f"/kpis/reports/{row.pk}/download/").status_code == 404
