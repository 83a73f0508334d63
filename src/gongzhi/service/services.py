"""Writes of service posts: publish a post, link an account to its registry person, claim a place (capacity kept
under concurrency: the post's row is locked while its places are counted), record service, give a claim up, and the
post's owner confirms the service. Every write is audited; the claimant and the owner are told through messaging."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gongzhi.core import audit
from gongzhi.core.access import get_in_scope
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.messaging import kinds
from gongzhi.messaging import services as messaging
from gongzhi.registry import selectors as registry
from gongzhi.registry.models import Person
from gongzhi.service.choices import CheckMethod, ClaimStatus, Eligibility
from gongzhi.service.models import (
    Activity,
    Claim,
    PersonAccount,
    PersonServed,
    Post,
    PostKind,
    Service,
    SignUp,
    Volunteer,
    VolunteerTeam,
)
from gongzhi.territory.models import Body, Node
from gongzhi.visits import services as visits

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

CLAIMED_KIND = "service.claimed"
CONFIRMED_KIND = "service.confirmed"
kinds.register(CLAIMED_KIND, _("A post was claimed"))
kinds.register(CONFIRMED_KIND, _("My service was confirmed"))
SIGNED_UP_KIND = "service.signed_up"
HOURS_KIND = "service.hours_confirmed"
REMINDER_KIND = "service.activity_reminder"
kinds.register(SIGNED_UP_KIND, _("A volunteer sign-up for an activity"))
kinds.register(HOURS_KIND, _("My volunteer hours were confirmed"))
kinds.register(REMINDER_KIND, _("A volunteer activity I signed up for is coming"))
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
    area, unit_id = _offered_on(actor, area_id, kinds=POST_KINDS, label="service.post")
    if area is None:
        raise _invalid("area_id", _("Choose a community, grid or building of your ground."))
    if owner_body_id is None:
        owner_body_id = unit_id
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
    Volunteer.objects.filter(person=person).update(user_id=user_id)  # a volunteer's own log-in
    audit.record(actor=actor, action="service.account.link", obj=link, after={"user": user_id, "person": person_id})
    return link


def person_of(user: User) -> Person | None:
    """The registry person the user's account speaks for, if any."""
    link = PersonAccount.objects.filter(user=user).select_related("person").first()
    return link.person if link is not None else None


def may_claim(*, person: Person, post: Post) -> bool:
    """Does this person meet the post's "who may claim"? Party posts: a party member reported in (双报到); posts
    for party members and volunteers: also a registered, active volunteer."""
    if post.eligibility == Eligibility.ANYONE:
        return True
    membership = getattr(person, "party_membership", None)
    if membership is not None and membership.reported_in:
        return True
    if post.eligibility != Eligibility.VOLUNTEERS:
        return False
    return Volunteer.objects.filter(person=person, is_active=True).exists()


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


# --- volunteers, teams, activities (志愿者, 志愿服务队, 志愿活动) ----------------------------------------------

TEAM_PLACES = ("community", "village", "grid")
MAX_ACTIVITY_PLACES = 1000
CHECK_SALT = "gongzhi.service.checkin"
# The QR code at the venue works from an hour before the activity until two hours after it ends.
CHECK_OPENS = datetime.timedelta(hours=1)
CHECK_CLOSES = datetime.timedelta(hours=2)
REMIND_AHEAD = datetime.timedelta(hours=24)


def _refuse(summary: str | Promise, field: str, message: object) -> ValidationFailed:
    return ValidationFailed(summary, [ErrorDetail(field=field, message=str(message))])


def _offered_on(actor: User, area_id: int, *, kinds: tuple[str, ...], label: str) -> tuple[Node | None, int | None]:
    """The place an offer (post, team, activity) is made on, and for a co-building unit offering on the community side
    of one of its agreements in force, that unit (the offer's owner): ``(None, None)`` when it is neither."""
    area = Node.objects.restrict(actor, "view").filter(pk=area_id, kind__in=kinds).first()
    if area is not None:
        return area, None
    node = Node.objects.filter(pk=area_id, kind__in=kinds).first()
    if node is not None:
        for code, unit_id in registry.partner_ground(user=actor, label=label, action="add").items():
            if node.code.startswith(code):
                return node, unit_id
    return None, None


