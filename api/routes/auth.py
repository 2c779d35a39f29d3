"""Signing in and out, one's own password, and one-time reset links (``/v1/auth``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.deps import (
    IdentityDep,
    IpDep,
    PrincipalDep,
    SessionDep,
    VaultDep,
    end_session,
    start_session,
)
from api.domain import accounts
from api.domain.errors import NotAuthenticated
from api.routes.common import documented
from api.schemas import Login, Me, PasswordChange, PasswordChanged, PasswordResetRedeem, SignedIn

router = APIRouter(prefix="/v1/auth", tags=["auth"])


@router.post("/login", **documented(SignedIn))
def login(
    body: Login, request: Request, response: Response, session: SessionDep, vault: VaultDep, ip: IpDep
) -> dict[str, object]:
    """Sign in: a session cookie (server-side session). Throttled per account and address (429 with
    ``Retry-After``). An account with a temporary password gets a session that can only set a new
    one (``password_change_required``); an account with a second factor needs ``totp``."""
    signed = accounts.sign_in(session, body.username, body.password, ip, via="api", totp=body.totp, vault=vault)
    start_session(request, response, session, signed.user, stage=signed.stage, shared=body.shared_device, ip=ip)
    u = signed.user
    return {
        "username": u.username,
        "full_name": u.full_name,
        "role": u.role,
        "organisation": u.organisation,
        "password_change_required": signed.stage == "password",
    }


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, session: SessionDep) -> Response:
    """Sign out: the session ends in the database at once; the old cookie is refused from now on."""
    end_session(request, response, session)
    response.status_code = 204
    return response


@router.get("/me", **documented(Me))
def me(principal: PrincipalDep) -> dict[str, object]:
    return {
        "kind": principal.kind,
        "name": principal.name,
        "full_name": principal.full_name,
        "role": principal.role,
        "organisation": principal.organisation,
        "scopes": sorted(principal.scopes),
    }


@router.post("/password", **documented(PasswordChanged))
def change_password(
    body: PasswordChange,
    request: Request,
    response: Response,
    ident: IdentityDep,
    session: SessionDep,
    ip: IpDep,
) -> dict[str, object]:
    """Change one's own password (also with a temporary password's half session). Every session of
    the account ends; this browser gets a new one."""
    if ident.stage == "totp":
        raise NotAuthenticated("the second factor is awaited: enter the one-time code first")
    user = accounts.change_password(session, ident.principal, body.current_password, body.new_password, ip)
    if ident.principal.session_id is not None:
        start_session(request, response, session, user, ip=ip)
    return {"changed": True}


@router.post("/reset", status_code=204)
def redeem_reset(body: PasswordResetRedeem, session: SessionDep, ip: IpDep) -> Response:
    """Set a new password with the token of a one-time reset link (then sign in with it)."""
    accounts.redeem_reset(session, body.token, body.new_password, ip)
    return Response(status_code=204)
