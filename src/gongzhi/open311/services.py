"""Open311 writes: keys (created with the key shown once, changed, audited) and a client's new request, which is a
case taken in by ``cases.intake`` like any other (its status is the workflow's, never written here)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from gongzhi.cases import services as cases
from gongzhi.cases.choices import Channel
from gongzhi.cases.models import Case
from gongzhi.core import audit
from gongzhi.open311.models import ApiKey, Request
from gongzhi.territory.models import Node

if TYPE_CHECKING:
    from gongzhi.accounts.models import User

KEY_BYTES = 24


@dataclass
class NewKey:
    key: ApiKey
    secret: str  # shown once; only its hash is kept


@transaction.atomic
def create_key(
    *,
    actor: User | None,
    name: str,
    subdistrict: Node,
    contact: str = "",
    rate_limit: int = 60,
    secret: str | None = None,
) -> NewKey:
    """A new key; its secret drawn here (``secret`` given: the demo's published key, nowhere else)."""
    secret = secret or secrets.token_urlsafe(KEY_BYTES)
    key = ApiKey.objects.create(
        name=name.strip()[:60],
        contact=contact.strip()[:200],
        subdistrict=subdistrict,
        rate_limit=rate_limit,
        key_hash=ApiKey.hash(secret),
        key_prefix=secret[:8],
    )
    audit.record(
        actor=actor,
        action="open311.key_created",
        obj=key,
        node_code=subdistrict.code,
        after={"name": key.name, "contact": key.contact, "rate_limit": rate_limit},
    )
    return NewKey(key, secret)


KEY_FIELDS = ("name", "contact", "subdistrict_id", "rate_limit", "is_active")


@transaction.atomic
def update_key(*, actor: User | None, key: ApiKey, before: dict[str, Any]) -> ApiKey:
    """Save a key the admin changed (its name, contact, rate, active), audited with what it was before."""
    key.save()
    after = {f: getattr(key, f) for f in KEY_FIELDS}
    audit.record(
        actor=actor,
        action="open311.key_changed",
        obj=key,
        node_code=key.subdistrict.code,
        before={f: before.get(f) for f in KEY_FIELDS},
        after=after,
    )
    return key


def key_for(secret: str) -> ApiKey | None:
    """The active key of this secret, its last use noted (at most once a minute: no write per request)."""
    if not secret:
        return None
    key = ApiKey.objects.select_related("subdistrict").filter(key_hash=ApiKey.hash(secret), is_active=True).first()
    if key is not None:
        now = timezone.now()
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


@transaction.atomic
def submit_request(
    *,
    key: ApiKey,
    category_id: int,
    title: str,
    description: str,
    lat: float | None,
    lng: float | None,
    address: str,
    node_id: int | None = None,
    reporter_name: str = "",
    reporter_phone: str = "",
    email: str = "",
    device_id: str = "",
    account_id: str = "",
    media_url: str = "",
    attributes: dict[str, str] | None = None,
    files: list[UploadedFile[bytes]] | None = None,
) -> Case:
    """A client's request → a case through ``cases.intake`` (placed like any report; outside every grid: the desk,
    flagged), channel Open311 and the client's name, and the row that ties it to the key."""
    attributes = attributes or {}
    text = description
    if attributes:
        text += "\n" + "\n".join(f"{code}: {value}" for code, value in sorted(attributes.items()))
    case = cases.report_case(
        actor=None,  # a resident without an account, as the public report form
        channel=Channel.OPEN311,
        channel_label=f"Open311 / {key.name}",
        title=title,
        category_id=category_id,
        description=text.strip(),
        lat=lat,
        lng=lng,
        address=address,
        node_id=node_id,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        files=files,
    )
    Request.objects.create(
        case=case,
        api_key=key,
        email=email[:200],
        device_id=device_id[:200],
        account_id=account_id[:200],
        media_url=media_url[:500],
        attributes=attributes,
    )
    audit.record(
        actor=None,
        action="open311.request_submitted",
        obj=case,
        node_code=case.place_code,
        after={"client": key.name, "key_id": key.pk},
    )
    return case
