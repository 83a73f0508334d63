"""Idempotent submissions: a client-generated key makes a replayed submission answer once (docs/offline.md).

A phone that queued a report offline sends it again until it hears an answer; a flaky basement connection may deliver
the same request twice, or the answer may be lost on the way back. Each offline-capable submission carries a key the
client made (a UUID): the ``Idempotency-Key`` header, or the form field ``idempotency_key`` of a page's form. The first
request with a key does the work and its answer (status, content type, ``Location``, body) is stored with the key;
every later request of the same user with that key gets the stored answer and does nothing. A key sent again with a
different request (another body or another address) is refused: 409, ``idempotency_key_reused``.

Only a successful answer (below 400) is kept: a refused submission (a validation error, a conflict) rolls back with
its key, so the client may correct it and send it again with the same key.

Concurrent replays are safe through the unique constraint on (user, key): the key's row is inserted first, in the same
transaction as the work. A second request with the same key blocks on the insert until the first commits (PostgreSQL
waits on the unique index; SQLite has one writer at a time), then fails the insert, and reads the stored answer.

Use it on a page view (below ``login_required``) or on an API operation::

    @router.post("/rounds", ...)
    @decorate_view(idempotent("inspections.round"))
    def round_submit(request: ApiRequest, payload: RoundIn) -> ...

    @login_required
    @require_POST
    @idempotent("visits.record")
    def record(request, household_id): ...

Without a key a request runs as before. Keys are kept ``settings.GONGZHI_IDEMPOTENCY_DAYS`` days (``expire``, a
scheduler job of ``core.schedule``).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from gongzhi.core.errors import DomainError, ErrorDetail, ValidationFailed
from gongzhi.core.models import IdempotencyKey

if TYPE_CHECKING:
    from django.contrib.auth.models import _User as User  # django-stubs: settings.AUTH_USER_MODEL

HEADER = "Idempotency-Key"
FIELD = "idempotency_key"
MAX_KEY = 100
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Form fields that differ between two sends of one submission and say nothing about it.
IGNORED_FIELDS = {FIELD, "csrfmiddlewaretoken"}

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


class KeyReused(DomainError):
    def __init__(self) -> None:
        super().__init__(
            message=_("This submission's key was already used for a different submission."),
            code="idempotency_key_reused",
            status=409,
            details=[ErrorDetail(field=HEADER, message=_("send a new key with a new submission"))],
        )


def days() -> int:
    return int(getattr(settings, "GONGZHI_IDEMPOTENCY_DAYS", 7))


def key_of(request: HttpRequest) -> str | None:
    """The request's key (header first, then the form field), or None. A malformed key is a 400."""
    key = request.headers.get(HEADER)
    if (
        key is None
        and request.method == "POST"
        and request.content_type
        in (
            "multipart/form-data",
            "application/x-www-form-urlencoded",
        )
    ):
        key = request.POST.get(FIELD) or None
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise ValidationFailed(
            _("The submission's key is not valid."),
            [ErrorDetail(field=HEADER, message=_("1 to 100 printable ASCII characters"))],
        )
    return key


def fingerprint(request: HttpRequest, scope: str) -> str:
    """What the submission is: the scope, the method and path, and the body — a form's fields (less the CSRF token
    and the key) and its files' contents, or a JSON body with its keys sorted. Two sends of one submission have the
    same fingerprint whatever the multipart boundary or the order of JSON keys."""
    h = hashlib.sha256()
    h.update(f"{scope}\n{request.method}\n{request.path}\n".encode())
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name in sorted(request.POST):
            if name not in IGNORED_FIELDS:
                h.update(json.dumps([name, request.POST.getlist(name)], ensure_ascii=False).encode())
        for name in sorted(request.FILES):
            for f in request.FILES.getlist(name):
                h.update(f"\nfile {name} {f.size}\n".encode())
                for chunk in f.chunks():
                    h.update(chunk)
                f.seek(0)
    else:
        body = request.body
        with contextlib.suppress(ValueError):  # not JSON: the bytes as they are
            body = json.dumps(json.loads(body), sort_keys=True, ensure_ascii=False).encode()
        h.update(body)
    return h.hexdigest()


