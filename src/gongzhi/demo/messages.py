"""The demo's inbox (issue 17): what the last five days of the demo's cases told people. The year of cases is written
in bulk (``demo/cases.py``), not through the workflow, so nobody was told anything; this step replays the telling of
the recent events through ``cases.notify.send`` — the same plan and the same ``messaging.services.notify`` a live
transition uses — and then dates each message back to its event and marks the older ones read, as their readers
would have (the demo is a history). SMS and e-mail go to the recording channel (nothing leaves the machine)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from gongzhi.cases import notify
from gongzhi.cases.models import CaseEvent
from gongzhi.messaging.models import Message

if TYPE_CHECKING:
    from gongzhi.demo.context import BuildContext

DAYS = 5
READ_AFTER = timedelta(days=2)  # what is older than this has been read


def create_messages(ctx: BuildContext) -> int:
    """Replay the telling of this copy's events of the last ``DAYS`` days. Returns the inbox messages written."""
    if ctx.subdistrict is None:
        return 0
    since = ctx.now - timedelta(days=DAYS)
    events = (
        CaseEvent.objects.filter(case__place_code__startswith=ctx.code, at__gte=since)
        .select_related("case", "case__node", "actor")
        .order_by("at", "pk")
    )
    before = Message.objects.count()
    for event in events.iterator(chunk_size=500):
        last = Message.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        notify.send(event.case, event, event.actor)
        written = Message.objects.filter(pk__gt=last)  # this event's (an overdue one's key is per deadline)
        read_at = event.at + READ_AFTER if event.at + READ_AFTER < ctx.now else None
        written.update(created_at=event.at, read_at=read_at)
    return Message.objects.count() - before
