"""Writes of notices: send (or co-send) a notice, a resident reads it, a grid worker confirms reading.

**Once per household** (村居融洽, seed 000 "重复通知"): when a body sends a notice that another body already sent to
overlapping ground — the same text (normalised title + body, :func:`fingerprint`) published in the last
``DEDUP_DAYS`` days, or a notice named explicitly with ``joins_notice_id`` — the sender joins that notice as a
co-sender (:class:`NoticeSender`) and only the households that have not had it yet get a delivery. No household
ever gets the same text twice from equivalent notices in the window.

Sends within one subdistrict are serialised (a row lock on the subdistrict's node), so two bodies pressing "send"
at the same moment cannot both miss each other's notice.
"""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import ErrorDetail, Forbidden, NotFound, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import CODE_LEVELS, ancestor_codes, code_prefix_q
from gongzhi.messaging import kinds
from gongzhi.messaging import services as messaging
from gongzhi.notices import selectors
from gongzhi.notices.choices import ReadVia
from gongzhi.notices.models import Notice, NoticeDelivery, NoticeSender
from gongzhi.registry import selectors as registry
from gongzhi.registry import services as registry_services
from gongzhi.registry.models import Person
from gongzhi.territory.models import Body, Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

DEDUP_DAYS = 30
BATCH_SIZE = 1000
TITLE_MAX = 120
BODY_MAX = 10_000
TOKEN_BYTES = 16  # secrets.token_urlsafe(16): 22 characters, fits the 32-character column
_SPACE = re.compile(r"\s+")


@dataclass
class SendResult:
    """What a send did: the notice (new or joined), this sender's row, and the household arithmetic."""

    notice: Notice
    sender: NoticeSender
    joined: bool
    households: int  # households on the sender's ground that the notice reaches
    new_households: int  # of those, delivered now
    already_delivered: int  # of those, that already had it (from an earlier sender)
    already_from: list[str] = field(default_factory=list)  # who those earlier senders were


def _now() -> datetime.datetime:
    return timezone.now()


def normalise(text: str) -> str:
    """Text as compared for "the same notice": NFKC (full-width → half-width), case-folded, without whitespace."""
    return _SPACE.sub("", unicodedata.normalize("NFKC", text or "")).casefold()


def fingerprint(title: str, body: str) -> str:
    return hashlib.sha256(f"{normalise(title)}\n{normalise(body)}".encode()).hexdigest()


def _new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _sender_body(actor: User, area: Node, sender_body_id: int | None, details: list[ErrorDetail]) -> Body | None:
    """The body the actor sends for: the one named (it must be one of theirs); else their only body; else, of their
    bodies, the one that leads the place or the nearest place above it; with no body at all, the body that leads
    the place they are posted to (a community's staff act for its residents' committee)."""
    scope = actor.scope_for("notices.notice", "add")
    if sender_body_id is not None:
        body = Body.objects.filter(pk=sender_body_id).first()
        if body is None or not (scope.everything or body.pk in scope.bodies):
            details.append(ErrorDetail(field="sender_body_id", message=_("not a body you act for")))
            return None
        return body
    if len(scope.bodies) == 1:
        return Body.objects.filter(pk=next(iter(scope.bodies))).first()
    if scope.bodies:
        chain = Node.objects.filter(code__in=[*ancestor_codes(area.code), area.code]).values_list("code", "lead_body")
        for _code, lead_body_id in sorted(chain, key=lambda row: len(row[0]), reverse=True):
            if lead_body_id in scope.bodies:
                return Body.objects.filter(pk=lead_body_id).first()
        details.append(ErrorDetail(field="sender_body_id", message=_("say which body you send for")))
        return None
    posts = sorted((p for p in scope.prefixes if area.code.startswith(p)), key=len, reverse=True)
    if posts:
        post = Node.objects.select_related("lead_body").filter(code=posts[0]).first()
        return post.lead_body if post is not None else None
    return None


def _lock_ground(area: Node) -> None:
    """Serialise sends within one subdistrict (see the module's docstring)."""
    root = area.code[: CODE_LEVELS[0]]
    list(Node.objects.select_for_update().filter(code=root).values_list("pk", flat=True))