def _place(actor: User, area_id: int, summary: str | Promise, *, label: str) -> tuple[Node, int | None]:
    area, unit_id = _offered_on(actor, area_id, kinds=TEAM_PLACES, label=label)
    if area is None:
        raise _refuse(summary, "area_id", _("Choose a community or grid of your ground."))
    return area, unit_id


def _body(actor: User, body_id: int | None, summary: str | Promise) -> Body | None:
    if body_id is None:
        return None
    body = Body.objects.restrict(actor, "view").filter(pk=body_id).first()
    if body is None:
        raise _refuse(summary, "owner_body_id", _("Choose an organisation you work for."))
    return body


@transaction.atomic
def create_team(
    *, actor: User, name: str, area_id: int, owner_body_id: int | None = None, description: str = ""
) -> VolunteerTeam:
    """A community (its place) or a unit (its body) sets up a volunteer team (志愿服务队)."""
    summary = _("The team could not be saved.")
    name = (name or "").strip()
    if not name:
        raise _refuse(summary, "name", _("Give the team a name."))
    area, unit_id = _place(actor, area_id, summary, label="service.volunteerteam")
    team = VolunteerTeam(
        name=name[:80],
        area=area,
        owner_body=_body(actor, owner_body_id if owner_body_id is not None else unit_id, summary),
        description=(description or "").strip(),
        created_by=actor,
    )
    if not VolunteerTeam.scope_rule.admits(actor.scope_for("service.volunteerteam", "add"), team):
        raise Forbidden(_("You may not set up volunteer teams here."))
    team.save()
    audit.record(actor=actor, action="service.team.create", obj=team, node_code=team.area.code, after={"name": name})
    return team


@transaction.atomic
def register_volunteer(
    *,
    actor: User,
    person_id: int,
    team_id: int | None = None,
    skills: str = "",
    availability: str = "",
    joined_on: datetime.date | None = None,
) -> Volunteer:
    """Staff register a resident of their ground as a volunteer (skills, availability, team). A person is one
    volunteer: registering them again updates the record (and makes it active again)."""
    summary = _("The volunteer could not be registered.")
    person = Person.objects.restrict(actor, "change").filter(pk=person_id).select_related("household").first()
    if person is None:
        raise NotFound()
    team = None
    if team_id is not None:
        team = VolunteerTeam.objects.restrict(actor, "view").filter(pk=team_id).first()
        if team is None:
            raise _refuse(summary, "team_id", _("Choose a volunteer team you may see."))
    account = PersonAccount.objects.filter(person=person).values_list("user_id", flat=True).first()
    volunteer = Volunteer.objects.filter(person=person).first() or Volunteer(
        person=person, joined_on=joined_on or timezone.localdate(), registered_by=actor
    )
    created = volunteer.pk is None
    volunteer.team = team
    volunteer.skills = (skills or "").strip()[:200]
    volunteer.availability = (availability or "").strip()[:120]
    volunteer.is_active = True
    volunteer.user_id = volunteer.user_id or account
    if not Volunteer.scope_rule.admits(actor.scope_for("service.volunteer", "add" if created else "change"), volunteer):
        raise Forbidden(_("You may not register volunteers here."))
    volunteer.save()
    audit.record(
        actor=actor,
        action="service.volunteer.register" if created else "service.volunteer.update",
        obj=volunteer,
        node_code=person.household.code if person.household else "",
        after={"person": person.pk, "team": team.pk if team else None, "skills": volunteer.skills},
    )
    return volunteer


def volunteer_of(user: User) -> Volunteer | None:
    """The active volunteer record the user's account speaks for (through the person it is linked to)."""
    person = person_of(user)
    if person is None:
        return None
    return Volunteer.objects.filter(person=person, is_active=True).first()


