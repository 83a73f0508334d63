"""Sending a delivery, on the task worker (never in the request): :func:`deliver` takes the row, skips it when it is
already sent (a task run twice never sends twice), asks the channel, and records the answer. A failure that may pass
(a network error, a 5xx) is tried again after a growing pause (:data:`BACKOFF`); a permanent one, or the last
attempt, gives up. ``messaging.schedule`` re-enqueues due deliveries whose task was lost (or could not be deferred).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from gongzhi.messaging.channels.base import Outgoing, get
from gongzhi.messaging.choices import DeliveryState
from gongzhi.messaging.models import Delivery

log = logging.getLogger(__name__)

# The pause before attempt 2, 3, 4, 5; after the fifth failed attempt the delivery gives up.
BACKOFF = (
    datetime.timedelta(minutes=1),
    datetime.timedelta(minutes=5),
    datetime.timedelta(minutes=30),
    datetime.timedelta(hours=2),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
PENDING = (DeliveryState.QUEUED, DeliveryState.FAILED)


# A send to many (a notice to every household of a subdistrict) is queued as tasks of this many deliveries each: one
# queued task per delivery would cost the sending request one insert per phone. Each delivery is still attempted,
# retried and recorded on its own (``attempt``).
TASK_CHUNK = 200


def with_commit(queue: Callable[[], None]) -> None:
    """Queue tasks for what the caller's transaction writes, never before it commits. When the task backend keeps
    its queue in this database (django-tasks-db), the task rows are written now, inside that transaction: they
    commit with the rows they are about (no worker sees one sooner, a rollback drops them) and the request pays no
    second commit. Any other backend (the tests' immediate one) is called after the commit."""
    from django_tasks_db.backend import DatabaseBackend

    if isinstance(deliver.get_backend(), DatabaseBackend) and transaction.get_connection().in_atomic_block:
        queue()
    else:
        transaction.on_commit(queue)


def enqueue_many(ids: list[int]) -> None:
    if len(ids) <= 2:
        for pk in ids:
            deliver.enqueue(pk)
        return
    for start in range(0, len(ids), TASK_CHUNK):
        deliver_many.enqueue(ids[start : start + TASK_CHUNK])


def _enqueue_later(pk: int, at: datetime.datetime) -> None:
    """Run again at ``at`` when the backend can defer; otherwise the scheduler's sweep picks the row up when due."""
    if deliver.get_backend().supports_defer:
        deliver.using(run_after=at).enqueue(pk)


def _not_in_quiet_hours(d: Delivery, at: datetime.datetime) -> datetime.datetime:
    """A retried SMS keeps the quiet hours too (its user's, or the defaults for a phone without an account)."""
    from gongzhi.messaging import prefs, services
    from gongzhi.messaging.channels.base import SMS
    from gongzhi.messaging.choices import Urgency
    from gongzhi.messaging.models import Message

    if d.channel != SMS or d.urgency == Urgency.A:
        return at
    pref = prefs.DEFAULT_PREFERENCE
    user_id = (
        Message.objects.filter(pk=d.message_id).values_list("user_id", flat=True).first() if d.message_id else None
    )
    if user_id is not None:
        pref = prefs.effective([user_id])[user_id][0]
    return services.in_quiet_hours(pref, at) or at


def _address(d: Delivery) -> str:
    """Where the delivery goes: its address, or for a body's duty group the group's webhook URL (kept off the row)."""
    from gongzhi.messaging.models import DutyGroup
    from gongzhi.messaging.services import DUTY_GROUP

    if not d.address.startswith(DUTY_GROUP):
        return d.address
    group = DutyGroup.objects.filter(pk=d.address.removeprefix(DUTY_GROUP), is_active=True).first()
    return group.webhook_url if group is not None else ""


def attempt(delivery_id: int, now: datetime.datetime | None = None) -> str:
    """One attempt at one delivery; what happened, for the log."""
    now = now or timezone.now()
    with transaction.atomic():
        d = Delivery.objects.select_for_update(skip_locked=True).filter(pk=delivery_id).first()
        if d is None:
            return "locked or gone"
        if d.state not in PENDING:
            return f"already {d.state}"
        if d.next_attempt_at is not None and d.next_attempt_at > now:
            due = d.next_attempt_at
            transaction.on_commit(lambda: _enqueue_later(delivery_id, due))
            return "not due"
        address = _address(d)
        if not address:  # a duty group removed (or switched off) since: nobody to send to
            d.state, d.next_attempt_at, d.last_answer = DeliveryState.GAVE_UP, None, "duty group removed"
            d.save(update_fields=["state", "next_attempt_at", "last_answer"])
            return str(d.state)
        outgoing = Outgoing(channel=d.channel, address=address, subject=d.subject, body=d.body, key=d.key)
        try:
            result = get(d.channel).send(outgoing)
            ok, permanent, answer, provider_id = result.ok, result.permanent, result.answer, result.provider_id
        except Exception as exc:  # a channel must not raise; if it does, it is a failure that may pass
            log.exception("channel %s raised for delivery %s", d.channel, d.pk)
            ok, permanent, answer, provider_id = False, False, f"{type(exc).__name__}: {exc}", ""
        d.attempts += 1
        d.last_answer = answer[:1000]
        d.provider_id = provider_id[:100]
        if ok:
            d.state, d.sent_at, d.next_attempt_at = DeliveryState.SENT, now, None
        elif permanent or d.attempts >= MAX_ATTEMPTS:
            d.state, d.next_attempt_at = DeliveryState.GAVE_UP, None
        else:
            d.state = DeliveryState.FAILED
            d.next_attempt_at = _not_in_quiet_hours(d, now + BACKOFF[d.attempts - 1])
            due = d.next_attempt_at
            transaction.on_commit(lambda: _enqueue_later(delivery_id, due))
        d.save(update_fields=["attempts", "last_answer", "provider_id", "state", "sent_at", "next_attempt_at"])
        return str(d.state)


@task()
def deliver(delivery_id: int) -> str:
    return attempt(delivery_id)


@task()
def send_digests() -> str:
    """The daily digests (``messaging.schedule`` enqueues this once the digest hour has come; a rerun is harmless)."""
    from gongzhi.messaging import services

    return f"{len(services.send_digests())} digests"


@task()
def deliver_many(delivery_ids: list[int]) -> dict[str, int]:
    """Several deliveries, one after the other (:data:`TASK_CHUNK` at most): how many ended in each state."""
    outcome: dict[str, int] = {}
    for pk in delivery_ids:
        try:
            state = attempt(pk)
        except Exception:  # one bad row must not hold back the rest; the sweep (requeue_due) tries it again
            log.exception("delivery %s failed unexpectedly", pk)
            state = "error"
        outcome[state] = outcome.get(state, 0) + 1
    return outcome


def requeue_due(now: datetime.datetime | None = None, limit: int = 1000) -> int:
    """Enqueue the pending deliveries that are due (their task lost, or never deferred); how many."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(state__in=PENDING, next_attempt_at__lte=now).values_list("pk", flat=True)[:limit]
    ) + list(
        Delivery.objects.filter(
            state=DeliveryState.QUEUED,
            next_attempt_at__isnull=True,
            created_at__lte=now - datetime.timedelta(minutes=5),
        ).values_list("pk", flat=True)[:limit]
    )
    enqueue_many(ids)
    return len(ids)
