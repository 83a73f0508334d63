from ninja import Router, Status
from ninja.pagination import paginate

from gongzhi.accounts import selectors, services
from gongzhi.accounts.schemas import (
    AssignmentOut,
    GrantIn,
    RevealIn,
    RevealOut,
    RevokedOut,
    TokenIn,
    TokenInfoOut,
    TokenOut,
    UserOut,
    assignment_out,
    user_out,
)
from gongzhi.core.errors import NotFound
from gongzhi.core.http import ApiRequest
from gongzhi.core.pagination import PageNumberPagination
from gongzhi.core.schemas import Int64

auth_router = Router(tags=["auth"])
router = Router(tags=["accounts"])


@auth_router.post("/token", auth=None, response=TokenOut, summary="Exchange username and password for a bearer token")
def token(request: ApiRequest, payload: TokenIn) -> TokenOut:
    key, tok = services.issue_token(request=request, username=payload.username, password=payload.password)
    return TokenOut(token=key, expires_at=tok.expires_at.isoformat())


@router.get("/me", response=UserOut, summary="The calling user and their roles")
def me(request: ApiRequest) -> UserOut:
    return user_out(selectors.user_get(user=request.auth, user_id=request.auth.pk))


@router.get("/users", response=list[UserOut], summary="Users in scope (phones masked)")
@paginate(PageNumberPagination)
def users(
    request: ApiRequest, q: str | None = None, role: str | None = None, node_id: Int64 | None = None
) -> list[UserOut]:
    return [user_out(u) for u in selectors.user_list(user=request.auth, q=q, role=role, node_id=node_id)]


@router.get("/users/{user_id}", response=UserOut)
def user_detail(request: ApiRequest, user_id: Int64) -> UserOut:
    return user_out(selectors.user_get(user=request.auth, user_id=user_id))


@router.post("/users/{user_id}/reveal", response=RevealOut, summary="Reveal a masked field (audited)")
def reveal(request: ApiRequest, user_id: Int64, payload: RevealIn) -> RevealOut:
    value = services.reveal_user_field(actor=request.auth, user_id=user_id, field=payload.field)
    return RevealOut(field=payload.field, value=value)


@router.post("/users/{user_id}/roles", response={201: AssignmentOut}, summary="Grant a role on a place or body")
def grant(request: ApiRequest, user_id: Int64, payload: GrantIn) -> Status[AssignmentOut]:
    row = services.grant_role(
        actor=request.auth,
        user_id=user_id,
        role=payload.role,
        node_id=payload.node_id,
        body_id=payload.body_id,
        post=payload.post,
    )
    return Status(201, assignment_out(row))


@router.delete("/roles/{assignment_id}", response={204: None}, summary="Revoke a role")
def revoke(request: ApiRequest, assignment_id: Int64) -> Status[None]:
    services.revoke_role(actor=request.auth, assignment_id=assignment_id)
    return Status(204, None)


@router.get("/tokens", response=list[TokenInfoOut], summary="My live API tokens (an administrator: anyone's)")
def tokens(request: ApiRequest, user_id: int | None = None) -> list[TokenInfoOut]:
    current = getattr(request.auth, "gz_token_id", None)
    return [
        TokenInfoOut(
            id=t.pk, created_at=t.created_at, expires_at=t.expires_at, last_used_at=t.last_used_at,
            current=t.pk == current,
        )
        for t in selectors.token_list(user=request.auth, owner_id=user_id)
    ]


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke one of my API tokens (audited)")
def token_revoke(request: ApiRequest, token_id: int) -> Status[None]:
    services.revoke_token(actor=request.auth, token_id=token_id)
    return Status(204, None)


@router.delete(
    "/users/{user_id}/tokens",
    response=RevokedOut,
    summary="Revoke every API token of a user: oneself or, as an administrator, anyone (audited)",
)
def user_tokens_revoke(request: ApiRequest, user_id: int) -> RevokedOut:
    return RevokedOut(revoked=services.revoke_user_tokens(actor=request.auth, user_id=user_id))


@router.get("/staff", response=list[AssignmentOut], summary="Who is posted on a place (grid: 1+3+N)")
def staff(request: ApiRequest, node_id: Int64) -> list[AssignmentOut]:
    from gongzhi.territory import selectors as territory_selectors

    try:
        territory_selectors.node_get(user=request.auth, node_id=node_id)
    except NotFound:
        raise
    return [assignment_out(r) for r in selectors.staff_on(user=request.auth, node_id=node_id)]