def _equivalents(notice_fp: str, now: datetime.datetime, joins: Notice | None) -> list[Notice]:
    """Notices that count as "the same" as the one being sent: same fingerprint in the window (and the one named)."""
    since = now - datetime.timedelta(days=DEDUP_DAYS)
    fingerprints = {notice_fp} | ({joins.fingerprint} if joins is not None else set())
    found = list(
        Notice.objects.filter(fingerprint__in=fingerprints, published_at__gte=since).order_by("-published_at", "-id")
    )
    if joins is not None and all(n.pk != joins.pk for n in found):
        found.insert(0, joins)
    return found


def _deliver(notice: Notice, household_ids: list[int], now: datetime.datetime) -> dict[int, str]:
    """Bulk-insert one delivery per household, in batches; household id → its read link's token."""
    tokens: dict[int, str] = {}
    for start in range(0, len(household_ids), BATCH_SIZE):
        batch = [
            NoticeDelivery(notice=notice, household_id=hid, token=_new_token(), delivered_at=now)
            for hid in household_ids[start : start + BATCH_SIZE]
        ]
        NoticeDelivery.objects.bulk_create(batch, batch_size=BATCH_SIZE)
        tokens.update((d.household_id, d.token) for d in batch)
    return tokens


# --- telling the households' contacts (issue 17: "a notice → the households' contacts, as before") -----------------

NOTICE_KIND = "notice.new"
kinds.register(NOTICE_KIND, _("Notices"))
NOTICE_TEXT = _("Notice from %(sender)s: “%(title)s”. Read it here:")


def _contacts(household_ids: list[int]) -> dict[int, str]:
    """Household id → its contact's phone: its first active resident with a phone (the contact the notice's unread
    list shows), in one query per :data:`BATCH_SIZE` households."""
    contacts: dict[int, str] = {}
    for start in range(0, len(household_ids), BATCH_SIZE):
        rows = (
            Person.objects.filter(household_id__in=household_ids[start : start + BATCH_SIZE], is_active=True)
            .exclude(phone="")
            .order_by("household_id", "id")
            .values_list("household_id", "phone")
        )
        for hid, phone in rows:
            phone = phone.strip()
            if phone.isdigit():
                contacts.setdefault(hid, phone)
    return contacts


def _accounts_by_phone(phones: list[str]) -> dict[str, int]:
    """Phone → the active account that has it (the oldest, if several), in one query per :data:`BATCH_SIZE`."""
    found: dict[str, int] = {}
    users = get_user_model().objects.filter(is_active=True)
    for start in range(0, len(phones), BATCH_SIZE):
        rows = users.filter(phone__in=phones[start : start + BATCH_SIZE]).order_by("pk").values_list("phone", "pk")
        for phone, pk in rows:
            found.setdefault(phone, pk)
    return found


def _tell_contacts(*, actor: User, notice: Notice, sender_name: str, tokens: dict[int, str]) -> None:
    """Tell the contact of each household the notice was just delivered to, through messaging, with the
    household's read link (opening it records the read, as before): in the inbox when the contact has an account
    (their phone), by SMS to the phone otherwise. Nobody twice: a contact of two households is told once, and a
    co-sender's send does not tell again whom the notice told before (one ``dedupe`` per notice)."""
    contacts = _contacts(sorted(tokens))
    if not contacts:
        return
    accounts = _accounts_by_phone(sorted(set(contacts.values())))
    recipients = []
    read = reverse("notices-read", args=["0"])[:-2]  # the read link's path up to its token
    for hid, phone in sorted(contacts.items()):
        link = f"{read}{tokens[hid]}/"
        uid = accounts.get(phone)
        recipients.append(
            messaging.Recipient(user_id=uid, link=link) if uid else messaging.Recipient(None, phone=phone, link=link)
        )
    messaging.notify(
        actor=actor,
        recipients=recipients,
        kind=NOTICE_KIND,
        text=NOTICE_TEXT,
        params={"sender": sender_name, "title": notice.title},
        obj=notice,
        dedupe=f"notice:{notice.pk}",
    )


def _who(sender: NoticeSender) -> str:
    return sender.body.name if sender.body is not None else str(sender.user)


