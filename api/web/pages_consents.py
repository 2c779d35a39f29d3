"""A beneficiary's consents: which addressee may receive which parts, until when; given and
withdrawn by the social worker, every change kept.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

import reports
from api.deps import IpDep, SessionDep, SettingsDep
from api.domain import packets as pk
from api.domain.access import Principal
from api.domain.errors import Invalid

from .core import Form, Need, WebRoute, attempt, orgs, redirect, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

ConsentReader = Annotated[Principal, Depends(Need("consents.read"))]
ConsentWriter = Annotated[Principal, Depends(Need("consents.write"))]


def _consent_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    code: str,
    ip: str | None,
    error: str | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    consents = pk.consents_of(session, principal, code, ip)
    now = pk.now()
    return render(
        request,
        "consents.html",
        status=status,
        code=code,
        consents=[{"c": c, "valid": pk.consent_valid(c, now)} for c in consents],
        orgs=orgs(request),
        parts=pk.CONSENT_PARTS,
        error=error,
        values=values or {"addressee": "", "scope": [], "expires": "", "note": ""},
        can_write=principal.can("consents.write"),
        today=reports.today(request.app.state.settings.time_zone).isoformat(),
    )


@router.get("/beneficiaries/{code}/consents")
def consents(request: Request, code: str, principal: ConsentReader, session: SessionDep, ip: IpDep) -> Response:
    return _consent_page(request, principal, session, code, ip)


@router.post("/beneficiaries/{code}/consents")
def give_consent(
    request: Request,
    code: str,
    principal: ConsentWriter,
    form: Form,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
) -> Response:
    addressee = str(form.get("addressee") or "")
    scope = [str(v) for v in form.getlist("scope")]
    expires_on = str(form.get("expires") or "").strip()
    note = str(form.get("note") or "").strip()[:2000]
    values = {"addressee": addressee, "scope": scope, "expires": expires_on, "note": note}
    expires = None
    if expires_on:
        try:  # valid to the end of the chosen day where the fund works (shown as that same date)
            zone = reports.time_zone(settings.time_zone)
            end = dt.datetime.combine(dt.date.fromisoformat(expires_on), dt.time(23, 59, 59), zone)
            expires = end.astimezone(dt.UTC)  # stored in UTC
        except ValueError:
            return _consent_page(request, principal, session, code, ip, "expires_at", values, 422)
    if not scope:
        return _consent_page(request, principal, session, code, ip, "scope", values, 422)
    _, err = attempt(
        session,
        lambda: pk.give_consent(
            session,
            principal,
            settings,
            code,
            addressee,
            scope,
            expires,
            note or None,
            ip,
        ),
    )
    if err is not None:
        field = err.extra.get("field") if isinstance(err, Invalid) else None
        return _consent_page(request, principal, session, code, ip, str(field or "other"), values, 422)
    return redirect(request, f"/beneficiaries/{code}/consents")


@router.post("/consents/{consent_id}/withdraw")
def withdraw(
    request: Request, consent_id: int, principal: ConsentWriter, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    c = pk.withdraw_consent(session, principal, consent_id, ip)
    return redirect(request, f"/beneficiaries/{pk.find_code(session, c.beneficiary_id)}/consents")
