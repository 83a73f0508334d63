from django.contrib import admin

from gongzhi.territory.models import Body, CoJurisdiction, Node, PartyOrg


@admin.register(Node)
class NodeAdmin(admin.ModelAdmin[Node]):
    list_display = ("code", "name", "kind", "lead_body")
    list_filter = ("kind",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent", "lead_body")


@admin.register(Body)
class BodyAdmin(admin.ModelAdmin[Body]):
    list_display = ("name", "kind", "node", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    raw_id_fields = ("node",)


@admin.register(CoJurisdiction)
class CoJurisdictionAdmin(admin.ModelAdmin[CoJurisdiction]):
    list_display = ("node", "body", "note")
    raw_id_fields = ("node", "body")


@admin.register(PartyOrg)
class PartyOrgAdmin(admin.ModelAdmin[PartyOrg]):
    list_display = ("name", "kind", "node", "parent")
    list_filter = ("kind",)
    search_fields = ("name",)
    raw_id_fields = ("node", "parent")