@transaction.atomic
def create_activity(
    *,
    actor: User,
    title: str,
    area_id: int,
    venue: str,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    capacity: int,
    team_id: int | None = None,
    owner_body_id: int | None = None,
    description: str = "",
) -> Activity:
    """A team or a community organises a volunteer activity: when, where, how many people."""
    summary = _("The activity could not be saved.")
    title, venue = (title or "").strip(), (venue or "").strip()
    if not title:
        raise _refuse(summary, "title", _("Give the activity a title."))
    if not venue:
        raise _refuse(summary, "venue", _("Say where the activity takes place."))
    if ends_at <= starts_at:
        raise _refuse(summary, "ends_at", _("The activity must end after it starts."))
    if ends_at - starts_at > datetime.timedelta(hours=24):
        raise _refuse(summary, "ends_at", _("An activity lasts at most a day."))
    if not 1 <= capacity <= MAX_ACTIVITY_PLACES:
        raise _refuse(summary, "capacity", fmt(_("Places must be between 1 and %(max)s."), max=MAX_ACTIVITY_PLACES))
    team = None
    if team_id is not None:
        team = VolunteerTeam.objects.restrict(actor, "view").filter(pk=team_id).first()
        if team is None:
            raise _refuse(summary, "team_id", _("Choose a volunteer team you may see."))
    area, unit_id = _place(actor, area_id, summary, label="service.activity")
    body = _body(actor, owner_body_id if owner_body_id is not None else unit_id, summary)
    if body is None and team is not None:
        body = team.owner_body
    activity = Activity(
        title=title[:120],
        description=(description or "").strip(),
        team=team,
        area=area,
        owner_body=body,
        venue=venue[:120],
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        created_by=actor,
    )
    if not Activity.scope_rule.admits(actor.scope_for("service.activity", "add"), activity):
        raise Forbidden(_("You may not organise activities here."))
    activity.save()
    audit.record(
        actor=actor,
        action="service.activity.create",
        obj=activity,
        node_code=activity.area.code,
        after={"title": activity.title, "starts_at": starts_at.isoformat(), "capacity": capacity},
    )
    return activity


@transaction.atomic
def cancel_activity(*, actor: User, activity_id: int) -> Activity:
    activity = get_in_scope(Activity, actor, activity_id, "change")
    activity.is_cancelled = True
    activity.save(update_fields=["is_cancelled", "updated_at"])
    audit.record(actor=actor, action="service.activity.cancel", obj=activity, node_code=activity.area.code)
    return activity


def _organised(actor: User, activity_id: int) -> Activity:
    """The activity, for its organiser (staff with ``change`` on its place, or its unit)."""
    return get_in_scope(Activity, actor, activity_id, "change", Activity.objects.select_related("area"))


@transaction.atomic
def sign_up(
    *, actor: User, activity_id: int, volunteer_id: int | None = None, now: datetime.datetime | None = None
) -> SignUp:
    """A volunteer signs up for an activity on the phone (their account's person), or the organiser signs a volunteer
    of their ground up. The activity's row is locked while its places are counted. The organiser is told of a
    volunteer's own sign-up; a volunteer signed up by the organiser is told they are in."""
    now = now or timezone.now()
    activity = get_in_scope(Activity, actor, activity_id, "view", Activity.objects.select_related("area"))
    if volunteer_id is None:
        volunteer = volunteer_of(actor)
        if volunteer is None:
            raise Forbidden(_("You are not registered as a volunteer; ask your community."))
    else:
        _organised(actor, activity_id)
        found = Volunteer.objects.restrict(actor, "view").filter(pk=volunteer_id, is_active=True).first()
        if found is None:
            raise NotFound()
        volunteer = found
    locked = Activity.objects.select_for_update().get(pk=activity.pk)
    if locked.is_cancelled:
        raise Conflict(_("This activity has been cancelled."))
    if locked.ends_at <= now:
        raise Conflict(_("This activity is over."))
    existing = SignUp.objects.filter(activity=locked, volunteer=volunteer).first()
    if existing is not None and existing.cancelled_at is None:
        raise Conflict(_("This volunteer has already signed up."))
    taken = SignUp.objects.filter(activity=locked, cancelled_at__isnull=True).count()
    if taken >= locked.capacity:
        raise Conflict(fmt(_("All %(n)s places of this activity are taken."), n=locked.capacity))
    if existing is not None:
        signup = existing
        signup.cancelled_at = None
        signup.signed_up_at = now
        signup.user = actor
        signup.save(update_fields=["cancelled_at", "signed_up_at", "user", "updated_at"])
    else:
        try:
            with transaction.atomic():
                signup = SignUp.objects.create(activity=locked, volunteer=volunteer, user=actor, signed_up_at=now)
        except IntegrityError:
            raise Conflict(_("This volunteer has already signed up.")) from None
    if volunteer.user_id is None and volunteer_id is None:
        Volunteer.objects.filter(pk=volunteer.pk).update(user=actor)
    if volunteer_id is not None and volunteer.user_id:
        signup.user_id = volunteer.user_id  # the volunteer's own row: they see it and check in with it
        signup.save(update_fields=["user", "updated_at"])
    audit.record(
        actor=actor,
        action="service.activity.sign_up",
        obj=signup,
        node_code=activity.area.code,
        after={"activity": activity.pk, "volunteer": volunteer.pk, "place": taken + 1, "capacity": locked.capacity},
    )
    when = timezone.localtime(activity.starts_at).strftime("%Y-%m-%d %H:%M")
    if volunteer_id is None:
        recipients = [messaging.Recipient(user_id=activity.created_by_id)]
        text = _("%(person)s signed up for %(activity)s (%(when)s).")
    else:
        recipients = [messaging.Recipient(user_id=volunteer.user_id)] if volunteer.user_id else []
        text = _("You are signed up for %(activity)s at %(venue)s, %(when)s.")
    if recipients:
        messaging.notify(
            actor=actor,
            recipients=recipients,
            kind=SIGNED_UP_KIND,
            text=text,
            params={"person": volunteer.person.name, "activity": activity.title, "venue": activity.venue, "when": when},
            link=reverse("service-activity", args=[activity.pk]),
            obj=signup,
            dedupe=f"service.signup:{signup.pk}:{now.isoformat()}",
        )
    return signup


