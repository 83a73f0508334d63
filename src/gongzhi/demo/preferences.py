"""The demo's notification settings (issue 17, "Channels"), through ``messaging.services``: the subdistrict's default
channels per role (grid staff by SMS, departments and co-building units by e-mail), the police station's WeCom duty
group (a made-up webhook: the demo's channels record, nothing leaves the machine) and, in the main copy, a few demo
log-ins' own choices: ``gridworker`` quiet from 21:00 to 08:00, ``fudong`` e-mail only as a daily digest,
``police`` e-mail besides SMS. Runs before the inbox replay, so the replayed news already follows them."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING, Any

from gongzhi.accounts.choices import Role
from gongzhi.accounts.models import RoleAssignment, User
from gongzhi.messaging import services

if TYPE_CHECKING:
    from gongzhi.demo.context import BuildContext

# role: (SMS, e-mail) for the users who never chose
ROLE_DEFAULTS: dict[str, tuple[bool, bool]] = {
    Role.SUBDISTRICT_OPERATOR: (False, True),
    Role.COMMUNITY_STAFF: (True, True),
    Role.GRID_LEADER: (True, False),
    Role.GRID_WORKER: (True, False),
    Role.BUILDING_HEAD: (True, False),
    Role.MEDIATOR: (True, False),
    Role.DEPARTMENT_HANDLER: (False, True),
    Role.CO_BUILDING_UNIT: (False, True),
    Role.RESIDENT: (True, False),
}
DUTY_GROUP_BODY = "police"  # the body key (demo/names.py DEPARTMENTS) whose duty group the demo configures
DEMO_WEBHOOK = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=demo-{code}-{body}-0000-duty"
EMAIL_DOMAIN = "demo.gongzhi.invalid"  # never delivered: the demo's e-mail channel records


def _operator(ctx: BuildContext) -> User | None:
    row = (
        RoleAssignment.objects.filter(role=Role.SUBDISTRICT_OPERATOR, node=ctx.subdistrict, is_active=True)
        .order_by("id")
        .first()
    )
    return User.objects.get(pk=row.user_id) if row else None


def create_preferences(ctx: BuildContext) -> int:
    """Role defaults, one duty group, a few users' own choices. Returns the rows written."""
    operator = _operator(ctx) if ctx.subdistrict is not None else None
    if operator is None or ctx.subdistrict is None:
        return 0
    made = len(services.set_role_defaults(actor=operator, node_id=ctx.subdistrict.pk, defaults=dict(ROLE_DEFAULTS)))
    body = ctx.bodies.get(DUTY_GROUP_BODY)
    if body is not None:
        url = DEMO_WEBHOOK.format(code=ctx.code, body=DUTY_GROUP_BODY)
        made += services.set_duty_group(actor=operator, body_id=body.pk, webhook_url=url) is not None
    if not ctx.is_main:
        return made
    users = {u.username: u for u in User.objects.filter(username__in=["gridworker", "fudong", "police"])}
    for name in ("fudong", "police"):  # an address to send e-mail to
        if name in users and not users[name].email:
            users[name].email = f"{name}@{EMAIL_DOMAIN}"
            users[name].save(update_fields=["email"])
    choices: dict[str, dict[str, Any]] = {
        "gridworker": {"sms": True, "email": False, "quiet_start": datetime.time(21), "quiet_end": datetime.time(8),
                       "digest": False},
        "fudong": {"sms": False, "email": True, "quiet_start": datetime.time(22), "quiet_end": datetime.time(7),
                   "digest": True},
        "police": {"sms": True, "email": True, "quiet_start": datetime.time(22), "quiet_end": datetime.time(7),
                   "digest": False},
    }  # fmt: skip
    for name, choice in choices.items():
        if name in users and (users[name].phone or not choice["sms"]):
            services.save_preferences(actor=users[name], **choice)
            made += 1
    return made