def _user_of(request: HttpRequest, view: Callable[..., Any]) -> User | None:
    """The acting user: a page's session user, or an API operation's authenticated user (its ``run`` is the view:
    its own authentication runs first, so that a bearer token counts as its user)."""
    operation = getattr(view, "__self__", None)
    if operation is not None and hasattr(operation, "_run_authentication"):
        if getattr(operation, "auth_callbacks", None) and operation._run_authentication(request) is None:
            auth = getattr(request, "auth", None)
            return cast("User", auth) if getattr(auth, "pk", None) else None
        return None
    user = getattr(request, "user", None)
    return cast("User", user) if user is not None and user.is_authenticated else None


def _replay(row: IdempotencyKey) -> HttpResponse:
    response = HttpResponse(row.body, status=row.status_code, content_type=row.content_type or None)
    if row.location:
        response["Location"] = row.location
    response["Idempotent-Replayed"] = "true"
    return response


def _keep(row: IdempotencyKey, response: HttpResponseBase) -> None:
    row.status_code = response.status_code
    row.content_type = response.get("Content-Type", "")[:100]
    row.location = response.get("Location", "")[:500]
    if isinstance(response, HttpResponse):
        row.body = response.content.decode(response.charset or "utf-8", errors="replace")
    row.save(update_fields=["status_code", "content_type", "location", "body"])


def run_once(request: HttpRequest, scope: str, user: User, key: str, work: Callable[[], HttpResponseBase]) -> Any:
    """``work()`` once for (user, key): the first call runs it in one transaction with the key's row; a later one
    answers the stored response. The core of :func:`idempotent`, for a caller that has its own way to the user."""
    print_ = fingerprint(request, scope)
    now = timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    scope=scope,
                    fingerprint=print_,
                    created_at=now,
                    expires_at=now + datetime.timedelta(days=days()),
                )
        except IntegrityError:
            # Someone else's transaction with this key committed first (the insert waited for it): its answer.
            row = IdempotencyKey.objects.get(user=user, key=key)
            if row.fingerprint != print_:
                raise KeyReused() from None
            return _replay(row)
        response = work()
        if response.status_code < 400 and not response.streaming:
            _keep(row, response)
        else:  # refused or failed: nothing done, the key free again
            transaction.set_rollback(True)
        return response


def idempotent(scope: str) -> Callable[[View], View]:
    """A view decorator: honour the request's idempotency key (see the module's docstring). ``scope`` names the
    submission (``cases.report``, ``visits.record``, ``inspections.round``); it is part of the fingerprint."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                # A read is no submission: a page that takes its form's post at its own address and redirects to
                # itself is read again with the key (fetch keeps the header across the redirect).
                key = key_of(request) if request.method not in SAFE_METHODS else None
                if key is None:
                    return view(request, *args, **kwargs)
                user = _user_of(request, view)
                if user is None:  # not signed in: the view answers as it would (401, the log-in page)
                    return view(request, *args, **kwargs)
                return cast(
                    HttpResponseBase, run_once(request, scope, user, key, lambda: view(request, *args, **kwargs))
                )
            except DomainError as exc:
                operation = getattr(view, "__self__", None)
                if operation is not None and hasattr(operation, "api"):  # an API operation: the one error shape
                    return cast(HttpResponseBase, operation.api.on_exception(request, exc))
                raise  # a page: DomainErrorMiddleware renders it

        return cast(View, wrapper)

    return decorate


def expire(now: datetime.datetime | None = None) -> int:
    """Forget the keys past their time (the scheduler's ``idempotency_expire``); the number deleted."""
    deleted, _rows = IdempotencyKey.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
