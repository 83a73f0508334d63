"""Writes of service posts: publish a post, link an account to its registry person, claim a place (capacity kept
under concurrency: the post's row is locked while its places are counted), record service, give a claim up, and the
post's owner confirms the service. Every write is audited; the claimant and the owner are told through messaging."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.messaging import kinds
from gongzhi.messaging import services as messaging
from gongzhi.registry.models import Person
from gongzhi.service.choices import ClaimStatus, Eligibility
from gongzhi.service.models import Claim, PersonAccount, Post, PostKind, Service
from gongzhi.territory.models import Body, Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

CLAIMED_KIND = "service.claimed"
CONFIRMED_KIND = "service.confirmed"
kinds.register(CLAIMED_KIND, _("A post was claimed"))
kinds.register(CONFIRMED_KIND, _("My service was confirmed"))
POST_KINDS = ("community", "village", "grid", "building")
MAX_CAPACITY = 500


def _invalid(field: str, message: object) -> ValidationFailed:
    return ValidationFailed(_("The post could not be saved."), [ErrorDetail(field=field, message=str(message))])


@transaction.atomic
def publish_post(
    *,
    actor: User,
    kind_id: int,
    title: str,
    area_id: int,
    schedule: str,
    capacity: int,
    eligibility: str = Eligibility.PARTY,
    description: str = "",
    owner_body_id: int | None = None,
) -> Post:
    """A community, grid or unit offers a post on a place of its ground."""
    title, schedule = (title or "").strip(), (schedule or "").strip()
    if not title:
        raise _invalid("title", _("Give the post a title."))
    if not schedule:
        raise _invalid("schedule", _("Say when the post is served."))
    if not 1 <= capacity <= MAX_CAPACITY:
        raise _invalid("capacity", fmt(_("Places must be between 1 and %(max)s."), max=MAX_CAPACITY))
    if eligibility not in Eligibility.values:
        raise _invalid("eligibility", _("Choose who may claim the post."))
    kind = PostKind.objects.filter(pk=kind_id, is_active=True).first()
    if kind is None:
        raise _invalid("kind_id", _("Choose a kind of post."))
    area = Node.objects.restrict(actor, "view").filter(pk=area_id, kind__in=POST_KINDS).first()
    if area is None:
        raise _invalid("area_id", _("Choose a community, grid or building of your ground."))
    body = None
    if owner_body_id is not None:
        body = Body.objects.restrict(actor, "view").filter(pk=owner_body_id).first()
        if body is None:
            raise _invalid("owner_body_id", _("Choose an organisation you work for."))
    post = Post(
        kind=kind,
        title=title[:120],
        description=description.strip(),
        area=area,
        owner_body=body,
        schedule=schedule[:120],
        capacity=capacity,
        eligibility=eligibility,
        created_by=actor,
    )
    if not Post.scope_rule.admits(actor.scope_for("service.post", "add"), post):
        raise Forbidden(_("You may not publish posts here."))
    post.save()
    audit.record(
        actor=actor,
        action="service.post.publish",
        obj=post,
        node_code=area.code,
        after={"title": post.title, "capacity": capacity, "eligibility": eligibility},
    )
    return post


@transaction.atomic
def close_post(*, actor: User, post_id: int) -> Post:
    post = get_in_scope(Post, actor, post_id, "change")
    post.is_open = False
    post.save(update_fields=["is_open", "updated_at"])
    audit.record(actor=actor, action="service.post.close", obj=post, node_code=post.area.code)
    return post


@transaction.atomic
def link_account(*, actor: User, user_id: int, person_id: int) -> PersonAccount:
    """Staff record which registry person an account is (so its holder can claim posts as that person)."""
    person = Person.objects.restrict(actor, "change").filter(pk=person_id).first()
    if person is None:
        raise NotFound()
    link, _created = PersonAccount.objects.update_or_create(user_id=user_id, defaults={"person": person})
    audit.record(actor=actor, action="service.account.link", obj=link, after={"user": user_id, "person": person_id})
    return link


def person_of(user: User) -> Person | None:
    """The registry person the user's account speaks for, if any."""
    link = PersonAccount.objects.filter(user=user).select_related("person").first()
    return link.person if link is not None else None


def may_claim(*, person: Person, post: Post) -> bool:
    """Does this person meet the post's "who may claim"? Party posts: a party member reported in (双报到)."""
    if post.eligibility == Eligibility.ANYONE:
        return True
    membership = getattr(person, "party_membership", None)
    return membership is not None and membership.reported_in


