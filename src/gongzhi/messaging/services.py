"""Telling people: :func:`notify` (every app calls it inside its own service's transaction), marking messages read,
and staff re-queueing a failed delivery. Sending is never done here: ``messaging.tasks.deliver`` does it after commit.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from gongzhi.core import audit, bulk
from gongzhi.core.errors import NotFound, ValidationFailed
from gongzhi.core.messages import fmt, portable, stored
from gongzhi.messaging.channels.base import EMAIL, SMS
from gongzhi.messaging.choices import DeliveryState, Urgency
from gongzhi.messaging.models import Delivery, Message, Preference

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

DEFAULT_PREFERENCE = Preference()  # unsaved: the defaults for a user who never chose (and for a phone without account)


@dataclass(frozen=True)
class Recipient:
    """Someone to tell: a user (inbox, and their channels), or a phone / e-mail address without an account."""

    user_id: int | None
    phone: str = ""
    email: str = ""
    # This recipient's own values for the text's parameters (e.g. *their* count of households), over ``params``.
    params: dict[str, Any] | None = field(default=None, hash=False, compare=False)
    link: str = ""  # this recipient's own link (a household's read link), over ``link``


@dataclass(frozen=True)
class Notified:
    messages: int
    deliveries: list[int]


def in_quiet_hours(pref: Preference, at: datetime.datetime) -> datetime.datetime | None:
    """When the quiet hours around ``at`` end (local time), or None when ``at`` is outside them."""
    local = timezone.localtime(at)
    now = local.time()
    start, end = pref.quiet_start, pref.quiet_end
    if start == end:
        return None
    inside = (start <= now or now < end) if start > end else (start <= now < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += datetime.timedelta(days=1)
    return ends


def _key(*parts: Any) -> str:
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:64]


def _node_code(obj: models.Model | None) -> str:
    if obj is None:
        return ""
    if obj._meta.label_lower == "territory.node":
        return str(getattr(obj, "code", ""))
    for name in ("place_code", "node_code"):
        value = getattr(obj, name, "")
        if isinstance(value, str) and value:
            return value
    node = getattr(obj, "node", None)
    return str(getattr(node, "code", "") or "")


BATCH = 2000  # rows a bulk insert writes at once, values a look-up sends at once (SQLite's limit on parameters)


def _rows(qs: models.QuerySet[Any], name: str, values: list[Any]) -> list[Any]:
    """``qs.filter(name__in=values)``, a chunk of :data:`BATCH` values at a time (a notice reaches 60,000 phones)."""
    out: list[Any] = []
    for start in range(0, len(values), BATCH):
        out.extend(qs.filter(**{f"{name}__in": values[start : start + BATCH]}))
    return out


def _chunked(qs: models.QuerySet[Any], name: str, values: list[Any], column: str) -> list[Any]:
    """One column of ``qs.filter(name__in=values)``, chunked as :func:`_rows`."""
    out: list[Any] = []
    for start in range(0, len(values), BATCH):
        out.extend(qs.filter(**{f"{name}__in": values[start : start + BATCH]}).values_list(column, flat=True))
    return out


COPY_FROM = 500  # a send to this many addresses or more is written with one COPY on PostgreSQL
DELIVERY_COLUMNS = [
    "id", "message_id", "channel", "address", "subject", "body", "kind", "urgency", "node_code", "state", "attempts",
    "next_attempt_at", "last_answer", "provider_id", "key", "created_at", "sent_at",
]  # fmt: skip


def _write_deliveries(deliveries: list[Delivery]) -> list[int]:
    """Insert the deliveries; their ids. A big send (a notice to a subdistrict's households) goes in with one
    ``COPY`` and ids drawn beforehand (``core.bulk``); should a key have been written meanwhile by a concurrent send
    (or the table have a column this does not fill), it falls back to ``bulk_create`` skipping the conflicts."""
    if not deliveries:
        return []
    if connection.vendor == "postgresql" and len(deliveries) >= COPY_FROM:
        ids, created = bulk.reserve_ids(Delivery, len(deliveries)), timezone.now()
        rows = (
            (pk, d.message_id, d.channel, d.address, d.subject, d.body, d.kind, d.urgency, d.node_code, d.state,
             d.attempts, d.next_attempt_at, d.last_answer, d.provider_id, d.key, created, d.sent_at)
            for pk, d in zip(ids, deliveries, strict=True)
        )  # fmt: skip
        try:
            with transaction.atomic():  # a savepoint: a failed COPY leaves the caller's transaction usable
                bulk.copy_rows(Delivery, bulk.columns_of(Delivery, DELIVERY_COLUMNS), rows)
            return ids
        except IntegrityError:
            pass
    Delivery.objects.bulk_create(deliveries, ignore_conflicts=True, batch_size=BATCH)
    return _chunked(Delivery.objects.all(), "key", [d.key for d in deliveries], "pk")


def notify(
    *,
    actor: User | None,
    recipients: Iterable[Recipient],
    kind: str,
    text: Any,
    params: dict[str, Any] | None = None,
    link: str = "",
    obj: models.Model | None = None,
    urgency: str = "",
    dedupe: str,
    now: datetime.datetime | None = None,
) -> Notified:
    """Tell ``recipients`` something, in the caller's transaction: an inbox message for each user (in-app always),
    a delivery for each channel their preferences allow (SMS to the phone of a recipient without an account), the
    sends enqueued after commit. Never the actor ("not about my own act"); nobody twice (the same recipient listed
    again, or already told under ``dedupe`` before)."""
    now = now or timezone.now()
    actor_id = actor.pk if actor is not None else None
    seen: set[tuple[Any, ...]] = set()
    users: list[int] = []
    phones: list[str] = []
    own: dict[tuple[str, Any], tuple[dict[str, Any] | None, str]] = {}  # a recipient's own parameters and link
    for r in recipients:
        if r.user_id is not None:
            if r.user_id == actor_id or ("u", r.user_id) in seen:
                continue
            seen.add(("u", r.user_id))
            users.append(r.user_id)
            if r.params or r.link:
                own["u", r.user_id] = (r.params, r.link)
        elif r.phone and ("p", r.phone) not in seen:
            seen.add(("p", r.phone))
            phones.append(r.phone)
            if r.params or r.link:
                own["p", r.phone] = (r.params, r.link)
    texts: dict[str, tuple[dict[str, Any], str, str]] = {}  # each text rendered once however many read it
    # An SMS or e-mail is read outside the site: its link is absolute (GONGZHI_SITE_URL, the address people reach).
    site = str(getattr(settings, "GONGZHI_SITE_URL", "") or "").rstrip("/")

    def rendered(who: tuple[str, Any]) -> tuple[dict[str, Any], str, str, str]:
        """For one recipient: the kept text (code and values), the subject, the full text with its link, the link."""
        extra, own_link = own.get(who, (None, ""))
        values = {**(params or {}), **(extra or {})} if extra else (params or {})
        cache_key = repr(sorted(values.items())) if extra else ""
        if cache_key not in texts:
            kept = portable(fmt(text, **values) if values else text)
            kept_text = kept if isinstance(kept, dict) else {"msgid": kept, "params": {}}
            with translation.override(settings.LANGUAGE_CODE):  # rendered in the site's language (no reader's here)
                body = stored(kept_text)
            texts[cache_key] = (kept_text, body.splitlines()[0][:200] if body else "", body)
        kept_text, subject, body = texts[cache_key]
        to = own_link or link
        full = f"{body}\n{site}{to}" if to.startswith("/") and site else (f"{body}\n{to}" if to else body)
        return kept_text, subject, full, to

    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    node_code = _node_code(obj)
    already = set(_chunked(Message.objects.filter(dedupe_key=dedupe), "user_id", users, "user_id"))
    users = [u for u in users if u not in already]
    rows = [
        Message(user_id=u, kind=kind, text=rendered(("u", u))[0], link=rendered(("u", u))[3],
                object_type=object_type, object_id=object_id, urgency=urgency, dedupe_key=dedupe)
        for u in users
    ]  # fmt: skip
    Message.objects.bulk_create(rows, ignore_conflicts=True, batch_size=BATCH)  # told meanwhile elsewhere: once
    created = {m.user_id: m for m in _rows(Message.objects.filter(dedupe_key=dedupe), "user_id", users)}
    prefs = {p.user_id: p for p in _rows(Preference.objects.all(), "user_id", users)}
    accounts = {u.pk: u for u in _rows(get_user_model().objects.only("pk", "phone", "email"), "pk", users)}

    def delivery(channel: str, address: str, pref: Preference, msg: Message | None, who: tuple[str, Any]) -> Delivery:
        after = None
        if channel == SMS and urgency != Urgency.A:
            after = in_quiet_hours(pref, now)
        _kept, subject, full, _to = rendered(who)
        return Delivery(
            message=msg, channel=channel, address=address, subject=subject, body=full, kind=kind, urgency=urgency,
            node_code=node_code, next_attempt_at=after, key=_key(kind, dedupe, channel, address),
        )  # fmt: skip

    deliveries: list[Delivery] = []
    for u in users:
        pref, account = prefs.get(u, DEFAULT_PREFERENCE), accounts.get(u)
        phone = str(getattr(account, "phone", "") or "")
        email = str(getattr(account, "email", "") or "")
        if pref.sms and phone:
            deliveries.append(delivery(SMS, phone, pref, created.get(u), ("u", u)))
        if pref.email and email:
            deliveries.append(delivery(EMAIL, email, pref, created.get(u), ("u", u)))
    for phone in phones:
        deliveries.append(delivery(SMS, phone, DEFAULT_PREFERENCE, None, ("p", phone)))
    keys = [d.key for d in deliveries]
    old = set(_chunked(Delivery.objects.all(), "key", keys, "key"))  # told before under this dedupe
    deliveries = [d for d in deliveries if d.key not in old]
    ids = _write_deliveries(deliveries)
    audit.record_many(
        actor=actor,
        entries=[
            audit.Entry(action="messaging.notify", object_type=object_type or "messaging.message",
                        object_id=object_id or None, node_code=node_code,
                        after={"kind": kind, "users": users, "phones": len(phones), "deliveries": len(ids)})
        ] if users or ids else [],
    )  # fmt: skip
    if ids:
        from gongzhi.messaging import tasks

        tasks.with_commit(lambda: tasks.enqueue_many(ids))  # the sends' tasks commit with the messages
    return Notified(messages=len(users), deliveries=ids)


# --- the inbox ----------------------------------------------------------------------------------------------------


def _own(user: User, message_id: int) -> Message:
    try:
        return Message.objects.restrict(user, "view").filter(user=user).get(pk=message_id)
    except Message.DoesNotExist:
        raise NotFound(fmt(_("No message with id %(id)s."), id=message_id)) from None


@transaction.atomic
def mark_read(*, actor: User, message_id: int) -> Message:
    """Mark one of the actor's own messages read (not audited: one's own inbox, no one else's data)."""
    message = _own(actor, message_id)
    if message.read_at is None:
        message.read_at = timezone.now()
        message.save(update_fields=["read_at"])
    return message


@transaction.atomic
def mark_all_read(*, actor: User) -> int:
    return Message.objects.filter(user=actor, read_at__isnull=True).update(read_at=timezone.now())


# --- staff: a failed delivery sent again ---------------------------------------------------------------------------


@transaction.atomic
def resend(*, actor: User, delivery_id: int) -> Delivery:
    """Queue a failed or given-up delivery again, from attempt one (audited)."""
    try:
        d = Delivery.objects.restrict(actor, "change").select_for_update().get(pk=delivery_id)
    except Delivery.DoesNotExist:
        raise NotFound(fmt(_("No delivery with id %(id)s."), id=delivery_id)) from None
    if d.state not in (DeliveryState.FAILED, DeliveryState.GAVE_UP):
        raise ValidationFailed(_("Only a failed delivery can be sent again."))
    before = audit.snapshot(d, ["state", "attempts", "last_answer"])
    d.state, d.attempts, d.next_attempt_at = DeliveryState.QUEUED, 0, None
    d.save(update_fields=["state", "attempts", "next_attempt_at"])
    audit.record(actor=actor, action="messaging.resend", obj=d, node_code=d.node_code, before=before,
                 after={"state": d.state})  # fmt: skip
    from gongzhi.messaging import tasks

    pk = d.pk
    tasks.with_commit(lambda: tasks.enqueue_many([pk]))
    return d
