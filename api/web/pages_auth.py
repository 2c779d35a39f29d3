"""Sign-in, sign-out and the start page (which sends each role to its own work)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import COOKIE, IpDep, SessionDep, SettingsDep, start_session
from api.domain import accounts
from api.domain.errors import NotAuthenticated

from .core import Form, MaybePrincipal, WebRoute, home_for, redirect, render, safe_next

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/")
def start(request: Request, principal: MaybePrincipal) -> Response:
    return redirect(request, home_for(principal) if principal else "/sign-in")


@router.get("/home")
def home(request: Request, principal: MaybePrincipal) -> Response:
    """For a role with no pages of its own here (a researcher): say so plainly."""
    if principal is None:
        return redirect(request, "/sign-in")
    return render(request, "home.html")


@router.get("/sign-in")
def sign_in_form(request: Request, principal: MaybePrincipal, next: str | None = None) -> Response:
    if principal is not None:
        return redirect(request, safe_next(next) or home_for(principal))
    return render(request, "sign_in.html", layout="public", next=safe_next(next) or "", error=False, username="")


@router.post("/sign-in")
def sign_in(request: Request, form: Form, session: SessionDep, settings: SettingsDep, ip: IpDep) -> Response:
    username = str(form.get("username") or "").strip()[:200]
    password = str(form.get("password") or "")[:200]
    nxt = safe_next(str(form.get("next") or ""))
    try:
        # a failed attempt is audited: the route returns normally, so that entry is committed
        user = accounts.login(session, username, password, ip)
    except NotAuthenticated:
        return render(
            request, "sign_in.html", status=401, layout="public", next=nxt or "", error=True, username=username
        )
    principal = accounts.user_principal(user)
    resp = redirect(request, nxt or home_for(principal))
    start_session(request, resp, settings, user.id)
    return resp


@router.post("/sign-out")
def sign_out(request: Request, form: Form) -> Response:
    """Sign out; ``next`` lets a psychologist hand the tablet over straight into a respondent page."""
    nxt = safe_next(str(form.get("next") or ""))
    resp = redirect(request, nxt if nxt and nxt.startswith("/r/") else "/sign-in")
    resp.delete_cookie(COOKIE)
    return resp