@transaction.atomic
def deliver_notice(
    *,
    actor: User,
    title: str,
    body: str,
    area_id: int,
    tags: list[str] | None = None,
    sender_body_id: int | None = None,
    joins_notice_id: int | None = None,
) -> SendResult:
    """Send a notice to every household under ``area`` (with ``tags``: only households with an active resident
    carrying one of them today), once per household — see the module's docstring. Returns what happened."""
    if actor.scope_for("notices.notice", "add").is_empty:
        raise Forbidden(_("You may not send notices."))
    area = get_in_scope(Node, actor, area_id)
    if not actor.scope_for("notices.notice", "add").covers(area.code, area.lead_body_id):
        raise Forbidden(_("You may not send notices to this place."))
    joins = None
    if joins_notice_id is not None:
        try:
            joins = selectors.notice_get(user=actor, notice_id=joins_notice_id)
        except NotFound:
            raise ValidationFailed(
                _("The notice to join was not found."),
                [ErrorDetail(field="joins_notice_id", message=_("no such notice"))],
            ) from None
        title = title.strip() or joins.title
        body = body.strip() or joins.body

    details: list[ErrorDetail] = []
    title = (title or "").strip()
    body = (body or "").strip()
    if not title:
        details.append(ErrorDetail(field="title", message=_("a title is required")))
    elif len(title) > TITLE_MAX:
        details.append(
            ErrorDetail(field="title", message=fmt(_("at most %(title_max)s characters"), title_max=TITLE_MAX))
        )
    if not body:
        details.append(ErrorDetail(field="body", message=_("the text is required")))
    elif len(body) > BODY_MAX:
        details.append(ErrorDetail(field="body", message=fmt(_("at most %(body_max)s characters"), body_max=BODY_MAX)))
    clean_tags = registry_services.check_tag_kinds(tags, details)
    sender_body = _sender_body(actor, area, sender_body_id, details)
    if details:
        raise ValidationFailed(_("The notice cannot be sent."), details)

    _lock_ground(area)
    targets = set(registry.occupied_households(user=actor, area_code=area.code, tags=clean_tags))
    if not targets:
        raise ValidationFailed(
            _("No household matches: nobody lives there yet, or nobody carries these tags."),
            [ErrorDetail(field="tags" if clean_tags else "area_id", message=_("no households to deliver to"))],
        )
    now = _now()
    fp = joins.fingerprint if joins is not None else fingerprint(title, body)
    equivalents = _equivalents(fp, now, joins)
    already: dict[int, int] = {}  # household id → the notice it already has
    if equivalents:
        rows = NoticeDelivery.objects.filter(
            code_prefix_q("household__code", area.code), notice__in=equivalents
        ).values_list("household_id", "notice_id")
        already = {hid: nid for hid, nid in rows if hid in targets}
    overlap_by_notice: dict[int, int] = {}
    for nid in already.values():
        overlap_by_notice[nid] = overlap_by_notice.get(nid, 0) + 1

    notice: Notice
    if joins is not None:
        notice = Notice.objects.select_for_update().get(pk=joins.pk)
    elif overlap_by_notice:
        best = max(overlap_by_notice.items(), key=lambda item: (item[1], item[0]))[0]
        notice = Notice.objects.select_for_update().get(pk=best)
    else:
        notice = Notice.objects.create(
            title=title,
            body=body,
            area=area,
            tags=clean_tags,
            sender=actor,
            sender_body=sender_body,
            published_at=now,
            fingerprint=fp,
        )
    joined = joins is not None or bool(overlap_by_notice)
    before = audit.snapshot(notice, ["area", "tags"]) if joined else None

    if joined:
        # The notice now reaches the new ground too: it is addressed to the lowest place holding both grounds (so
        # that everyone whose households received it can see it), and to every household when either send was.
        common = selectors.common_area_code(notice.area.code, area.code)
        if common and common != notice.area.code:
            notice.area = Node.objects.get(code=common)
        if notice.tags and clean_tags:
            notice.tags = sorted(set(notice.tags) | set(clean_tags))
        else:
            notice.tags = []
        notice.save(update_fields=["area", "tags", "updated_at"])

    new_ids = sorted(targets - set(already))
    tokens = _deliver(notice, new_ids, now)
    delivered = len(tokens)
    sender = NoticeSender.objects.create(
        notice=notice, user=actor, body=sender_body, area=area, sent_at=now, new_households=delivered
    )
    _tell_contacts(actor=actor, notice=notice, sender_name=_who(sender), tokens=tokens)
    earlier: list[str] = []
    if already:
        earlier_senders = NoticeSender.objects.filter(notice_id__in=set(already.values()), new_households__gt=0)
        for row in earlier_senders.select_related("user", "body").order_by("sent_at", "id"):
            if row.pk != sender.pk and _who(row) not in earlier:
                earlier.append(_who(row))
    result = SendResult(
        notice=notice,
        sender=sender,
        joined=joined,
        households=len(targets),
        new_households=delivered,
        already_delivered=len(already),
        already_from=earlier,
    )
    audit.record(
        actor=actor,
        action="notices.co_sent" if joined else "notices.sent",
        obj=notice,
        node_code=area.code,
        before=before,
        after={
            "area": area.pk,
            "area_code": area.code,
            "tags": clean_tags,
            "sender_body": sender_body.pk if sender_body else None,
            "households": result.households,
            "new_households": delivered,
            "already_delivered": result.already_delivered,
            "notice_area": notice.area_id,
        },
        note=f"{delivered} new, {result.already_delivered} already delivered",
    )
    return result


