from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    SUBDISTRICT_OPERATOR = "subdistrict_operator", _("Subdistrict operator")
    COMMUNITY_STAFF = "community_staff", _("Community staff")
    GRID_LEADER = "grid_leader", _("Grid leader")
    GRID_WORKER = "grid_worker", _("Grid worker")
    BUILDING_HEAD = "building_head", _("Building head")
    MEDIATOR = "mediator", _("Mediator")
    DEPARTMENT_HANDLER = "department_handler", _("Department handler")
    CO_BUILDING_UNIT = "co_building_unit", _("Co-building unit")
    RESIDENT = "resident", _("Resident")


class Post(models.TextChoices):
    """The post a person holds under a role: grid staffing "1+3+N" and community posts."""

    GRID_LEADER = "grid_leader", _("Grid leader")  # the "1"
    FULL_TIME = "full_time", _("Full-time grid worker")  # the "3" …
    PART_TIME = "part_time", _("Part-time grid worker")
    INSTRUCTOR = "instructor", _("Grid instructor")
    POLICE = "police", _("Community police officer")  # … and the "N"
    PROPERTY = "property", _("Property staff")
    VOLUNTEER = "volunteer", _("Volunteer")
    PARTY_MEMBER = "party_member", _("Party member")
    SECRETARY = "secretary", _("Secretary")
    SOCIAL_WORKER = "social_worker", _("Social worker")
    OTHER = "other", _("Other")


# Grid staffing "1+3+N" (一格多员): the one, the three, and everyone else.
GRID_CORE_POSTS = (Post.GRID_LEADER, Post.FULL_TIME, Post.PART_TIME, Post.INSTRUCTOR)
