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
from gongzhi.core.errors import ErrorDetail, NotFound, ValidationFailed
from gongzhi.core.messages import fmt, portable, stored
from gongzhi.messaging import prefs
from gongzhi.messaging.channels.base import EMAIL, SMS, WECOM
from gongzhi.messaging.choices import DeliveryState, Urgency
from gongzhi.messaging.models import Delivery, DutyGroup, Message, Preference, RoleDefault

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL (accounts' User)

DEFAULT_PREFERENCE = prefs.DEFAULT_PREFERENCE
# A WeCom delivery to a body's duty group names the group, not its webhook URL (a secret): the send looks it up.
DUTY_GROUP = "dutygroup:"


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
    "next_attempt_at", "last_answer", "provider_id", "key", "created_at", "sent_at", "digest_id",
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
             d.attempts, d.next_attempt_at, d.last_answer, d.provider_id, d.key, created, d.sent_at, d.digest_id)
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
    bodies: Iterable[int] = (),
    now: datetime.datetime | None = None,
) -> Notified:
    """Tell ``recipients`` something, in the caller's transaction: an inbox message for each user (in-app always),
    a delivery for each channel their preferences allow (SMS to the phone of a recipient without an account; held
    for the daily digest when the user chose it, unless urgency A), one WeCom delivery to the duty group of each of
    ``bodies`` that has one, the sends enqueued after commit. Never the actor ("not about my own act"); nobody twice
    (the same recipient listed again, or already told under ``dedupe`` before)."""
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
    chosen = prefs.effective(users)  # their own choice, else their roles' defaults, else the built-in ones
    accounts = {u.pk: u for u in _rows(get_user_model().objects.only("pk", "phone", "email"), "pk", users)}

    def delivery(channel: str, address: str, pref: Preference, msg: Message | None, who: tuple[str, Any]) -> Delivery:
        after, state = None, DeliveryState.QUEUED
        if msg is not None and pref.digest and urgency != Urgency.A:
            state = DeliveryState.HELD  # sent with the day's others (send_digests)
        elif channel == SMS and urgency != Urgency.A:
            after = in_quiet_hours(pref, now)
        _kept, subject, full, _to = rendered(who)
        return Delivery(
            message=msg, channel=channel, address=address, subject=subject, body=full, kind=kind, urgency=urgency,
            node_code=node_code, next_attempt_at=after, state=state, key=_key(kind, dedupe, channel, address),
        )  # fmt: skip

    deliveries: list[Delivery] = []
    for u in users:
        pref, account = chosen[u][0], accounts.get(u)
        phone = str(getattr(account, "phone", "") or "")
        email = str(getattr(account, "email", "") or "")
        if pref.sms and phone:
            deliveries.append(delivery(SMS, phone, pref, created.get(u), ("u", u)))
        if pref.email and email:
            deliveries.append(delivery(EMAIL, email, pref, created.get(u), ("u", u)))
    for phone in phones:
        deliveries.append(delivery(SMS, phone, DEFAULT_PREFERENCE, None, ("p", phone)))
    body_ids = sorted(set(bodies))
    groups = DutyGroup.objects.filter(body_id__in=body_ids, is_active=True) if body_ids else DutyGroup.objects.none()
    for group_id, body_id in groups.values_list("pk", "body_id"):
        d = delivery(WECOM, f"{DUTY_GROUP}{group_id}", DEFAULT_PREFERENCE, None, ("b", body_id))
        d.key = _key(kind, dedupe, WECOM, "body", body_id)  # once per body, whatever its webhook becomes
        deliveries.append(d)
    keys = [d.key for d in deliveries]
    old = set(_chunked(Delivery.objects.all(), "key", keys, "key"))  # told before under this dedupe
    deliveries = [d for d in deliveries if d.key not in old]
    ids = _write_deliveries(deliveries)
    held = sum(1 for d in deliveries if d.state == DeliveryState.HELD)
    if held:  # held for the daily digest: written, not sent now
        ids = list(Delivery.objects.filter(pk__in=ids, state=DeliveryState.QUEUED).values_list("pk", flat=True))
    audit.record_many(
        actor=actor,
        entries=[
            audit.Entry(action="messaging.notify", object_type=object_type or "messaging.message",
                        object_id=object_id or None, node_code=node_code,
                        after={"kind": kind, "users": users, "phones": len(phones), "deliveries": len(ids),
                               "held": held})
        ] if users or ids or held else [],
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


# --- one's own preferences -----------------------------------------------------------------------------------------


@transaction.atomic
def save_preferences(
    *,
    actor: User,
    sms: bool,
    email: bool,
    quiet_start: datetime.time,
    quiet_end: datetime.time,
    digest: bool,
) -> Preference:
    """The actor's own channels, quiet hours and digest choice (audited). SMS needs a phone on the account, e-mail
    an address. Turning the digest off sends what it held at once (its quiet hours still apply to SMS)."""
    details = []
    if sms and not str(getattr(actor, "phone", "") or "").strip():
        details.append(ErrorDetail(field="sms", message=_("SMS needs a phone number on your account.")))
    if email and not str(getattr(actor, "email", "") or "").strip():
        details.append(ErrorDetail(field="email", message=_("E-mail needs an e-mail address on your account.")))
    if details:
        raise ValidationFailed(_("These channels cannot reach you."), details=details)
    pref = Preference.objects.select_for_update().filter(user=actor).first()
    fields = ["sms", "email", "quiet_start", "quiet_end", "digest"]
    before = audit.snapshot(pref, fields) if pref is not None else None
    was_digest = pref is not None and pref.digest
    if pref is None:
        pref = Preference(user=actor)
    pref.sms, pref.email, pref.quiet_start, pref.quiet_end, pref.digest = sms, email, quiet_start, quiet_end, digest
    pref.save()
    after = audit.snapshot(pref, fields)
    audit.record(actor=actor, action="messaging.preferences", obj=pref, before=before, after=after)
    if was_digest and not digest:
        _release_held(actor, pref)
    return pref


def _release_held(user: User, pref: Preference) -> None:
    """The sends held for a digest the user no longer wants: queued now (SMS after the quiet hours)."""
    now = timezone.now()
    held = list(Delivery.objects.select_for_update().filter(state=DeliveryState.HELD, message__user=user))
    for d in held:
        d.state = DeliveryState.QUEUED
        d.next_attempt_at = in_quiet_hours(pref, now) if d.channel == SMS and d.urgency != Urgency.A else None
    Delivery.objects.bulk_update(held, ["state", "next_attempt_at"])
    ids = [d.pk for d in held]
    if ids:
        from gongzhi.messaging import tasks

        transaction.on_commit(lambda: tasks.enqueue_many(ids))


# --- the subdistrict: its roles' default channels, its bodies' WeCom duty groups ------------------------------------


def _may_configure(actor: User, model: str, node: Any) -> None:
    from gongzhi.core.access import reaches

    if not reaches(actor, model, "change", node):
        raise NotFound(fmt(_("No subdistrict with id %(id)s."), id=node.pk))


@transaction.atomic
def set_role_defaults(*, actor: User, node_id: int, defaults: dict[str, tuple[bool, bool]]) -> list[RoleDefault]:
    """The subdistrict's default channels per role, ``{role: (sms, email)}`` (a role left out keeps its row; audited).
    They apply to the users of those roles on the subdistrict's ground who never chose their own."""
    from gongzhi.accounts.choices import Role
    from gongzhi.territory.choices import NodeKind
    from gongzhi.territory.models import Node

    node = Node.objects.restrict(actor, "view").filter(pk=node_id, kind=NodeKind.SUBDISTRICT).first()
    if node is None:
        raise NotFound(fmt(_("No subdistrict with id %(id)s."), id=node_id))
    _may_configure(actor, "messaging.roledefault", node)
    unknown = sorted(set(defaults) - set(Role.values) - {Role.ADMIN})
    if unknown or Role.ADMIN in defaults:
        raise ValidationFailed(
            _("Unknown role."),
            details=[ErrorDetail(field="role", message=fmt(_("Unknown role: %(role)s."), role=r))
                     for r in unknown or [Role.ADMIN]],
        )  # fmt: skip
    existing = {d.role: d for d in RoleDefault.objects.select_for_update().filter(node=node)}
    before = {role: [d.sms, d.email] for role, d in existing.items()}
    rows = []
    for role, (sms, email) in defaults.items():
        row = existing.get(role) or RoleDefault(node=node, role=role)
        row.sms, row.email = bool(sms), bool(email)
        row.save()
        existing[role] = row
        rows.append(row)
    audit.record(actor=actor, action="messaging.role_defaults", obj=node, node_code=node.code, before=before,
                 after={role: [d.sms, d.email] for role, d in existing.items()})  # fmt: skip
    return rows


def _check_webhook(url: str) -> str:
    import urllib.parse

    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc or not parts.query:
        raise ValidationFailed(
            _("This is not a WeCom group robot webhook URL."),
            details=[ErrorDetail(field="webhook_url", message=_(
                "Paste the robot's whole webhook URL, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…"))],
        )  # fmt: skip
    return url


@transaction.atomic
def set_duty_group(*, actor: User, body_id: int, webhook_url: str | None, is_active: bool = True) -> DutyGroup | None:
    """A body's WeCom duty group: a new webhook URL (``None``: keep the stored one; ``""``: remove the group). The
    URL is a secret: the audit keeps it masked."""
    from gongzhi.territory.models import Body

    body = Body.objects.restrict(actor, "view").filter(pk=body_id).first()
    if body is None:
        raise NotFound(fmt(_("No body with id %(id)s."), id=body_id))
    group = DutyGroup.objects.select_for_update().filter(body=body).first()
    allowed = DutyGroup.objects.restrict(actor, "change")
    if not (allowed.filter(pk=group.pk).exists() if group else may_set_duty_group(actor, body)):
        raise NotFound(fmt(_("No body with id %(id)s."), id=body_id))
    before = {"webhook_url": group.masked, "is_active": group.is_active} if group else None
    if webhook_url == "":
        if group is not None:
            group.delete()
        audit.record(actor=actor, action="messaging.duty_group", obj=body, node_code=_body_code(body),
                     before=before, after=None)  # fmt: skip
        return None
    if group is None:
        if webhook_url is None:
            raise ValidationFailed(
                _("This is not a WeCom group robot webhook URL."),
                details=[ErrorDetail(field="webhook_url", message=_("Paste the robot's webhook URL."))],
            )
        group = DutyGroup(body=body)
    if webhook_url is not None:
        group.webhook_url = _check_webhook(webhook_url)
    group.is_active = is_active
    group.save()
    audit.record(actor=actor, action="messaging.duty_group", obj=body, node_code=_body_code(body), before=before,
                 after={"webhook_url": group.masked, "is_active": group.is_active})  # fmt: skip
    return group


def _body_code(body: Any) -> str:
    return str(getattr(body.node, "code", "") or "") if body.node_id else ""


def may_set_duty_group(actor: User, body: Any) -> bool:
    """May the actor configure this body's duty group (none yet): the rule of ``DutyGroup`` applied to the body."""
    scope = actor.scope_for("messaging.dutygroup", "add")
    if scope.everything:
        return True
    if body.pk in scope.bodies:
        return True
    if body.node_id is None:
        return bool(scope.prefixes or scope.bodies or scope.lead_bodies)
    return bool(scope.covers(body.node.code, body.node.lead_body_id))


# --- the daily digest -------------------------------------------------------------------------------------------------


def digest_hour() -> int:
    """The local hour the daily digest goes out (``GONGZHI_MESSAGING_DIGEST_HOUR``, 18 by default)."""
    return int(getattr(settings, "GONGZHI_MESSAGING_DIGEST_HOUR", 18))


@transaction.atomic
def send_digests(*, now: datetime.datetime | None = None) -> list[int]:
    """One SMS / e-mail per user and channel with the sends held for their digest until ``now``, each held row
    marked as carried by it; enqueued after commit. Idempotent: the day's digest has a key of its own, so a rerun
    the same day sends nothing again (what was held since waits for tomorrow's). Returns the digests' ids."""
    now = now or timezone.now()
    day = timezone.localdate(now).isoformat()
    held = list(
        Delivery.objects.select_for_update(of=("self",))
        .filter(state=DeliveryState.HELD, message__isnull=False, created_at__lte=now)
        .select_related("message")
        .order_by("created_at", "pk")
    )
    groups: dict[tuple[int, str, str], list[Delivery]] = {}
    for d in held:
        assert d.message is not None
        groups.setdefault((d.message.user_id, d.channel, d.address), []).append(d)
    keys = {g: _key("digest", *g, day) for g in groups}
    done = set(Delivery.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    chosen = prefs.effective(u for u, _c, _a in groups)
    ids: list[int] = []
    with translation.override(settings.LANGUAGE_CODE):
        for group, rows in groups.items():
            if keys[group] in done:
                continue  # today's digest went already: these wait for tomorrow's
            user_id, channel, address = group
            subject = str(fmt(_("Your daily digest: %(count)s messages"), count=len(rows)))
            after = in_quiet_hours(chosen[user_id][0], now) if channel == SMS else None
            digest = Delivery.objects.create(
                channel=channel, address=address, subject=subject[:200],
                body="\n\n".join([subject, *(r.body for r in rows)]), kind="digest",
                node_code="", next_attempt_at=after, key=keys[group],
            )  # fmt: skip
            Delivery.objects.filter(pk__in=[r.pk for r in rows]).update(state=DeliveryState.DIGESTED, digest=digest)
            ids.append(digest.pk)
    audit.record_many(
        actor=None,
        entries=[audit.Entry(action="messaging.digest", object_type="messaging.delivery", object_id=pk,
                             after={"day": day}) for pk in ids],
    )  # fmt: skip
    if ids:
        from gongzhi.messaging import tasks

        transaction.on_commit(lambda: tasks.enqueue_many(ids))
    return ids
