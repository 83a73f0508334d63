"""Rollups and reports of the KPIs.

``CaseRollup`` holds, per day of intake × place (the grid, or the case's own place when it sits above grid level)
× category × channel, every measure of ``measures.COUNTS`` and ``measures.DURATIONS`` over the cases reported that
day as they stand now. It is rebuilt day by day for the days whose cases changed (``rollup.refresh``); a test
proves it equals the raw computation. ``MonthlyReport`` keeps the generated monthly XLSX reports.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.scope import ScopedManager, ScopeRule

# The code length of a grid: rollup rows are kept at grid level (buildings and households fold into their grid).
GRID_CODE_LENGTH = 15


class Measures(models.Model):
    """Every measure of ``measures.COUNTS`` and ``measures.DURATIONS`` (durations as a sum of seconds and a count)."""

    intake = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)
    disposed = models.PositiveIntegerField(default=0)
    disposal_due = models.PositiveIntegerField(default=0)
    disposed_on_time = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closure_due = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    reworked = models.PositiveIntegerField(default=0)
    open = models.PositiveIntegerField(default=0)
    overdue_pending = models.PositiveIntegerField(default=0)
    postponed = models.PositiveIntegerField(default=0)
    escalated = models.PositiveIntegerField(default=0)
    fixed_on_spot = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)
    basically_satisfied = models.PositiveIntegerField(default=0)
    satisfied_any = models.PositiveIntegerField(default=0)
    dissatisfied = models.PositiveIntegerField(default=0)
    resolved = models.PositiveIntegerField(default=0)
    responded = models.PositiveIntegerField(default=0)
    solved_t1 = models.PositiveIntegerField(default=0)
    solved_t2 = models.PositiveIntegerField(default=0)
    solved_t3 = models.PositiveIntegerField(default=0)
    solved_t4 = models.PositiveIntegerField(default=0)
    solved_t5 = models.PositiveIntegerField(default=0)
    cycle_sum = models.FloatField(default=0)  # seconds
    cycle_n = models.PositiveIntegerField(default=0)
    to_dispatch_sum = models.FloatField(default=0)  # seconds
    to_dispatch_n = models.PositiveIntegerField(default=0)
    to_acknowledge_sum = models.FloatField(default=0)  # seconds
    to_acknowledge_n = models.PositiveIntegerField(default=0)
    to_dispose_sum = models.FloatField(default=0)  # seconds
    to_dispose_n = models.PositiveIntegerField(default=0)
    to_close_sum = models.FloatField(default=0)  # seconds
    to_close_n = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class CaseRollup(Measures):
    day = models.DateField(_("day"))
    place_code = models.CharField(_("territory code"), max_length=GRID_CODE_LENGTH)
    category_id = models.IntegerField(_("category"))
    major_category_id = models.IntegerField(_("major class"), null=True)
    channel = models.CharField(_("channel"), max_length=16)

    objects = ScopedManager()
    scope_rule = ScopeRule(code="place_code")

    class Meta:
        verbose_name = _("daily case figures")
        verbose_name_plural = _("daily case figures")
        constraints = [
            models.UniqueConstraint(fields=["day", "place_code", "category_id", "channel"], name="rollup_unique"),
        ]
        indexes = [models.Index(fields=["place_code", "day"], name="rollup_place_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.place_code} {self.category_id} {self.channel}"


class MonthRollup(Measures):
    """The same measures per month of intake × place (grid level), summed from the daily rows: what the dashboard's
    place and month figures read for whole months (12 × grids rows a year, however many cases)."""

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    place_code = models.CharField(_("territory code"), max_length=GRID_CODE_LENGTH)

    objects = ScopedManager()
    scope_rule = ScopeRule(code="place_code")

    class Meta:
        verbose_name = _("monthly case figures")
        verbose_name_plural = _("monthly case figures")
        constraints = [models.UniqueConstraint(fields=["month", "place_code"], name="month_rollup_unique")]
        indexes = [models.Index(fields=["place_code", "month"], name="month_rollup_place")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.place_code}"


# The code length of a community or village: the class rollup is kept at that level.
COMMUNITY_CODE_LENGTH = 12


class MonthClassRollup(Measures):
    """The same measures per month of intake × community (or the case's own place above it) × major class × channel,
    summed from the daily rows: what a subdistrict's or a community's dashboard reads for its major-class and
    channel breakdowns over whole months (12 × communities × classes × channels rows a year at most, however many
    cases; the daily rows, one per grid × minor category × channel × day, grow with the cases)."""

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    place_code = models.CharField(_("territory code"), max_length=GRID_CODE_LENGTH)  # written at community level
    major_category_id = models.IntegerField(_("major class"), null=True)
    channel = models.CharField(_("channel"), max_length=16)

    objects = ScopedManager()
    scope_rule = ScopeRule(code="place_code")

    class Meta:
        verbose_name = _("monthly case figures by class and channel")
        verbose_name_plural = _("monthly case figures by class and channel")
        indexes = [models.Index(fields=["place_code", "month"], name="month_class_place")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.place_code} {self.major_category_id} {self.channel}"


class CycleHistogram(models.Model):
    """How many of a month's cases (by intake) under a place took how long from intake to close, in the buckets of
    ``measures.cycle_bucket``: the median cycle time of a place and whole months without sorting the cases. Kept
    for every place at subdistrict, community and grid level (each case counts at its grid and every ancestor)."""

    month = models.DateField(_("month"))
    place_code = models.CharField(_("territory code"), max_length=GRID_CODE_LENGTH)
    counts = models.JSONField(_("cases per bucket"), default=dict)

    objects = ScopedManager()
    scope_rule = ScopeRule(code="place_code")

    class Meta:
        verbose_name = _("cycle time histogram")
        verbose_name_plural = _("cycle time histograms")
        constraints = [models.UniqueConstraint(fields=["place_code", "month"], name="cycle_histogram_unique")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.place_code}"


class RollupState(models.Model):
    """One row: up to when the rollup has taken case changes in (the watermark of the next refresh)."""

    refreshed_at = models.DateTimeField(null=True, blank=True)
    rebuilt_at = models.DateTimeField(null=True, blank=True)
    days_refreshed = models.PositiveIntegerField(default=0)

    objects = ScopedManager()
    scope_rule = ScopeRule(everyone=True)

    def __str__(self) -> str:
        return f"rollup as of {self.refreshed_at}"


class MonthlyReport(models.Model):
    """A month's report for a place (the subdistrict or a community), generated on demand or by the monthly task."""

    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    node = models.ForeignKey(
        "territory.Node", verbose_name=_("place"), on_delete=models.CASCADE, related_name="monthly_reports"
    )
    file = models.FileField(_("file"), upload_to="reports/%Y/%m/")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    intake = models.PositiveIntegerField(_("intake"), default=0)

    objects = ScopedManager()
    scope_rule = ScopeRule(node="node")

    class Meta:
        verbose_name = _("monthly report")
        verbose_name_plural = _("monthly reports")
        ordering = ["-month", "node__code"]
        constraints = [models.UniqueConstraint(fields=["month", "node"], name="monthly_report_unique")]

    def __str__(self) -> str:
        return f"{self.node_id} {self.month:%Y-%m}"