def _signup_for(actor: User, signup_id: int) -> SignUp:
    return get_in_scope(
        SignUp, actor, signup_id, "view", SignUp.objects.select_related("activity__area", "volunteer__person")
    )


@transaction.atomic
def cancel_sign_up(*, actor: User, signup_id: int, now: datetime.datetime | None = None) -> SignUp:
    """The volunteer (or the organiser) cancels a sign-up before the volunteer checked in."""
    signup = _signup_for(actor, signup_id)
    if signup.user_id != actor.pk:
        _organised(actor, signup.activity_id)
    if signup.cancelled_at is not None:
        raise Conflict(_("This sign-up has already been cancelled."))
    if signup.checked_in_at is not None:
        raise Conflict(_("The volunteer has already checked in."))
    signup.cancelled_at = now or timezone.now()
    signup.save(update_fields=["cancelled_at", "updated_at"])
    audit.record(actor=actor, action="service.activity.cancel_sign_up", obj=signup, node_code=signup.activity.area.code)
    return signup


def hours_between(start: datetime.datetime, end: datetime.datetime) -> Decimal | None:
    """Hours from check-in to check-out, one decimal, half up, at most 24; None when there is nothing to count."""
    hours = (Decimal((end - start).total_seconds()) / Decimal(3600)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if hours <= 0:
        return None
    return min(hours, Decimal("24"))


def check_code(activity: Activity) -> str:
    """The signed code of an activity's QR at the venue (the check-in page's URL carries it)."""
    return signing.Signer(salt=CHECK_SALT).sign(str(activity.pk)).rsplit(":", 1)[1]


def check_url(activity: Activity) -> str:
    return reverse("service-activity-check", args=[activity.pk, check_code(activity)])


@transaction.atomic
def check_by_code(*, actor: User, activity_id: int, code: str, now: datetime.datetime | None = None) -> SignUp:
    """A volunteer scanned the QR code at the venue: the first scan checks them in, the next one out (and the hours
    are counted from the two). The code is the activity's signature; it works from an hour before the start until
    two hours after the end."""
    now = now or timezone.now()
    try:
        signing.Signer(salt=CHECK_SALT).unsign(f"{activity_id}:{code}")
    except signing.BadSignature:
        raise NotFound() from None
    volunteer = volunteer_of(actor)
    if volunteer is None:
        raise Forbidden(_("You are not registered as a volunteer; ask your community."))
    signup = (
        SignUp.objects.select_for_update(of=("self",))
        .select_related("activity__area")
        .filter(activity_id=activity_id, volunteer=volunteer, cancelled_at__isnull=True)
        .first()
    )
    if signup is None:
        raise Conflict(_("You have not signed up for this activity."))
    activity = signup.activity
    if activity.is_cancelled:
        raise Conflict(_("This activity has been cancelled."))
    if not activity.starts_at - CHECK_OPENS <= now <= activity.ends_at + CHECK_CLOSES:
        raise Conflict(_("Check-in is open from an hour before the activity until two hours after it ends."))
    if signup.confirmed_at is not None:
        raise Conflict(_("Your hours for this activity are already confirmed."))
    if signup.checked_in_at is None:
        signup.checked_in_at = now
        action = "service.activity.check_in"
    elif signup.checked_out_at is None:
        signup.checked_out_at = now
        signup.hours = hours_between(signup.checked_in_at, now)
        action = "service.activity.check_out"
    else:
        raise Conflict(_("You have already checked in and out."))
    signup.check_method = CheckMethod.QR
    signup.save(update_fields=["checked_in_at", "checked_out_at", "hours", "check_method", "updated_at"])
    audit.record(
        actor=actor,
        action=action,
        obj=signup,
        node_code=activity.area.code,
        after={"at": now.isoformat(), "hours": str(signup.hours) if signup.hours is not None else None},
    )
    return signup


def _unconfirmed(actor: User, signup_id: int) -> SignUp:
    signup = _signup_for(actor, signup_id)
    _organised(actor, signup.activity_id)
    if signup.cancelled_at is not None:
        raise Conflict(_("This sign-up has been cancelled."))
    if signup.confirmed_at is not None:
        raise Conflict(_("These hours are already confirmed."))
    return signup


@transaction.atomic
def tick_attendance(*, actor: User, signup_id: int, present: bool = True) -> SignUp:
    """The organiser ticks a volunteer as present (checked in at the start, out at the end: the activity's hours)
    or takes the tick back. Confirmed hours are not touched."""
    signup = _unconfirmed(actor, signup_id)
    activity = signup.activity
    if present:
        signup.checked_in_at = signup.checked_in_at or activity.starts_at
        signup.checked_out_at = signup.checked_out_at or activity.ends_at
        signup.hours = signup.hours or hours_between(signup.checked_in_at, signup.checked_out_at)
        signup.check_method = signup.check_method or CheckMethod.TICKED
    else:
        signup.checked_in_at = signup.checked_out_at = signup.hours = None
        signup.check_method = ""
    signup.save(update_fields=["checked_in_at", "checked_out_at", "hours", "check_method", "updated_at"])
    audit.record(
        actor=actor,
        action="service.activity.tick",
        obj=signup,
        node_code=activity.area.code,
        after={"present": present, "hours": str(signup.hours) if signup.hours is not None else None},
    )
    return signup


@transaction.atomic
def set_hours(*, actor: User, signup_id: int, hours: Decimal) -> SignUp:
    """The organiser corrects the hours counted from check-in/out (before confirming them)."""
    signup = _unconfirmed(actor, signup_id)
    hours = Decimal(hours).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if not Decimal("0") < hours <= Decimal("24"):
        raise _refuse(_("The hours could not be saved."), "hours", _("Hours must be between 0 and 24."))
    before = str(signup.hours) if signup.hours is not None else None
    signup.hours = hours
    signup.save(update_fields=["hours", "updated_at"])
    audit.record(
        actor=actor,
        action="service.activity.hours",
        obj=signup,
        node_code=signup.activity.area.code,
        before={"hours": before},
        after={"hours": str(hours)},
    )
    return signup


@transaction.atomic
def confirm_hours(*, actor: User, signup_id: int, now: datetime.datetime | None = None) -> SignUp:
    """The organiser confirms a volunteer's hours: from then on they count (the yearly totals, the figures). Never
    one's own; the volunteer is told."""
    signup = _unconfirmed(actor, signup_id)
    if signup.volunteer.user_id == actor.pk or signup.volunteer.person_id == getattr(person_of(actor), "pk", None):
        raise Forbidden(_("One's own hours are confirmed by the activity's organiser."))
    if signup.hours is None:
        raise Conflict(_("The volunteer has no hours yet: tick them present or enter the hours."))
    signup.confirmed_by = actor
    signup.confirmed_at = now or timezone.now()
    signup.save(update_fields=["confirmed_by", "confirmed_at", "updated_at"])
    activity = signup.activity
    audit.record(
        actor=actor,
        action="service.activity.confirm_hours",
        obj=signup,
        node_code=activity.area.code,
        after={"hours": str(signup.hours)},
    )
    if signup.volunteer.user_id:
        messaging.notify(
            actor=actor,
            recipients=[messaging.Recipient(user_id=signup.volunteer.user_id)],
            kind=HOURS_KIND,
            text=_("Your %(hours)s volunteer hours at %(activity)s on %(date)s were confirmed."),
            params={
                "hours": str(signup.hours),
                "activity": activity.title,
                "date": timezone.localtime(activity.starts_at).date().isoformat(),
            },
            link=reverse("service-volunteer-mine"),
            obj=signup,
            dedupe=f"service.hours:{signup.pk}",
        )
    return signup


@transaction.atomic
def record_served(
    *,
    actor: User,
    person_id: int,
    served_on: datetime.date,
    activity_id: int | None = None,
    volunteer_id: int | None = None,
    note: str = "",
) -> PersonServed:
    """The organiser records a person served by an activity or by a volunteer (a visit to an elderly person living
    alone, help at home …). Care counts towards the person's active care plans (``visits.services.credit_care``)."""
    summary = _("The person served could not be recorded.")
    if activity_id is None and volunteer_id is None:
        raise _refuse(summary, "activity_id", _("Say which activity or volunteer served the person."))
    if served_on > timezone.localdate():
        raise _refuse(summary, "served_on", _("The date is in the future."))
    activity = _organised(actor, activity_id) if activity_id is not None else None
    volunteer = None
    if volunteer_id is not None:
        volunteer = Volunteer.objects.restrict(actor, "change").filter(pk=volunteer_id).first()
        if volunteer is None and activity is not None:  # a volunteer of the organiser's activity
            volunteer = Volunteer.objects.filter(pk=volunteer_id, signups__activity=activity).first()
        if volunteer is None:
            raise NotFound()
    person = Person.objects.restrict(actor, "view").filter(pk=person_id).select_related("household").first()
    if person is None:
        raise NotFound()
    if not PersonServed.scope_rule.admits(
        actor.scope_for("service.personserved", "add"), PersonServed(person=person, activity=activity)
    ):
        raise Forbidden(_("You may not record people served here."))
    served = PersonServed.objects.create(
        person=person,
        activity=activity,
        volunteer=volunteer,
        served_on=served_on,
        note=(note or "").strip()[:200],
        recorded_by=actor,
    )
    audit.record(
        actor=actor,
        action="service.served",
        obj=served,
        node_code=person.household.code if person.household else "",
        after={"person": person.pk, "activity": activity_id, "volunteer": volunteer_id, "on": served_on.isoformat()},
    )
    visits.credit_care(actor=actor, person_id=person.pk, day=served_on, source=f"service.personserved:{served.pk}")
    return served


@transaction.atomic
def send_reminders(*, now: datetime.datetime | None = None) -> int:
    """Tell each volunteer signed up for an activity that starts within a day (once per sign-up). Run hourly by the
    scheduler (``service.schedule``). Returns the sign-ups reminded."""
    now = now or timezone.now()
    due = (
        SignUp.objects.filter(
            cancelled_at__isnull=True,
            activity__is_cancelled=False,
            activity__starts_at__gt=now,
            activity__starts_at__lte=now + REMIND_AHEAD,
        )
        .filter(Q(volunteer__user__isnull=False))
        .select_related("activity", "volunteer")
    )
    told = 0
    for signup in due:
        activity = signup.activity
        result = messaging.notify(
            actor=None,
            recipients=[messaging.Recipient(user_id=signup.volunteer.user_id)],
            kind=REMINDER_KIND,
            text=_("Reminder: %(activity)s at %(venue)s, %(when)s."),
            params={
                "activity": activity.title,
                "venue": activity.venue,
                "when": timezone.localtime(activity.starts_at).strftime("%Y-%m-%d %H:%M"),
            },
            link=reverse("service-activity", args=[activity.pk]),
            obj=signup,
            dedupe=f"service.remind:{signup.pk}:{activity.starts_at.isoformat()}",
            now=now,
        )
        told += 1 if result.messages else 0
    return told
