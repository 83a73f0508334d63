from django.contrib import admin

from gongzhi.recognition.models import Campaign, Nomination, PanelMember, Review, Vote


class PanelInline(admin.TabularInline[PanelMember, Campaign]):
    model = PanelMember
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin[Campaign]):
    list_display = ("title", "subject", "area", "stage", "public_voting", "quota", "published_at")
    list_filter = ("subject", "stage", "public_voting")
    search_fields = ("title",)
    raw_id_fields = ("area", "owner_body", "created_by")
    inlines = [PanelInline]


@admin.register(Nomination)
class NominationAdmin(admin.ModelAdmin[Nomination]):
    list_display = ("__str__", "campaign", "status", "decided_at")
    list_filter = ("status",)
    raw_id_fields = ("campaign", "household", "person", "place", "nominated_by")


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin[Vote]):
    list_display = ("nomination", "campaign", "created_at", "flagged", "ip")
    list_filter = ("flagged",)
    raw_id_fields = ("campaign", "nomination", "user")
    readonly_fields = ("phone_hash", "voter_key", "flags")


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin[Review]):
    list_display = ("nomination", "member", "approve", "score")
    raw_id_fields = ("nomination", "member")
