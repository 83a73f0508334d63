from django.db import models
from django.utils.translation import gettext_lazy as _


class NodeKind(models.TextChoices):
    SUBDISTRICT = "subdistrict", _("Subdistrict")
    COMMUNITY = "community", _("Community")
    VILLAGE = "village", _("Village")
    GRID = "grid", _("Grid")
    BUILDING = "building", _("Building")
    HOUSEHOLD = "household", _("Household")


# The length of a node's hierarchical code at each level. A child's code is its parent's code plus a sequence:
# subdistrict = district(6)+street(3); community = +3; grid = +3 (the national 15-digit grid code); building = +4;
# household = +4. A subtree is therefore every code that starts with the root's code.
CODE_LENGTH = {
    NodeKind.SUBDISTRICT: 9,
    NodeKind.COMMUNITY: 12,
    NodeKind.VILLAGE: 12,
    NodeKind.GRID: 15,
    NodeKind.BUILDING: 19,
    NodeKind.HOUSEHOLD: 23,
}

# Which kinds may sit under which.
CHILD_KINDS = {
    NodeKind.SUBDISTRICT: (NodeKind.COMMUNITY, NodeKind.VILLAGE),
    NodeKind.COMMUNITY: (NodeKind.GRID,),
    NodeKind.VILLAGE: (NodeKind.GRID,),
    NodeKind.GRID: (NodeKind.BUILDING,),
    NodeKind.BUILDING: (NodeKind.HOUSEHOLD,),
    NodeKind.HOUSEHOLD: (),
}


class BodyKind(models.TextChoices):
    SUBDISTRICT_OFFICE = "subdistrict_office", _("Subdistrict office")
    RESIDENTS_COMMITTEE = "residents_committee", _("Residents' committee")
    VILLAGE_COMMITTEE = "village_committee", _("Village committee")
    ECONOMIC_COOPERATIVE = "economic_cooperative", _("Economic co-operative")
    OWNERS_COMMITTEE = "owners_committee", _("Owners' committee")
    PROPERTY_COMPANY = "property_company", _("Property company")
    CO_BUILDING_UNIT = "co_building_unit", _("Co-building unit")
    DEPARTMENT = "department", _("Department")
    COURT = "court", _("Court")
    SOCIAL_ORGANISATION = "social_organisation", _("Social organisation")
    ENTERPRISE = "enterprise", _("Enterprise")
    SCHOOL = "school", _("School")
    HOSPITAL = "hospital", _("Hospital")


# Bodies that can lead (own) a place: the ones accountable for everything that happens on it.
LEADING_BODY_KINDS = (
    BodyKind.SUBDISTRICT_OFFICE,
    BodyKind.RESIDENTS_COMMITTEE,
    BodyKind.VILLAGE_COMMITTEE,
    BodyKind.ECONOMIC_COOPERATIVE,
    BodyKind.PROPERTY_COMPANY,
)


class PartyOrgKind(models.TextChoices):
    WORKING_COMMITTEE = "working_committee", _("Party working committee")
    COMMUNITY_COMMITTEE = "community_committee", _("Community party committee")
    GENERAL_BRANCH = "general_branch", _("General party branch")
    VILLAGE_BRANCH = "village_branch", _("Village party branch")
    GRID_BRANCH = "grid_branch", _("Grid party branch")
    BUILDING_GROUP = "building_group", _("Building party group")
    PARTY_HOUSEHOLD = "party_household", _("Party household")


# Party tree level of each kind: 党工委 → 社区党委/党总支/村党支部 → 网格党支部 → 楼栋党小组 → 党员中心户.
PARTY_LEVEL = {
    PartyOrgKind.WORKING_COMMITTEE: 0,
    PartyOrgKind.COMMUNITY_COMMITTEE: 1,
    PartyOrgKind.GENERAL_BRANCH: 1,
    PartyOrgKind.VILLAGE_BRANCH: 1,
    PartyOrgKind.GRID_BRANCH: 2,
    PartyOrgKind.BUILDING_GROUP: 3,
    PartyOrgKind.PARTY_HOUSEHOLD: 4,
}


# What is counted under each kind of place, in the order shown (a place's panel, "my places" on the workbench).
COUNTED_KINDS: dict[NodeKind, tuple[NodeKind, ...]] = {
    NodeKind.SUBDISTRICT: (NodeKind.COMMUNITY, NodeKind.VILLAGE, NodeKind.GRID, NodeKind.BUILDING, NodeKind.HOUSEHOLD),
    NodeKind.COMMUNITY: (NodeKind.GRID, NodeKind.BUILDING, NodeKind.HOUSEHOLD),
    NodeKind.VILLAGE: (NodeKind.GRID, NodeKind.BUILDING, NodeKind.HOUSEHOLD),
    NodeKind.GRID: (NodeKind.BUILDING, NodeKind.HOUSEHOLD),
    NodeKind.BUILDING: (NodeKind.HOUSEHOLD,),
    NodeKind.HOUSEHOLD: (),
}