@transaction.atomic
def claim_post(
    *, actor: User, post_id: int, person_id: int | None = None, now: datetime.datetime | None = None
) -> Claim:
    """Claim one place of a post, for oneself (the account's person) or — staff — for a person of their ground.
    The post's row is locked while its active claims are counted: of two people claiming its last place at once,
    one gets it and the other a conflict."""
    post = get_in_scope(Post, actor, post_id, "view")
    if person_id is None:
        person = person_of(actor)
        if person is None:
            raise Forbidden(_("Your account is not linked to a resident of the registry; ask your community."))
    else:
        if not _may_add_claim(actor, post):
            raise Forbidden(_("You may not claim posts for other people here."))
        found = Person.objects.restrict(actor, "view").filter(pk=person_id).first()
        if found is None:
            raise NotFound()
        person = found
    if not may_claim(person=person, post=post):
        raise Forbidden(fmt(_("This post is for %(who)s."), who=Eligibility(post.eligibility).label))
    locked = Post.objects.select_for_update().get(pk=post.pk)
    if not locked.is_open:
        raise Conflict(_("This post is closed."))
    active = Claim.objects.filter(post=locked, status=ClaimStatus.ACTIVE)
    if active.filter(person=person).exists():
        raise Conflict(_("You have already claimed this post."))
    taken = active.count()
    if taken >= locked.capacity:
        raise Conflict(fmt(_("All %(n)s places of this post are taken."), n=locked.capacity))
    now = now or timezone.now()
    try:
        with transaction.atomic():
            claim = Claim.objects.create(post=locked, person=person, user=actor, claimed_at=now)
    except IntegrityError:
        raise Conflict(_("You have already claimed this post.")) from None
    audit.record(
        actor=actor,
        action="service.claim",
        obj=claim,
        node_code=post.area.code,
        after={"post": post.pk, "person": person.pk, "place": taken + 1, "capacity": locked.capacity},
    )
    messaging.notify(
        actor=actor,
        recipients=[messaging.Recipient(user_id=post.created_by_id)],
        kind=CLAIMED_KIND,
        text=_("%(person)s claimed the post %(post)s."),
        params={"person": person.name, "post": post.title},
        link=reverse("service-post", args=[post.pk]),
        obj=claim,
        dedupe=f"service.claim:{claim.pk}",
    )
    return claim


def _may_add_claim(actor: User, post: Post) -> bool:
    return Claim.scope_rule.admits(actor.scope_for("service.claim", "add"), Claim(post=post))


def _own_claim(actor: User, claim_id: int) -> Claim:
    claim = get_in_scope(Claim, actor, claim_id, "view", Claim.objects.select_related("post__area", "person"))
    if claim.user_id != actor.pk and not Claim.objects.restrict(actor, "change").filter(pk=claim.pk).exists():
        raise Forbidden(_("Only the claimant or the post's owner may do this."))
    return claim


@transaction.atomic
def give_up(*, actor: User, claim_id: int, now: datetime.datetime | None = None) -> Claim:
    claim = _own_claim(actor, claim_id)
    if claim.status != ClaimStatus.ACTIVE:
        raise Conflict(_("This claim has already been given up."))
    claim.status = ClaimStatus.GIVEN_UP
    claim.ended_at = now or timezone.now()
    claim.save(update_fields=["status", "ended_at", "updated_at"])
    audit.record(actor=actor, action="service.claim.give_up", obj=claim, node_code=claim.post.area.code)
    return claim


@transaction.atomic
def record_service(*, actor: User, claim_id: int, served_on: datetime.date, hours: Decimal, note: str = "") -> Service:
    """The claimant (or the owner for them) records one time they served the post."""
    claim = _own_claim(actor, claim_id)
    if claim.status != ClaimStatus.ACTIVE:
        raise Conflict(_("This claim has been given up."))
    if served_on > timezone.localdate():
        raise ValidationFailed(
            _("The service could not be saved."),
            [ErrorDetail(field="served_on", message=str(_("The date is in the future.")))],
        )
    hours = Decimal(hours)
    if not Decimal("0") < hours <= Decimal("24"):
        raise ValidationFailed(
            _("The service could not be saved."),
            [ErrorDetail(field="hours", message=str(_("Hours must be between 0 and 24.")))],
        )
    service = Service.objects.create(claim=claim, served_on=served_on, hours=hours, note=(note or "").strip()[:300])
    audit.record(
        actor=actor,
        action="service.serve",
        obj=service,
        node_code=claim.post.area.code,
        after={"served_on": served_on.isoformat(), "hours": str(hours)},
    )
    return service


@transaction.atomic
def confirm_service(*, actor: User, service_id: int, now: datetime.datetime | None = None) -> Service:
    """The post's owner (staff of its place or its body) confirms a recorded service. Not the claimant."""
    service = get_in_scope(
        Service, actor, service_id, "change", Service.objects.select_related("claim__post__area", "claim__person")
    )
    if service.claim.user_id == actor.pk:
        raise Forbidden(_("One's own service is confirmed by the post's owner."))
    if service.confirmed_at is not None:
        raise Conflict(_("This service has already been confirmed."))
    service.confirmed_by = actor
    service.confirmed_at = now or timezone.now()
    service.save(update_fields=["confirmed_by", "confirmed_at", "updated_at"])
    audit.record(actor=actor, action="service.confirm", obj=service, node_code=service.claim.post.area.code)
    if service.claim.user_id:
        messaging.notify(
            actor=actor,
            recipients=[messaging.Recipient(user_id=service.claim.user_id)],
            kind=CONFIRMED_KIND,
            text=_("Your service at %(post)s on %(date)s was confirmed."),
            params={"post": service.claim.post.title, "date": service.served_on.isoformat()},
            link=reverse("service-mine"),
            obj=service,
            dedupe=f"service.confirm:{service.pk}",
        )
    return service
