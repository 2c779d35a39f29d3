"""Sign-in (with the one-time code of a second factor), sign-out, the start page, one's own
account (password, second factor) and the one-time reset link.

A sign-in makes a server-side session and a fresh CSRF cookie. Signing out ends the session in
the database at once, so the old cookie is refused from then on, on this browser or any other.
Failed sign-ins are throttled per account and per address and audited; a paused sign-in says so
plainly and for how long.
"""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from api.deps import IpDep, SessionDep, VaultDep, end_session, start_session
from api.domain import accounts
from api.domain.access import Principal
from api.domain.errors import Conflict, Invalid, NotAuthenticated, TooManyAttempts

from .core import (
    Form,
    MaybePrincipal,
    Need,
    WebRoute,
    _finish,
    half_signed_in,
    home_for,
    mark_shared,
    redirect,
    render,
    safe_next,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

SignedIn = Annotated[Principal, Depends(Need("account.own"))]
PasswordStep = Annotated[Principal, Depends(half_signed_in("password"))]
CodeStep = Annotated[Principal, Depends(half_signed_in("totp"))]


def _minutes(exc: TooManyAttempts) -> int:
    return max(1, -(-exc.retry_after // 60))


def _signed_in_response(
    request: Request, session: SessionDep, user: object, stage: str, nxt: str | None, shared: bool, ip: str | None
) -> Response:
    """Start the session (the cookie and a fresh CSRF cookie), then go on to the next step."""
    if stage == "password":
        target = "/account/password"
    elif stage == "totp":
        target = "/sign-in/code" + (f"?next={nxt}" if nxt else "")
    else:
        target = nxt or home_for(accounts.user_principal(user))  # type: ignore[arg-type]
    resp = RedirectResponse(target, status_code=303)
    start_session(request, resp, session, user, stage=stage, shared=shared, ip=ip)  # type: ignore[arg-type]
    mark_shared(request, resp, shared)
    return _finish(request, resp)


@router.get("/")
def start(request: Request, principal: MaybePrincipal) -> Response:
    return redirect(request, home_for(principal) if principal else "/sign-in")


@router.get("/home")
def home(request: Request, principal: MaybePrincipal) -> Response:
    """For a role with no pages of its own here (a researcher): say so plainly."""
    if principal is None:
        return redirect(request, "/sign-in")
    return render(request, "home.html")


def _sign_in_page(request: Request, status: int = 200, **ctx: object) -> Response:
    values = {
        "next": "",
        "error": None,
        "username": "",
        "minutes": 0,
        "shared": False,
        "reset_done": request.query_params.get("reset") == "1",
        **ctx,
    }
    return render(request, "sign_in.html", status=status, layout="public", **values)


@router.get("/sign-in")
def sign_in_form(request: Request, principal: MaybePrincipal, next: str | None = None) -> Response:
    if principal is not None:
        return redirect(request, safe_next(next) or home_for(principal))
    return _sign_in_page(request, next=safe_next(next) or "")


@router.post("/sign-in")
def sign_in(request: Request, form: Form, session: SessionDep, vault: VaultDep, ip: IpDep) -> Response:
    username = str(form.get("username") or "").strip()[:200]
    password = str(form.get("password") or "")[:200]
    shared = form.get("shared") == "1"
    nxt = safe_next(str(form.get("next") or ""))
    try:
        # a failed attempt is audited and counted: the route returns normally, so that is committed
        signed = accounts.sign_in(session, username, password, ip, via="web", vault=vault)
    except TooManyAttempts as exc:
        return _sign_in_page(
            request, 429, next=nxt or "", error="paused", minutes=_minutes(exc), username=username, shared=shared
        )
    except NotAuthenticated:
        return _sign_in_page(request, 401, next=nxt or "", error="wrong", username=username, shared=shared)
    return _signed_in_response(request, session, signed.user, signed.stage, nxt, shared, ip)


@router.get("/sign-in/code")
def code_form(request: Request, principal: CodeStep, next: str | None = None) -> Response:
    return render(request, "sign_in_code.html", layout="public", next=safe_next(next) or "", error=None, minutes=0)


@router.post("/sign-in/code")
def code(
    request: Request, principal: CodeStep, form: Form, session: SessionDep, vault: VaultDep, ip: IpDep
) -> Response:
    """The second step of signing in: the authenticator app's code. Wrong codes count as failed
    sign-ins (throttled and audited)."""
    nxt = safe_next(str(form.get("next") or ""))
    try:
        user, shared = accounts.second_factor(session, principal, str(form.get("code") or "")[:16], vault, ip)
    except TooManyAttempts as exc:
        return render(
            request,
            "sign_in_code.html",
            status=429,
            layout="public",
            next=nxt or "",
            error="paused",
            minutes=_minutes(exc),
        )
    except NotAuthenticated:
        return render(
            request, "sign_in_code.html", status=401, layout="public", next=nxt or "", error="wrong", minutes=0
        )
    return _signed_in_response(request, session, user, "full", nxt, shared, ip)


@router.post("/sign-out")
def sign_out(request: Request, form: Form, session: SessionDep) -> Response:
    """Sign out: the session ends in the database at once (the old cookie is worthless); ``next``
    lets a psychologist hand the tablet over straight into a respondent page."""
    nxt = safe_next(str(form.get("next") or ""))
    handover = bool(nxt and nxt.startswith("/r/"))
    resp = RedirectResponse(nxt if handover and nxt else "/sign-in", status_code=303)
    end_session(request, resp, session)
    if handover:  # this device is being handed to a respondent: their pages close when left idle
        mark_shared(request, resp, True)
    return _finish(request, resp)


# -- one's own account -------------------------------------------------------------------------


@router.get("/account")
def account(request: Request, principal: SignedIn, session: SessionDep) -> Response:
    u = accounts.own(session, principal)
    return render(
        request,
        "account.html",
        u=u,
        can_totp=principal.can("account.totp"),
        changed=request.query_params.get("changed") == "1",
        totp_changed=request.query_params.get("totp"),
    )


def _password_page(request: Request, principal: Principal, status: int = 200, error: str | None = None) -> Response:
    forced = getattr(request.state, "stage", "full") == "password"
    return render(
        request,
        "password.html",
        status=status,
        layout="public" if forced else "staff",
        forced=forced,
        error=error,
        min_length=request.app.state.settings.password_min_length,
    )


@router.get("/account/password")
def password_form(request: Request, principal: PasswordStep) -> Response:
    return _password_page(request, principal)


@router.post("/account/password")
def password(request: Request, principal: PasswordStep, form: Form, session: SessionDep, ip: IpDep) -> Response:
    """One's own new password: every session of the account ends; this browser gets a new one."""
    current = str(form.get("current") or "")[:200]
    new = str(form.get("new") or "")[:200]
    if new != str(form.get("repeat") or "")[:200]:
        return _password_page(request, principal, 422, "repeat")
    try:
        with session.begin_nested():
            user = accounts.change_password(session, principal, current, new, ip)
    except Invalid as exc:  # the failed attempt's audit entry is kept: the route returns normally
        return _password_page(request, principal, 422, str(exc.extra.get("reason") or "other"))
    resp = RedirectResponse("/account?changed=1", status_code=303)
    start_session(request, resp, session, user, ip=ip)
    return _finish(request, resp)


@router.get("/account/totp")
def totp_start(request: Request, principal: SignedIn) -> Response:
    """What the second factor is, and the button that makes a new secret (a POST: it writes)."""
    principal.require("account.totp")
    return render(request, "totp.html", qr=None, secret=None, error=None)


@router.post("/account/totp/start")
def totp_form(
    request: Request, principal: SignedIn, form: Form, session: SessionDep, vault: VaultDep, ip: IpDep
) -> Response:
    """Set up the second factor: a new secret as a QR code for the authenticator app."""
    principal.require("account.totp")
    try:
        secret, uri = accounts.totp_begin(session, principal, vault, ip)
    except Conflict:
        return redirect(request, "/account")
    qr = segno.make(uri, error="m").svg_data_uri(scale=4, border=2, dark="#111", light="#fff")
    grouped = " ".join(secret[k : k + 4] for k in range(0, len(secret), 4))
    return render(request, "totp.html", qr=qr, secret=grouped, error=None)


@router.post("/account/totp")
def totp_confirm(
    request: Request, principal: SignedIn, form: Form, session: SessionDep, vault: VaultDep, ip: IpDep
) -> Response:
    principal.require("account.totp")
    try:
        with session.begin_nested():
            accounts.totp_confirm(session, principal, vault, str(form.get("code") or "")[:16], ip)
    except (Invalid, Conflict):
        return render(request, "totp.html", status=422, qr=None, secret=None, error="wrong")
    return redirect(request, "/account", totp="on")


@router.post("/account/totp/remove")
def totp_remove(request: Request, principal: SignedIn, form: Form, session: SessionDep, ip: IpDep) -> Response:
    accounts.totp_remove(session, principal, principal.id, ip)
    return redirect(request, "/account", totp="off")


# -- one-time reset link -----------------------------------------------------------------------


@router.get("/reset/{token}")
def reset_form(request: Request, token: str, session: SessionDep) -> Response:
    accounts.reset_target(session, token)  # a used or expired link: "not found"
    return render(
        request,
        "reset.html",
        layout="public",
        token=token,
        error=None,
        min_length=request.app.state.settings.password_min_length,
    )


@router.post("/reset/{token}")
def reset(request: Request, token: str, form: Form, session: SessionDep, ip: IpDep) -> Response:
    new = str(form.get("new") or "")[:200]
    page = {"layout": "public", "token": token, "min_length": request.app.state.settings.password_min_length}
    if new != str(form.get("repeat") or "")[:200]:
        return render(request, "reset.html", status=422, error="repeat", **page)
    try:
        with session.begin_nested():
            accounts.redeem_reset(session, token, new, ip)
    except Invalid as exc:
        return render(request, "reset.html", status=422, error=str(exc.extra.get("reason") or "other"), **page)
    return redirect(request, "/sign-in", reset="1")
