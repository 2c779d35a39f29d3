"""Running the service: accounts, API clients, the audit log (the admin's endpoints)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from api.deps import IdempotencyDep, IpDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import accounts, audit, sessions
from api.routes.common import Page, documented, idempotent
from api.schemas import (
    ApiClientCreate,
    ApiClientCreated,
    ApiClientPublic,
    AuditCheck,
    AuditPage,
    PasswordResetCreate,
    ResetLink,
    TemporaryPassword,
    UserCreate,
    UserCreated,
    UserPublic,
    UserUpdate,
)

router = APIRouter(prefix="/v1", tags=["administration of the service"])


@router.get("/users", **documented(list[UserPublic]))
def users(principal: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    """Every account, with its open sessions."""
    return [accounts.user_view(u, sessions.open_count(session, u.id)) for u in accounts.list_users(session, principal)]


@router.post("/users", status_code=201, **documented(UserCreated, 201))
def create_user(
    body: UserCreate,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """A new account. Without ``password`` a temporary one is returned once (``temporary_password``);
    the person sets their own at the first sign-in."""

    def work() -> dict[str, Any]:
        u, temporary = accounts.new_account(
            session,
            principal,
            body.username,
            body.full_name,
            body.role,
            body.organisation,
            {o.id for o in settings.organisations},
            body.password,
            ip,
        )
        return {**accounts.user_view(u), "temporary_password": temporary}

    def replay(uid: str) -> dict[str, Any]:
        return {**accounts.user_view(accounts.get_user(session, principal, int(uid))), "temporary_password": None}

    return idempotent(idem, body.model_dump(exclude={"password"}), work, replay)


@router.get("/users/{user_id}", **documented(UserPublic))
def user(user_id: int, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    u = accounts.get_user(session, principal, user_id)
    return accounts.user_view(u, sessions.open_count(session, u.id))


@router.patch("/users/{user_id}", **documented(UserPublic))
def update_user(
    user_id: int, body: UserUpdate, principal: PrincipalDep, session: SessionDep, ip: IpDep
) -> dict[str, Any]:
    return accounts.user_view(accounts.update_user(session, principal, user_id, body.full_name, ip))


@router.post("/users/{user_id}/disable", **documented(UserPublic))
def disable_user(user_id: int, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    """Disable the account: its sessions end at once, its password no longer signs in."""
    return accounts.user_view(accounts.set_active(session, principal, user_id, False, ip), 0)


@router.post("/users/{user_id}/enable", **documented(UserPublic))
def enable_user(user_id: int, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    return accounts.user_view(accounts.set_active(session, principal, user_id, True, ip))


@router.post("/users/{user_id}/reset-password", **documented(TemporaryPassword | ResetLink))
def reset_password(
    user_id: int,
    body: PasswordResetCreate,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
) -> dict[str, Any]:
    """``temporary``: a new temporary password (returned once; every session ends; a new password
    is chosen at the next sign-in). ``link``: a one-time token for ``/reset/{token}`` (or
    ``POST /v1/auth/reset``), valid ``reset_link_hours``."""
    if body.method == "link":
        token = accounts.reset_link(session, principal, user_id, settings.reset_link_hours, ip)
        return {"method": "link", "token": token, "path": f"/reset/{token}", "hours": settings.reset_link_hours}
    return {"method": "temporary", "temporary_password": accounts.reset_password(session, principal, user_id, ip)}


@router.delete("/users/{user_id}/totp", status_code=204)
def remove_second_factor(user_id: int, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> None:
    """Remove a user's second factor (a lost phone); they can set up a new one."""
    accounts.totp_remove(session, principal, user_id, ip)


@router.get("/api-clients", **documented(list[ApiClientPublic]))
def api_clients(principal: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    return [accounts.client_view(c) for c in accounts.list_api_clients(session, principal)]


@router.post("/api-clients", status_code=201, **documented(ApiClientCreated, 201))
def create_client(
    body: ApiClientCreate, principal: PrincipalDep, session: SessionDep, ip: IpDep, idem: IdempotencyDep
) -> JSONResponse:
    """A new API client; its ``key`` is in this response only (a retry with the same key shows null)."""

    def work() -> dict[str, Any]:
        c, key = accounts.create_api_client(session, principal, body.name, body.scopes, body.organisation, ip)
        return {**accounts.client_view(c), "key": key}

    def replay(cid: str) -> dict[str, Any]:
        return {**accounts.client_view(accounts.get_api_client(session, principal, int(cid))), "key": None}

    return idempotent(idem, body.model_dump(), work, replay)


@router.post("/api-clients/{client_id}/revoke", **documented(ApiClientPublic))
def revoke_client(client_id: int, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    """The key stops working at once."""
    return accounts.client_view(accounts.revoke_api_client(session, principal, client_id, ip))


@router.get("/audit", **documented(AuditPage))
def audit_log(
    principal: PrincipalDep,
    session: SessionDep,
    page: Annotated[Page, Depends()],
    beneficiary: str | None = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
) -> dict[str, Any]:
    """The audit log, newest first. An emergency read of a person's data (``break_glass``) is
    marked ``alert``."""
    items, total = audit.listing(session, principal, page.offset, page.limit, beneficiary, action)
    return page.wrap(items, total)


@router.get("/audit/verify", **documented(AuditCheck))
def audit_verify(principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    principal.require("audit.read")
    v = audit.verify(session)
    return {"ok": v.ok, "entries": v.entries, "problem": v.problem, "seq": v.seq, "checkpoints": v.checkpoints}
