from django.contrib import admin

from gongzhi.registry.models import PartyMember, Person, PersonTag, Residence


class ResidenceInline(admin.TabularInline):
    model = Residence
    extra = 0
    raw_id_fields = ("household",)


class PersonTagInline(admin.TabularInline):
    model = PersonTag
    extra = 0


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ("name", "population_type", "household", "room", "is_active")
    list_filter = ("population_type", "is_active")
    search_fields = ("name",)
    raw_id_fields = ("household",)
    inlines = [ResidenceInline, PersonTagInline]


@admin.register(PartyMember)
class PartyMemberAdmin(admin.ModelAdmin):
    list_display = ("person", "member_type", "branch", "reported_in")
    list_filter = ("member_type", "reported_in")
    raw_id_fields = ("person", "branch", "work_unit")
