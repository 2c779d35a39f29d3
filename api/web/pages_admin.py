"""The admin's pages: accounts (list, create, disable/enable, reset a password, remove a second
factor), API clients (create with scopes, revoke, last use), the audit log, and the emergency
("break-glass") read of a person's data, which needs a reason and is shown as an alert in the log.

The admin reads no beneficiary data anywhere else: the policy (``api.domain.access``) gives the
role no beneficiary, result, report or export action.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response

from api.deps import IpDep, SessionDep, SettingsDep, VaultDep
from api.domain import accounts, audit, sessions
from api.domain import beneficiaries as ben
from api.domain.access import Principal
from api.domain.errors import Conflict, Invalid, NotFound
from api.security import ROLES, SCOPES

from .core import Form, Need, WebRoute, attempt, lang_of, redirect, render

router = APIRouter(prefix="/admin", route_class=WebRoute, include_in_schema=False)
Admin = Annotated[Principal, Depends(Need("accounts.manage"))]
Auditor = Annotated[Principal, Depends(Need("audit.read"))]
BreakGlass = Annotated[Principal, Depends(Need("beneficiaries.break_glass"))]
PAGE = 50


def _orgs(request: Request) -> list[tuple[str, str]]:
    lang = lang_of(request)
    return [(o.id, o.name_ka if lang == "ka" else o.name_en) for o in request.app.state.settings.organisations]


# -- users ---------------------------------------------------------------------------------------


def _users_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    status: int = 200,
    error: str | None = None,
    values: dict[str, str] | None = None,
    made: dict[str, Any] | None = None,
) -> Response:
    rows = [{"u": u, "open": sessions.open_count(session, u.id)} for u in accounts.list_users(session, principal)]
    return render(
        request,
        "admin_users.html",
        status=status,
        rows=rows,
        roles=ROLES,
        orgs=_orgs(request),
        error=error,
        values=values or {"username": "", "full_name": "", "role": "", "organisation": ""},
        made=made,
    )


@router.get("/users")
def users(request: Request, principal: Admin, session: SessionDep) -> Response:
    return _users_page(request, principal, session)


@router.post("/users")
def create_user(
    request: Request, principal: Admin, form: Form, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> Response:
    """A new account with a temporary password, shown once on the next page."""
    values = {k: str(form.get(k) or "").strip()[:200] for k in ("username", "full_name", "role", "organisation")}
    if not values["full_name"]:
        return _users_page(request, principal, session, 422, "full_name", values)
    made, err = attempt(
        session,
        lambda: accounts.new_account(
            session,
            principal,
            values["username"],
            values["full_name"],
            values["role"],
            values["organisation"] or None,
            {o.id for o in settings.organisations},
            None,
            ip,
        ),
    )
    if err is not None:
        field = err.extra.get("field") if isinstance(err, Invalid | Conflict) else None
        return _users_page(request, principal, session, 422, str(field or "other"), values)
    assert made is not None
    user, temporary = made
    return _users_page(request, principal, session, made={"user": user, "password": temporary})


def _user_page(request: Request, principal: Principal, session: SessionDep, user_id: int, **ctx: Any) -> Response:
    u = accounts.get_user(session, principal, user_id)
    values = {"secret": None, "link": None, "error": None, **ctx}
    return render(
        request,
        "admin_user.html",
        u=u,
        open_sessions=sessions.open_count(session, u.id),
        me=principal.id == u.id,
        **values,
    )


@router.get("/users/{user_id}")
def user(request: Request, user_id: int, principal: Admin, session: SessionDep) -> Response:
    return _user_page(request, principal, session, user_id)


@router.post("/users/{user_id}/name")
def rename(request: Request, user_id: int, principal: Admin, form: Form, session: SessionDep, ip: IpDep) -> Response:
    accounts.update_user(session, principal, user_id, str(form.get("full_name") or "")[:200], ip)
    return redirect(request, f"/admin/users/{user_id}")


@router.post("/users/{user_id}/disable")
def disable(request: Request, user_id: int, principal: Admin, form: Form, session: SessionDep, ip: IpDep) -> Response:
    """Disable: every open session of the account ends at once."""
    _, err = attempt(session, lambda: accounts.set_active(session, principal, user_id, False, ip))
    if err is not None:
        return _user_page(request, principal, session, user_id, error="disable")
    return redirect(request, f"/admin/users/{user_id}")


@router.post("/users/{user_id}/enable")
def enable(request: Request, user_id: int, principal: Admin, form: Form, session: SessionDep, ip: IpDep) -> Response:
    accounts.set_active(session, principal, user_id, True, ip)
    return redirect(request, f"/admin/users/{user_id}")


@router.post("/users/{user_id}/reset")
def reset(
    request: Request,
    user_id: int,
    principal: Admin,
    form: Form,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
) -> Response:
    """A temporary password (every session ends; a new one is chosen at the next sign-in), or a
    one-time link (the old password works until the link is used)."""
    if form.get("method") == "link":
        token = accounts.reset_link(session, principal, user_id, settings.reset_link_hours, ip)
        link = str(request.base_url).rstrip("/") + f"/reset/{token}"
        return _user_page(request, principal, session, user_id, link=link, hours=settings.reset_link_hours)
    secret = accounts.reset_password(session, principal, user_id, ip)
    return _user_page(request, principal, session, user_id, secret=secret)


@router.post("/users/{user_id}/totp/remove")
def remove_totp(
    request: Request, user_id: int, principal: Admin, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    accounts.totp_remove(session, principal, user_id, ip)
    return redirect(request, f"/admin/users/{user_id}")


# -- API clients ---------------------------------------------------------------------------------


def _clients_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    status: int = 200,
    error: str | None = None,
    made: dict[str, Any] | None = None,
) -> Response:
    return render(
        request,
        "admin_clients.html",
        status=status,
        rows=accounts.list_api_clients(session, principal),
        scopes=SCOPES,
        orgs=_orgs(request),
        error=error,
        made=made,
    )


@router.get("/api-clients")
def clients(request: Request, principal: Admin, session: SessionDep) -> Response:
    return _clients_page(request, principal, session)


@router.post("/api-clients")
def create_client(request: Request, principal: Admin, form: Form, session: SessionDep, ip: IpDep) -> Response:
    """A new client; its key is shown once, on the next page, and stored only as a hash."""
    name = str(form.get("name") or "").strip()[:120]
    scopes = [str(v) for v in form.getlist("scopes")]
    org = str(form.get("organisation") or "").strip() or None
    if not name or not scopes:
        return _clients_page(request, principal, session, 422, "name" if not name else "scopes")
    made, err = attempt(session, lambda: accounts.create_api_client(session, principal, name, scopes, org, ip))
    if err is not None:
        field = err.extra.get("field") if isinstance(err, Invalid | Conflict) else None
        return _clients_page(request, principal, session, 422, str(field or "other"))
    assert made is not None
    client, key = made
    return _clients_page(request, principal, session, made={"client": client, "key": key})


@router.post("/api-clients/{client_id}/revoke")
def revoke(request: Request, client_id: int, principal: Admin, form: Form, session: SessionDep, ip: IpDep) -> Response:
    accounts.revoke_api_client(session, principal, client_id, ip)
    return redirect(request, "/admin/api-clients")


# -- audit log and break-glass -------------------------------------------------------------------


@router.get("/audit")
def audit_log(
    request: Request,
    principal: Auditor,
    session: SessionDep,
    offset: Annotated[int, Query(ge=0, le=10**12)] = 0,
    beneficiary: Annotated[str, Query(max_length=16)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    rows, total = audit.listing(session, principal, offset, PAGE, beneficiary or None, action or None)
    alerts, _ = audit.listing(session, principal, 0, 5, None, "break_glass")
    return render(
        request,
        "admin_audit.html",
        rows=rows,
        total=total,
        offset=offset,
        page=PAGE,
        beneficiary=beneficiary,
        action=action,
        alerts=alerts,
    )


@router.get("/break-glass")
def break_glass_form(request: Request, principal: BreakGlass) -> Response:
    return render(request, "admin_break_glass.html", error=None, code="", reason="", document=None)


@router.post("/break-glass")
def break_glass(
    request: Request, principal: BreakGlass, form: Form, session: SessionDep, vault: VaultDep, ip: IpDep
) -> Response:
    """The emergency read: a reason is required; the read is logged as an alert."""
    code = str(form.get("code") or "").strip().upper()[:16]
    reason = str(form.get("reason") or "").strip()[:1000]
    doc, err = attempt(session, lambda: ben.break_glass(session, principal, vault, code, reason, ip))
    if err is not None:
        kind = "not_found" if isinstance(err, NotFound) else "reason"
        return render(
            request, "admin_break_glass.html", status=422, error=kind, code=code, reason=reason, document=None
        )
    text = json.dumps(jsonable_encoder(doc), ensure_ascii=False, indent=2)
    return render(request, "admin_break_glass.html", error=None, code=code, reason="", document=text)


# -- settings ------------------------------------------------------------------------------------

Settings_ = Annotated[Principal, Depends(Need("settings.read"))]
SHOWN_SETTINGS = (
    "session_hours",
    "session_idle_minutes",
    "shared_device_idle_minutes",
    "respondent_idle_minutes",
    "password_min_length",
    "reset_link_hours",
    "signin_failures_account",
    "signin_failures_address",
    "code_failures_address",
    "code_requests_administration",
    "throttle_window_minutes",
    "throttle_block_minutes",
    "retention_days",
    "cookie_secure",
)
"""What the settings page shows: the security and retention settings (never a secret or key)."""


@router.get("/settings")
def settings_page(request: Request, principal: Settings_, settings: SettingsDep) -> Response:
    """The configuration in force: the fund, the receiving organisations, the security and retention
    settings. They are changed in ``instance/settings.toml`` (or ``PROFORIENT_*``), not here."""
    return render(
        request,
        "admin_settings.html",
        fund={"ka": settings.fund_name_ka, "en": settings.fund_name_en},
        organisations=settings.organisations,
        values=[(name, getattr(settings, name)) for name in SHOWN_SETTINGS],
    )