def send_notice(
    *,
    actor: User,
    title: str,
    body: str,
    area_id: int,
    tags: list[str] | None = None,
    sender_body_id: int | None = None,
    joins_notice_id: int | None = None,
) -> Notice:
    """Send a notice (or join an equivalent one); see :func:`deliver_notice` for the household arithmetic."""
    return deliver_notice(
        actor=actor,
        title=title,
        body=body,
        area_id=area_id,
        tags=tags,
        sender_body_id=sender_body_id,
        joins_notice_id=joins_notice_id,
    ).notice


@transaction.atomic
def mark_read(*, token: str, via: str = ReadVia.LINK) -> NoticeDelivery:
    """A resident opened their read link (no account). Idempotent: the first read time is kept."""
    if via not in ReadVia.values:
        raise ValidationFailed(_("Unknown way of reading."), [ErrorDetail(field="via", message=_("not a known way"))])
    delivery = (
        NoticeDelivery.objects.select_for_update()
        .select_related("household", "notice")
        .filter(token=token or "")
        .first()
    )
    if delivery is None:
        raise NotFound(_("No notice for this link."))
    if delivery.read_at is None:
        delivery.read_at = _now()
        delivery.read_via = via
        delivery.save(update_fields=["read_at", "read_via"])
        audit.record(
            actor=None,
            action="notices.read",
            obj=delivery,
            node_code=delivery.household.code,
            after={"read_via": via},
        )
    return delivery


@transaction.atomic
def confirm_read(*, actor: User, delivery_id: int, via: str = ReadVia.IN_PERSON) -> NoticeDelivery:
    """A grid worker confirms that a household has the notice (in person or by phone). Needs ``change`` on the
    delivery in scope. Idempotent: a delivery already read keeps its first read time and way."""
    if via not in (ReadVia.IN_PERSON, ReadVia.PHONE):
        raise ValidationFailed(
            _("Confirm reading in person or by phone."),
            [
                ErrorDetail(
                    field="via",
                    message=fmt(
                        _("expected %(in_person)s or %(phone)s"), in_person=ReadVia.IN_PERSON, phone=ReadVia.PHONE
                    ),
                )
            ],
        )
    delivery = get_in_scope(
        NoticeDelivery,
        actor,
        delivery_id,
        "change",
        queryset=NoticeDelivery.objects.select_for_update().select_related("household", "notice"),
    )
    if delivery.read_at is None:
        delivery.read_at = _now()
        delivery.read_via = via
        delivery.confirmed_by = actor
        delivery.save(update_fields=["read_at", "read_via", "confirmed_by"])
        audit.record(
            actor=actor,
            action="notices.read_confirmed",
            obj=delivery,
            node_code=delivery.household.code,
            after={"read_via": via},
        )
    return delivery
