"""The REST API under /api/v1/: one NinjaAPI, one authentication set, one error shape, a router per app."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from gongzhi.accounts.api import auth_router
from gongzhi.accounts.api import router as accounts_router
from gongzhi.accounts.auth import API_AUTH
from gongzhi.cases.api import public_router as cases_public_router
from gongzhi.cases.api import router as cases_router
from gongzhi.core.api import router as core_router
from gongzhi.core.errors import DomainError, ErrorDetail
from gongzhi.core.schemas import validation_message
from gongzhi.disputes.api import notices_router as police_notices_router
from gongzhi.disputes.api import router as disputes_router
from gongzhi.inspections.api import router as inspections_router
from gongzhi.kpis.api import router as kpis_router
from gongzhi.meetings.api import public_router as meetings_public_router
from gongzhi.meetings.api import router as meetings_router
from gongzhi.messaging.api import router as inbox_router
from gongzhi.notices.api import router as notices_router
from gongzhi.participation.api import router as participation_router
from gongzhi.recognition.api import public_router as recognition_public_router
from gongzhi.recognition.api import router as recognition_router
from gongzhi.registry.api import households_router, organisations_router, people_router
from gongzhi.service.api import router as service_router
from gongzhi.territory.api import router as territory_router
from gongzhi.triage.api import router as triage_router
from gongzhi.visits.api import router as visits_router

# Every error the API gives, in one shape (core.errors.DomainError.as_dict), documented on every operation.
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string", "description": "validation_failed, not_found, forbidden, conflict, …"},
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["message"],
                        "properties": {
                            "field": {"type": "string", "description": "The parameter or field (dotted path)."},
                            "row": {"type": "integer", "description": "A file's row (imports)."},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}
ERROR_RESPONSES: dict[int, str] = {
    400: "Not valid: each detail names its field (unknown or read-only fields included).",
    401: "Not logged in: no session and no valid bearer token.",
    403: "In scope, but the caller's role may not do this.",
    404: "No such object, or it lies outside the caller's scope.",
    429: "Too many requests (anonymous endpoints and log-in failures are rate-limited).",
    500: "An unexpected error (logged).",
    503: "The database is busy (a lock outlived its timeout): try again after `Retry-After` seconds.",
}


class GongzhiAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None) -> Any:
        """ninja's document, with the error shape as ``Error`` and the error responses on every operation
        (401 only where the operation needs authentication, 429 only where it does not)."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {})
        components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        shared = components.setdefault("responses", {})
        for status, description in ERROR_RESPONSES.items():
            shared[f"Error{status}"] = {"description": description, "content": content}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                authenticated = bool(operation.get("security"))
                for status in ERROR_RESPONSES:
                    if (status == 401 and not authenticated) or (status == 429 and authenticated):
                        continue
                    responses.setdefault(status, {"$ref": f"#/components/responses/Error{status}"})
        return schema


api = GongzhiAPI(
    title="Gongzhi API",
    version="1",
    description=(
        "共治 Gongzhi: party-led, grid-based grassroots governance. Every list and object is limited to the caller's "
        "scope; an object outside it answers 404. Errors always have the shape "
        '`{"error": {"code", "message", "details": [{"field", "row", "message"}]}}`.'
    ),
    auth=API_AUTH,
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(
    request: HttpRequest, status: int, code: str, message: str, details: list[ErrorDetail] | None = None
) -> HttpResponse:
    return api.create_response(
        request, DomainError(message=message, code=code, status=status, details=details or []).as_dict(), status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    details = []
    for err in exc.errors:
        loc = [str(part) for part in err.get("loc", ()) if part not in ("body", "query", "path", "form", "payload")]
        ctx = err.get("ctx") or {}
        field = ctx.get("field") if isinstance(ctx.get("field"), str) else ".".join(loc)
        # In the request's language (core.schemas.validation_message); an unknown or read-only field is refused by
        # core.schemas.InputSchema ("extra_forbidden"), never ignored.
        details.append(ErrorDetail(message=validation_message(err), field=field or None))
    return _error(request, 400, "validation_failed", gettext("The request is not valid."), details)


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    message = gettext("Log in, or send a bearer token from POST /api/v1/auth/token.")
    return _error(request, 401, "unauthenticated", message)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", gettext("Not found."))


@api.exception_handler(PermissionDenied)
def on_permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return _error(request, 403, "forbidden", str(exc) or gettext("You may not do this."))


api.add_router("/auth", auth_router)
api.add_router("/accounts", accounts_router)
api.add_router("/territory", territory_router)
api.add_router("/audit", core_router)
api.add_router("/cases/public", cases_public_router)
api.add_router("/cases", cases_router)
api.add_router("/people", people_router)
api.add_router("/households", households_router)
api.add_router("/organisations", organisations_router)
api.add_router("/visits", visits_router)
api.add_router("/notices", notices_router)
api.add_router("/service", service_router)
api.add_router("/recognition", recognition_router)
api.add_router("/recognition/public", recognition_public_router)
api.add_router("/inspections", inspections_router)
api.add_router("/participation", participation_router)
api.add_router("/meetings/public", meetings_public_router)
api.add_router("/meetings", meetings_router)
api.add_router("/inbox", inbox_router)
api.add_router("/disputes", disputes_router)
api.add_router("/police-notices", police_notices_router)
api.add_router("/kpis", kpis_router)
api.add_router("/triage", triage_router)
