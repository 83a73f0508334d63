"""Writes of recognition (评选): set a campaign up with its criteria, periods and panel; nominate a household or
person (staff of the ground, grid workers, residents); accept or withdraw a nomination; open voting and review;
public votes (an account or a phone verified by an SMS code; one per voter per candidate, kept by a unique
constraint, flagged by simple fraud signals, never dropped); the panel's reviews; the decision with its citation;
publishing. Every write is audited; panel members and nominees are told through messaging.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from gongzhi.core import audit
from gongzhi.core.errors import Conflict, ErrorDetail, Forbidden, NotFound, ValidationFailed
from gongzhi.core.messages import fmt
from gongzhi.core.scope import ScopeRule
from gongzhi.messaging import kinds
from gongzhi.messaging import services as messaging
from gongzhi.recognition.choices import Flag, NominationStatus, Stage, Subject
from gongzhi.recognition.models import Campaign, Nomination, PanelMember, PhoneCheck, Review, Vote
from gongzhi.registry.models import Person
from gongzhi.territory.choices import NodeKind
from gongzhi.territory.models import Body, Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

REVIEW_KIND = "recognition.review"
PUBLISHED_KIND = "recognition.published"
CODE_KIND = "recognition.code"
kinds.register(REVIEW_KIND, pgettext_lazy("recognition", "A recognition panel review opened"))
kinds.register(PUBLISHED_KIND, pgettext_lazy("recognition", "Recognition results published"))
kinds.register(CODE_KIND, pgettext_lazy("recognition", "Voting verification code"))

CAMPAIGN_PLACES = (NodeKind.SUBDISTRICT, NodeKind.COMMUNITY, NodeKind.VILLAGE)
# Managing a campaign: its own place or body, never a campaign of a place above (the view rule has ancestors).
MANAGE_RULE = ScopeRule(node="area", body="owner_body", owner="created_by")
MAX_QUOTA = 1000
MAX_CRITERIA = 12

CODE_TTL = datetime.timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODE_RESEND = datetime.timedelta(seconds=60)
CODES_PER_DAY = 5

# Fraud signals (docs/recognition.md): a vote is flagged, never dropped, and the panel sees the flagged count.
BURST_WINDOW = datetime.timedelta(minutes=10)
BURST_VOTES = 5  # votes from one address or one device in the window, this one included
CLOSING_WINDOW = datetime.timedelta(hours=1)
CLOSING_BURST_VOTES = 10  # votes for one candidate in the window, in the last hour before closing


def _invalid(field: str, message: Any, summary: Any = None) -> ValidationFailed:
    return ValidationFailed(
        summary or pgettext_lazy("recognition", "The recognition could not be saved."),
        [ErrorDetail(field=field, message=str(message))],
    )


# --- helpers -------------------------------------------------------------------------------------------------------


def normalise_phone(phone: str) -> str:
    digits = "".join(ch for ch in (phone or "") if ch.isdigit())
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def phone_hash(phone: str) -> str:
    """The only form a visitor's phone is kept in: an HMAC under the site's secret (not reversible by a table)."""
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, b"recognition-phone:" + normalise_phone(phone).encode(), hashlib.sha256).hexdigest()


def _code_hash(check_phone_hash: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"recognition-code:{check_phone_hash}:{code}".encode(), hashlib.sha256).hexdigest()


def _prefixes(campaign: Campaign) -> list[str]:
    return [p.strip() for p in campaign.phone_prefixes.split(",") if p.strip()]


def may_manage(actor: User, campaign: Campaign) -> bool:
    return MANAGE_RULE.admits(actor.scope_for("recognition.campaign", "change"), campaign)


def _managed(actor: User, campaign_id: int) -> Campaign:
    campaign = Campaign.objects.restrict(actor, "view").select_related("area").filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound()
    if not may_manage(actor, campaign):
        raise Forbidden(pgettext_lazy("recognition", "You may not manage this campaign."))
    return campaign


def _locked(campaign: Campaign) -> Campaign:
    return Campaign.objects.select_for_update().select_related("area").get(pk=campaign.pk)


def _clean_criteria(criteria: list[Any]) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    for item in criteria or []:
        if isinstance(item, str):
            name, max_score = item, None
        elif isinstance(item, dict):
            name, max_score = str(item.get("name") or ""), item.get("max_score")
        else:
            continue
        name = name.strip()[:60]
        if not name:
            continue
        if max_score in ("", None):
            max_score = None
        else:
            try:
                max_score = int(max_score)
            except (TypeError, ValueError):
                raise _invalid(
                    "criteria", pgettext_lazy("recognition", "A criterion's score must be a number.")
                ) from None
            if not 1 <= max_score <= 100:
                raise _invalid("criteria", pgettext_lazy("recognition", "A criterion's score is between 1 and 100."))
        if any(c["name"] == name for c in cleaned):
            continue
        cleaned.append({"name": name, "max_score": max_score})
    if not cleaned:
        raise _invalid("criteria", pgettext_lazy("recognition", "Name at least one criterion."))
    if len(cleaned) > MAX_CRITERIA:
        raise _invalid("criteria", fmt(pgettext_lazy("recognition", "At most %(n)s criteria."), n=MAX_CRITERIA))
    return cleaned


# --- campaigns -----------------------------------------------------------------------------------------------------


@transaction.atomic
def create_campaign(
    *,
    actor: User,
    title: str,
    subject: str,
    area_id: int,
    criteria: list[Any],
    quota: int = 10,
    public_voting: bool = False,
    description: str = "",
    owner_body_id: int | None = None,
    nominations_open: datetime.datetime | None = None,
    nominations_close: datetime.datetime | None = None,
    voting_open: datetime.datetime | None = None,
    voting_close: datetime.datetime | None = None,
    review_by: datetime.date | None = None,
    phone_prefixes: str = "",
    panel_ids: list[int] | None = None,
) -> Campaign:
    """A subdistrict or community sets a campaign up (五星文明户, 四最 …)."""
    title = (title or "").strip()
    if not title:
        raise _invalid("title", pgettext_lazy("recognition", "Give the campaign a title."))
    if subject not in Subject.values:
        raise _invalid("subject", pgettext_lazy("recognition", "Choose households or people."))
    if not 1 <= quota <= MAX_QUOTA:
        raise _invalid(
            "quota", fmt(pgettext_lazy("recognition", "Winners must be between 1 and %(max)s."), max=MAX_QUOTA)
        )
    for start, end, field in (
        (nominations_open, nominations_close, "nominations_close"),
        (voting_open, voting_close, "voting_close"),
    ):
        if start and end and end <= start:
            raise _invalid(field, pgettext_lazy("recognition", "A period must end after it starts."))
    if nominations_close and voting_open and voting_open < nominations_close:
        raise _invalid("voting_open", pgettext_lazy("recognition", "Voting opens once nominations have closed."))
    if review_by and voting_close and review_by < timezone.localdate(voting_close):
        raise _invalid("review_by", pgettext_lazy("recognition", "The panel reviews after the voting closes."))
    area = Node.objects.restrict(actor, "view").filter(pk=area_id, kind__in=CAMPAIGN_PLACES).first()
    if area is None:
        raise _invalid("area_id", pgettext_lazy("recognition", "Choose a subdistrict or community of your ground."))
    body = None
    if owner_body_id is not None:
        body = Body.objects.restrict(actor, "view").filter(pk=owner_body_id).first()
        if body is None:
            raise _invalid("owner_body_id", pgettext_lazy("recognition", "Choose an organisation you work for."))
    prefixes = ",".join(p for p in (normalise_phone(x) for x in (phone_prefixes or "").split(",")) if p)[:300]
    campaign = Campaign(
        title=title[:120],
        subject=subject,
        area=area,
        owner_body=body,
        description=(description or "").strip(),
        criteria=_clean_criteria(criteria),
        quota=quota,
        public_voting=public_voting,
        nominations_open=nominations_open,
        nominations_close=nominations_close,
        voting_open=voting_open,
        voting_close=voting_close,
        review_by=review_by,
        phone_prefixes=prefixes,
        created_by=actor,
    )
    if not MANAGE_RULE.admits(actor.scope_for("recognition.campaign", "add"), campaign):
        raise Forbidden(pgettext_lazy("recognition", "You may not run campaigns here."))
    campaign.save()
    audit.record(
        actor=actor,
        action="recognition.campaign.create",
        obj=campaign,
        node_code=area.code,
        after={"title": campaign.title, "subject": subject, "quota": quota, "public_voting": public_voting},
    )
    if panel_ids:
        _set_panel(actor, campaign, panel_ids)
    return campaign


def _set_panel(actor: User, campaign: Campaign, user_ids: list[int]) -> list[PanelMember]:
    from gongzhi.accounts.models import User as UserModel

    wanted = sorted({int(u) for u in user_ids})
    found = set(UserModel.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    missing = [u for u in wanted if u not in found]
    if missing:
        raise _invalid("panel_ids", fmt(pgettext_lazy("recognition", "No user with id %(id)s."), id=missing[0]))
    PanelMember.objects.filter(campaign=campaign).exclude(user_id__in=wanted).delete()
    have = set(PanelMember.objects.filter(campaign=campaign).values_list("user_id", flat=True))
    PanelMember.objects.bulk_create([PanelMember(campaign=campaign, user_id=u) for u in wanted if u not in have])
    audit.record(
        actor=actor, action="recognition.panel.set", obj=campaign, node_code=campaign.area.code, after={"panel": wanted}
    )
    return list(PanelMember.objects.filter(campaign=campaign))


@transaction.atomic
def set_panel(*, actor: User, campaign_id: int, user_ids: list[int]) -> list[PanelMember]:
    """Name the review panel (评审组): the users who score and approve the candidates."""
    campaign = _locked(_managed(actor, campaign_id))
    if campaign.stage == Stage.PUBLISHED:
        raise Conflict(pgettext_lazy("recognition", "The results are published."))
    return _set_panel(actor, campaign, user_ids)


# --- nominations ---------------------------------------------------------------------------------------------------


def _within(node_code: str, area: Node) -> bool:
    return node_code.startswith(area.code)


def _resolve_nominee(
    actor: User, campaign: Campaign, household_id: int | None, person_id: int | None, person_name: str
) -> tuple[Node | None, Person | None, Node]:
    """The household or person nominated and where they live. Staff pick from what they may see; a resident picks a
    household of their own ground (and, for people, names a resident living there)."""
    ground = actor.ground_codes()
    household: Node | None = None
    person: Person | None = None
    if person_id is not None:
        person = Person.objects.restrict(actor, "view").select_related("household").filter(pk=person_id).first()
        if person is None:
            raise _invalid("person_id", pgettext_lazy("recognition", "Choose a person of your ground."))
    elif household_id is not None:
        candidates = Node.objects.filter(pk=household_id, kind=NodeKind.HOUSEHOLD)
        seen = Node.objects.restrict(actor, "view").filter(pk=household_id, kind=NodeKind.HOUSEHOLD).first()
        if seen is None:
            own = candidates.first()
            if own is None or not any(own.code.startswith(g) for g in ground):
                raise _invalid("household_id", pgettext_lazy("recognition", "Choose a household of your ground."))
            seen = own
        household = seen
        if campaign.subject == Subject.PERSON:
            name = (person_name or "").strip()
            if not name:
                raise _invalid("person_name", pgettext_lazy("recognition", "Name the resident you nominate."))
            person = (
                Person.objects.filter(household=household, is_active=True, name=name)
                .select_related("household")
                .first()
            )
            if person is None:
                raise _invalid(
                    "person_name", pgettext_lazy("recognition", "Nobody of that name lives in the household.")
                )
            household = None
    else:
        field = "household_id" if campaign.subject == Subject.HOUSEHOLD else "person_id"
        raise _invalid(field, pgettext_lazy("recognition", "Choose whom you nominate."))
    if campaign.subject == Subject.HOUSEHOLD and household is None:
        raise _invalid("household_id", pgettext_lazy("recognition", "This campaign recognises households."))
    if campaign.subject == Subject.PERSON and person is None:
        raise _invalid("person_id", pgettext_lazy("recognition", "This campaign recognises people."))
    place = household if household is not None else (person.household if person is not None else None)
    if place is None or not _within(place.code, campaign.area):
        raise _invalid(
            "household_id" if household is not None else "person_id",
            fmt(pgettext_lazy("recognition", "The nominee must live in %(area)s."), area=campaign.area.name),
        )
    return household, person, place


@transaction.atomic
def nominate(
    *,
    actor: User,
    campaign_id: int,
    household_id: int | None = None,
    person_id: int | None = None,
    person_name: str = "",
    reasons: dict[str, str] | None = None,
    now: datetime.datetime | None = None,
) -> Nomination:
    """Put a household or person forward, with a reason for each criterion (at least one)."""
    now = now or timezone.now()
    campaign = Campaign.objects.restrict(actor, "view").select_related("area").filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound()
    if actor.scope_for("recognition.nomination", "add").is_empty:
        raise Forbidden(pgettext_lazy("recognition", "You may not nominate."))
    if campaign.stage != Stage.NOMINATING:
        raise Conflict(pgettext_lazy("recognition", "Nominations are closed."))
    if (campaign.nominations_open and now < campaign.nominations_open) or (
        campaign.nominations_close and now > campaign.nominations_close
    ):
        raise Conflict(pgettext_lazy("recognition", "Nominations are not open now."))
    names = campaign.criterion_names()
    cleaned = {k: str(v).strip()[:500] for k, v in (reasons or {}).items() if k in names and str(v).strip()}
    if not cleaned:
        raise _invalid("reasons", pgettext_lazy("recognition", "Give a reason for at least one criterion."))
    household, person, place = _resolve_nominee(actor, campaign, household_id, person_id, person_name)
    nomination = Nomination(
        campaign=campaign, household=household, person=person, place=place, reasons=cleaned, nominated_by=actor
    )
    try:
        with transaction.atomic():
            nomination.save()
    except IntegrityError:
        raise Conflict(pgettext_lazy("recognition", "Already nominated in this campaign.")) from None
    audit.record(
        actor=actor,
        action="recognition.nominate",
        obj=nomination,
        node_code=place.code,
        after={"campaign": campaign.pk, "criteria": sorted(cleaned)},
    )
    return nomination


def _nomination(actor: User, nomination_id: int) -> Nomination:
    """A nomination the actor may see, or one of a campaign whose panel they sit on (the panel reads its candidates
    wherever its members' own ground is)."""
    base = Nomination.objects.select_related("campaign__area", "household", "person", "place").filter(pk=nomination_id)
    nomination = base.restrict(actor, "view").first() or base.filter(campaign__panel__user=actor).first()
    if nomination is None:
        raise NotFound()
    return nomination


@transaction.atomic
def withdraw(*, actor: User, nomination_id: int, note: str = "") -> Nomination:
    """The nominator (before it is accepted) or the campaign's staff withdraw a nomination."""
    nomination = _nomination(actor, nomination_id)
    own = nomination.nominated_by_id == actor.pk and nomination.status == NominationStatus.NOMINATED
    if not own and not may_manage(actor, nomination.campaign):
        raise Forbidden(pgettext_lazy("recognition", "You may not withdraw this nomination."))
    if nomination.campaign.stage in (Stage.REVIEW, Stage.PUBLISHED) or nomination.status not in (
        NominationStatus.NOMINATED,
        NominationStatus.CANDIDATE,
    ):
        raise Conflict(pgettext_lazy("recognition", "This nomination can no longer be withdrawn."))
    before = nomination.status
    nomination.status = NominationStatus.WITHDRAWN
    nomination.save(update_fields=["status", "updated_at"])
    audit.record(
        actor=actor,
        action="recognition.withdraw",
        obj=nomination,
        node_code=nomination.place.code,
        before={"status": before},
        after={"status": nomination.status},
        note=note[:200],
    )
    return nomination


@transaction.atomic
def accept(*, actor: User, nomination_id: int) -> Nomination:
    """Staff accept a nomination into the candidate list (候选名单)."""
    nomination = _nomination(actor, nomination_id)
    if not may_manage(actor, nomination.campaign):
        raise Forbidden(pgettext_lazy("recognition", "You may not manage this campaign."))
    if nomination.campaign.stage not in (Stage.NOMINATING, Stage.VOTING):
        raise Conflict(pgettext_lazy("recognition", "The candidate list is closed."))
    if nomination.status != NominationStatus.NOMINATED:
        raise Conflict(pgettext_lazy("recognition", "Only a new nomination can be accepted."))
    nomination.status = NominationStatus.CANDIDATE
    nomination.accepted_at = timezone.now()
    nomination.save(update_fields=["status", "accepted_at", "updated_at"])
    audit.record(
        actor=actor,
        action="recognition.accept",
        obj=nomination,
        node_code=nomination.place.code,
        before={"status": NominationStatus.NOMINATED},
        after={"status": nomination.status},
    )
    return nomination


# --- stages --------------------------------------------------------------------------------------------------------


@transaction.atomic
def open_voting(
    *, actor: User, campaign_id: int, closes_at: datetime.datetime | None = None, now: datetime.datetime | None = None
) -> Campaign:
    """Close nominations and open the public vote on the candidates (only where the campaign allows voting)."""
    now = now or timezone.now()
    campaign = _locked(_managed(actor, campaign_id))
    if not campaign.public_voting:
        raise Conflict(pgettext_lazy("recognition", "This campaign has no public voting."))
    if campaign.stage != Stage.NOMINATING:
        raise Conflict(pgettext_lazy("recognition", "Voting opens only after nominations."))
    if not campaign.nominations.filter(status=NominationStatus.CANDIDATE).exists():
        raise Conflict(pgettext_lazy("recognition", "Accept at least one candidate first."))
    if closes_at is not None:
        if closes_at <= now:
            raise _invalid("closes_at", pgettext_lazy("recognition", "Voting must close in the future."))
        campaign.voting_close = closes_at
    campaign.voting_open = campaign.voting_open if campaign.voting_open and campaign.voting_open <= now else now
    campaign.stage = Stage.VOTING
    campaign.save(update_fields=["stage", "voting_open", "voting_close", "updated_at"])
    audit.record(actor=actor, action="recognition.voting.open", obj=campaign, node_code=campaign.area.code)
    return campaign


@transaction.atomic
def open_review(*, actor: User, campaign_id: int) -> Campaign:
    """Close nominations (and the vote) and hand the candidates to the panel; each panel member is told."""
    campaign = _locked(_managed(actor, campaign_id))
    if campaign.stage not in (Stage.NOMINATING, Stage.VOTING):
        raise Conflict(pgettext_lazy("recognition", "The review is already open."))
    if not campaign.nominations.filter(status=NominationStatus.CANDIDATE).exists():
        raise Conflict(pgettext_lazy("recognition", "Accept at least one candidate first."))
    members = list(PanelMember.objects.filter(campaign=campaign).values_list("user_id", flat=True))
    if not members:
        raise Conflict(pgettext_lazy("recognition", "Name the review panel first."))
    before = campaign.stage
    campaign.stage = Stage.REVIEW
    campaign.save(update_fields=["stage", "updated_at"])
    audit.record(
        actor=actor,
        action="recognition.review.open",
        obj=campaign,
        node_code=campaign.area.code,
        before={"stage": before},
        after={"stage": campaign.stage},
    )
    messaging.notify(
        actor=actor,
        recipients=[messaging.Recipient(uid) for uid in members],
        kind=REVIEW_KIND,
        text=pgettext_lazy("recognition", "The panel review of %(title)s is open: please review the candidates."),
        params={"title": campaign.title},
        link=reverse("recognition-campaign", args=[campaign.pk]),
        obj=campaign,
        dedupe=f"recognition:{campaign.pk}:review",
    )
    return campaign


# --- phone checks and votes ------------------------------------------------------------------------------------------


def _public_campaign(campaign_id: int) -> Campaign:
    campaign = Campaign.objects.select_related("area").filter(pk=campaign_id, public_voting=True).first()
    if campaign is None:
        raise NotFound()
    return campaign


def _voting_now(campaign: Campaign, now: datetime.datetime) -> None:
    if campaign.stage != Stage.VOTING:
        raise Conflict(pgettext_lazy("recognition", "Voting is not open."))
    if (campaign.voting_open and now < campaign.voting_open) or (
        campaign.voting_close and now >= campaign.voting_close
    ):
        raise Conflict(pgettext_lazy("recognition", "Voting is not open."))


@transaction.atomic
def send_phone_code(*, campaign_id: int, phone: str, now: datetime.datetime | None = None) -> PhoneCheck:
    """Send a 6-digit code by SMS (the messaging SMS channel) to a visitor who votes without an account. The phone is
    kept only as a hash; a phone gets one code a minute and five a day."""
    now = now or timezone.now()
    campaign = _public_campaign(campaign_id)
    _voting_now(campaign, now)
    digits = normalise_phone(phone)
    if len(digits) != 11 or not digits.startswith("1"):
        raise _invalid("phone", pgettext_lazy("recognition", "Enter an 11-digit mobile number."))
    hashed = phone_hash(digits)
    recent = PhoneCheck.objects.filter(phone_hash=hashed, created_at__gte=now - datetime.timedelta(days=1))
    if recent.filter(created_at__gt=now - CODE_RESEND).exists():
        raise Conflict(pgettext_lazy("recognition", "A code was just sent; wait a minute."))
    if recent.count() >= CODES_PER_DAY:
        raise Conflict(pgettext_lazy("recognition", "Too many codes for this phone today."))
    code = f"{secrets.randbelow(1_000_000):06d}"
    prefixes = _prefixes(campaign)
    check = PhoneCheck.objects.create(
        campaign=campaign,
        phone_hash=hashed,
        code_hash=_code_hash(hashed, code),
        outside_prefix=bool(prefixes) and not any(digits.startswith(p) for p in prefixes),
        created_at=now,
        expires_at=now + CODE_TTL,
    )
    audit.record(actor=None, action="recognition.phone.code", obj=check, node_code=campaign.area.code)
    messaging.notify(
        actor=None,
        recipients=[messaging.Recipient(None, phone=digits)],
        kind=CODE_KIND,
        text=pgettext_lazy(
            "recognition", "Your code for voting in %(title)s is %(code)s (valid 10 minutes). Do not share it."
        ),
        params={"title": campaign.title, "code": code},
        obj=campaign,
        urgency="A",  # a code waits out no quiet hours
        dedupe=f"recognition:code:{check.pk}",
        now=now,
    )
    return check


def verify_phone(*, campaign_id: int, phone: str, code: str, now: datetime.datetime | None = None) -> PhoneCheck:
    """Check a code: the latest unexpired code of the phone for the campaign, five attempts at most. The returned
    check carries ``token`` (once): the visitor votes with it for 12 hours."""
    now = now or timezone.now()
    campaign = _public_campaign(campaign_id)
    hashed = phone_hash(phone)
    with transaction.atomic():  # a wrong code's attempt is counted (committed) before the refusal is raised
        check = (
            PhoneCheck.objects.select_for_update()
            .filter(campaign=campaign, phone_hash=hashed, expires_at__gt=now, verified_at__isnull=True)
            .order_by("-created_at", "-id")
            .first()
        )
        ok = False
        if check is not None and check.attempts < CODE_ATTEMPTS:
            check.attempts += 1
            ok = hmac.compare_digest(check.code_hash, _code_hash(hashed, (code or "").strip()))
            if ok:
                check.verified_at = now
                token = secrets.token_urlsafe(24)
                check.token_hash = hashlib.sha256(token.encode()).hexdigest()
                check.token = token  # type: ignore[attr-defined]  # handed to the caller once, never stored
            check.save(update_fields=["verified_at", "attempts", "token_hash"])
            if ok:
                audit.record(actor=None, action="recognition.phone.verified", obj=check, node_code=campaign.area.code)
    if not ok or check is None:
        raise _invalid("code", pgettext_lazy("recognition", "The code is wrong or has expired."))
    return check


def _signals(
    campaign: Campaign, nomination: Nomination, ip: str | None, device: str, now: datetime.datetime, outside: bool
) -> list[str]:
    flags: list[str] = []
    since = now - BURST_WINDOW
    votes = Vote.objects.filter(campaign=campaign, created_at__gte=since)
    if ip and votes.filter(ip=ip).count() + 1 >= BURST_VOTES:
        flags.append(Flag.IP_BURST)
    if device and votes.filter(device=device).count() + 1 >= BURST_VOTES:
        flags.append(Flag.DEVICE_BURST)
    closing = campaign.voting_close is not None and campaign.voting_close - CLOSING_WINDOW <= now
    if closing and votes.filter(nomination=nomination).count() + 1 >= CLOSING_BURST_VOTES:
        flags.append(Flag.CLOSING_BURST)
    if outside:
        flags.append(Flag.OUTSIDE_PREFIX)
    return [str(f) for f in flags]


def cast_vote(
    *,
    campaign_id: int,
    nomination_id: int,
    user: User | None = None,
    phone_token: str | None = None,
    ip: str | None = None,
    device: str = "",
    now: datetime.datetime | None = None,
) -> Vote:
    """One vote for a candidate, by a signed-in user or a visitor whose phone was verified for this campaign. A second
    vote by the same voter for the same candidate is a conflict: the unique constraint decides, so two at once store
    one. Fraud signals flag the vote; it counts, and the panel sees the flags."""
    now = now or timezone.now()
    with transaction.atomic():
        campaign = _public_campaign(campaign_id)
        _voting_now(campaign, now)
        nomination = Nomination.objects.filter(
            pk=nomination_id, campaign=campaign, status=NominationStatus.CANDIDATE
        ).first()
        if nomination is None:
            raise NotFound()
        hashed, outside = "", False
        if user is not None and user.is_authenticated:
            key = f"u:{user.pk}"
        else:
            user = None
            token_hash = hashlib.sha256(phone_token.encode()).hexdigest() if phone_token else ""
            check = (
                PhoneCheck.objects.filter(token_hash=token_hash, campaign=campaign, verified_at__isnull=False).first()
                if token_hash
                else None
            )
            if check is None or check.verified_at is None or check.verified_at < now - datetime.timedelta(hours=12):
                raise Forbidden(pgettext_lazy("recognition", "Sign in or verify your phone to vote."))
            hashed, outside, key = check.phone_hash, check.outside_prefix, f"p:{check.phone_hash}"
        device = (device or "")[:64]
        flags = _signals(campaign, nomination, ip, device, now, outside)
        vote = Vote(
            campaign=campaign,
            nomination=nomination,
            user=user,
            phone_hash=hashed,
            voter_key=key,
            ip=ip or None,
            device=device,
            flags=flags,
            flagged=bool(flags),
            created_at=now,
        )
        try:
            with transaction.atomic():
                vote.save()
        except IntegrityError:
            raise Conflict(pgettext_lazy("recognition", "You have already voted for this candidate.")) from None
        audit.record(
            actor=user,
            action="recognition.vote",
            obj=vote,
            node_code=nomination.place.code,
            after={"nomination": nomination.pk, "flags": flags},
        )
    return vote


# --- panel review, decision, publication ---------------------------------------------------------------------------


def is_panel_member(user: User, campaign: Campaign) -> bool:
    return PanelMember.objects.filter(campaign=campaign, user=user).exists()


@transaction.atomic
def review(
    *,
    actor: User,
    nomination_id: int,
    approve: bool,
    score: Decimal | None = None,
    comment: str = "",
) -> Review:
    """A panel member approves (or not) and scores a candidate; again, it replaces their earlier review."""
    nomination = _nomination(actor, nomination_id)
    campaign = nomination.campaign
    if not is_panel_member(actor, campaign):
        raise Forbidden(pgettext_lazy("recognition", "Only the campaign's panel reviews its candidates."))
    if campaign.stage != Stage.REVIEW:
        raise Conflict(pgettext_lazy("recognition", "The panel review is not open."))
    if nomination.status != NominationStatus.CANDIDATE:
        raise Conflict(pgettext_lazy("recognition", "Only candidates are reviewed."))
    if score is not None:
        top = sum(int(c.get("max_score") or 0) for c in campaign.criteria) or 100
        if not Decimal(0) <= score <= Decimal(top):
            raise _invalid("score", fmt(pgettext_lazy("recognition", "The score is between 0 and %(max)s."), max=top))
    row, _created = Review.objects.update_or_create(
        nomination=nomination,
        member=actor,
        defaults={"approve": approve, "score": score, "comment": (comment or "").strip()[:300]},
    )
    audit.record(
        actor=actor,
        action="recognition.review",
        obj=row,
        node_code=nomination.place.code,
        after={"approve": approve, "score": str(score) if score is not None else None},
    )
    return row


@transaction.atomic
def decide(*, actor: User, nomination_id: int, award: bool, citation: str = "") -> Nomination:
    """Record the panel's decision on a candidate: awarded with its citation (表彰词), or not; at most the quota."""
    nomination = _nomination(actor, nomination_id)
    campaign = _locked(nomination.campaign)
    if not (may_manage(actor, campaign) or is_panel_member(actor, campaign)):
        raise Forbidden(pgettext_lazy("recognition", "Only the campaign's staff or panel record the decision."))
    if campaign.stage != Stage.REVIEW:
        raise Conflict(pgettext_lazy("recognition", "The panel review is not open."))
    if nomination.status not in (NominationStatus.CANDIDATE, NominationStatus.AWARDED, NominationStatus.NOT_AWARDED):
        raise Conflict(pgettext_lazy("recognition", "Only candidates are decided."))
    citation = (citation or "").strip()
    if award:
        if not citation:
            raise _invalid("citation", pgettext_lazy("recognition", "Write the citation (表彰词)."))
        awarded = campaign.nominations.filter(status=NominationStatus.AWARDED).exclude(pk=nomination.pk).count()
        if awarded >= campaign.quota:
            raise Conflict(
                fmt(pgettext_lazy("recognition", "The quota of %(quota)s winners is reached."), quota=campaign.quota)
            )
    before = nomination.status
    nomination.status = NominationStatus.AWARDED if award else NominationStatus.NOT_AWARDED
    nomination.citation = citation if award else ""
    nomination.decided_at = timezone.now()
    nomination.save(update_fields=["status", "citation", "decided_at", "updated_at"])
    audit.record(
        actor=actor,
        action="recognition.decide",
        obj=nomination,
        node_code=nomination.place.code,
        before={"status": before},
        after={"status": nomination.status},
    )
    return nomination


def _nominee_recipients(nomination: Nomination, link: str) -> list[messaging.Recipient]:
    """The person (or the household's residents) with a phone: their account's inbox where an account has that
    phone, else an SMS."""
    from gongzhi.accounts.models import User as UserModel

    if nomination.person_id is not None:
        people = Person.objects.filter(pk=nomination.person_id)
    else:
        people = Person.objects.filter(household_id=nomination.household_id, is_active=True)
    phones = sorted(
        {p.strip() for p in people.exclude(phone="").values_list("phone", flat=True) if p.strip().isdigit()}
    )
    accounts: dict[str, int] = {}
    for phone, pk in (
        UserModel.objects.filter(phone__in=phones, is_active=True).order_by("pk").values_list("phone", "pk")
    ):
        accounts.setdefault(phone, pk)
    return [
        messaging.Recipient(accounts[p]) if p in accounts else messaging.Recipient(None, phone=p, link=link)
        for p in phones
    ]


@transaction.atomic
def publish(*, actor: User, campaign_id: int, now: datetime.datetime | None = None) -> Campaign:
    """Publish the results: the awarded candidates with their citations on the public page; the others are marked
    not awarded; each awarded household or person is told."""
    now = now or timezone.now()
    campaign = _locked(_managed(actor, campaign_id))
    if campaign.stage != Stage.REVIEW:
        raise Conflict(pgettext_lazy("recognition", "Results are published after the panel review."))
    winners = list(campaign.nominations.filter(status=NominationStatus.AWARDED).select_related("household", "person"))
    if not winners:
        raise Conflict(pgettext_lazy("recognition", "Award at least one candidate first."))
    campaign.nominations.filter(status=NominationStatus.CANDIDATE).update(
        status=NominationStatus.NOT_AWARDED, decided_at=now, updated_at=now
    )
    campaign.stage = Stage.PUBLISHED
    campaign.published_at = now
    campaign.save(update_fields=["stage", "published_at", "updated_at"])
    audit.record(
        actor=actor,
        action="recognition.publish",
        obj=campaign,
        node_code=campaign.area.code,
        after={"awarded": [n.pk for n in winners]},
    )
    link = reverse("recognition-public-results", args=[campaign.pk])
    for nomination in winners:
        recipients = _nominee_recipients(nomination, link)
        if recipients:
            messaging.notify(
                actor=actor,
                recipients=recipients,
                kind=PUBLISHED_KIND,
                text=pgettext_lazy("recognition", "Congratulations: %(name)s is recognised in %(title)s."),
                params={"name": nomination.nominee_name, "title": campaign.title},
                link=link,
                obj=nomination,
                dedupe=f"recognition:{campaign.pk}:published:{nomination.pk}",
                now=now,
            )
    return campaign
