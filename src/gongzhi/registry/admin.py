from django.contrib import admin
from django.http import HttpRequest

from gongzhi.registry.models import (
    CoBuildingAgreement,
    ImportRun,
    OrgContact,
    PartyMember,
    Person,
    PersonTag,
    Residence,
)


class ResidenceInline(admin.TabularInline[Residence, Person]):
    model = Residence
    extra = 0
    raw_id_fields = ("household",)


class PersonTagInline(admin.TabularInline[PersonTag, Person]):
    model = PersonTag
    extra = 0


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin[Person]):
    list_display = ("name", "population_type", "household", "room", "is_active")
    list_filter = ("population_type", "is_active")
    search_fields = ("name",)
    raw_id_fields = ("household",)
    inlines = [ResidenceInline, PersonTagInline]


@admin.register(PartyMember)
class PartyMemberAdmin(admin.ModelAdmin[PartyMember]):
    list_display = ("person", "member_type", "branch", "reported_in")
    list_filter = ("member_type", "reported_in")
    raw_id_fields = ("person", "branch", "work_unit")


@admin.register(OrgContact)
class OrgContactAdmin(admin.ModelAdmin[OrgContact]):
    list_display = ("name", "body", "title", "is_primary")
    list_filter = ("is_primary",)
    search_fields = ("name", "body__name")
    raw_id_fields = ("body",)


@admin.register(CoBuildingAgreement)
class CoBuildingAgreementAdmin(admin.ModelAdmin[CoBuildingAgreement]):
    list_display = ("title", "unit", "partner", "starts", "ends", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "unit__name")
    raw_id_fields = ("unit", "partner", "party_org")


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin[ImportRun]):
    """Import runs are records: read-only here (they are made by ``registry.imports.run_import``)."""

    list_display = ("created_at", "kind", "file_name", "actor", "applied", "total_rows", "created", "updated", "failed")
    list_filter = ("kind", "applied", "good_rows_only")
    search_fields = ("file_name", "actor__username")
    exclude = ("bad_rows",)
    readonly_fields = (
        "kind", "actor", "file_name", "good_rows_only", "applied", "total_rows", "created", "updated", "unchanged",
        "failed", "errors", "node_code",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ImportRun | None = None) -> bool:
        return False
