"""The kinds of meeting are an editable table (Django admin), with the standing meetings and their rotas; meetings,
topics and decisions are run through the pages (their writes audited by the services), listed here read-mostly."""

from django.contrib import admin

from gongzhi.meetings.models import Decision, Meeting, MeetingKind, RotaMember, Series


@admin.register(MeetingKind)
class MeetingKindAdmin(admin.ModelAdmin[MeetingKind]):
    list_display = ("name", "code", "format", "quorum_percent", "notice_days", "day_of_month", "is_active")
    list_editable = ("quorum_percent", "notice_days", "day_of_month", "is_active")


class RotaInline(admin.TabularInline[RotaMember, Series]):
    model = RotaMember
    raw_id_fields = ("body",)
    extra = 0


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin[Series]):
    list_display = ("title", "kind", "place", "day_of_month", "start_time", "is_active")
    list_filter = ("kind", "is_active")
    raw_id_fields = ("place", "body")
    inlines = [RotaInline]


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin[Meeting]):
    list_display = ("title", "kind", "place", "starts_at", "status", "chair_body")
    list_filter = ("kind", "status")
    search_fields = ("title",)
    raw_id_fields = ("place", "body", "chair_body", "series", "created_by")
    date_hierarchy = "starts_at"


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin[Decision]):
    list_display = ("text", "meeting", "track", "status", "progress", "due_on", "done_at")
    list_filter = ("track", "status")
    raw_id_fields = ("meeting", "item", "case", "need", "owner")
    readonly_fields = ("status", "progress", "done_at")  # they follow the work (meetings.services.sync)
