"""The social worker's pages (intake form, consent, packet builder, registry) and the
employment officer's inbox.

A packet is previewed exactly as its addressee will read it; sending is refused,
and the refusal shown in plain words, unless the beneficiary's consent for that
addressee covers every part, has not expired and was not withdrawn.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

import reports
from api import service
from api.deps import IpDep, SessionDep, SettingsDep
from api.domain import packets as pk
from api.domain import results
from api.domain import web_support as ws
from api.domain.access import Principal
from api.domain.errors import ConsentRequired, Invalid

from . import forms
from .core import Form, Need, PageError, WebRoute, attempt, chart_uris, lang_of, redirect, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 50

Writer = Annotated[Principal, Depends(Need("administrations.write"))]
ConsentReader = Annotated[Principal, Depends(Need("consents.read"))]
ConsentWriter = Annotated[Principal, Depends(Need("consents.write"))]
PacketWriter = Annotated[Principal, Depends(Need("packets.write"))]
RegistryReader = Annotated[Principal, Depends(Need("packets.registry"))]
InboxReader = Annotated[Principal, Depends(Need("packets.inbox"))]
SignedIn = Annotated[Principal, Depends(Need())]


def _orgs(request: Request) -> list[tuple[str, str]]:
    lang = lang_of(request)
    return [(o.id, o.name_ka if lang == "ka" else o.name_en) for o in request.app.state.settings.organisations]


# -- intake --------------------------------------------------------------------------------------


def _intake_answers(inst: Any, form: Any) -> dict[str, object]:
    """The posted form → one answer per field; an emptied field is saved as missing."""
    out: dict[str, object] = {}
    for f in inst.fields:
        if f.type == "multi":
            value: str | None = ";".join(str(v) for v in form.getlist(f.id) if v) or None
        elif f.type == "occupations":
            parts = [str(form.get(f"{f.id}_{k}") or "").strip().replace(";", ",")[:120] for k in (1, 2, 3)]
            value = ";".join(p for p in parts if p) or None
        else:
            value = str(form.get(f.id) or "").strip()[:2000] or None
        out[f.id] = value
    return out


def _intake_page(
    request: Request, a: Any, code: str, answers: dict[str, Any], problems: dict[str, str], status: int = 200
) -> Response:
    lang = lang_of(request)
    inst = service.instrument(a.instrument, a.instrument_version)
    role = inst.role("aspirations")
    occupations = [v for v in str(answers.get(role.id) or "").split(";") if v] if role is not None else []
    return render(
        request,
        "intake.html",
        status=status,
        a=a,
        code=code,
        title=inst.title.get(lang),
        sections=forms.intake_sections(inst, lang),
        values={k: ("" if v is None else str(v)) for k, v in answers.items()},
        chosen=lambda fid: [v for v in str(answers.get(fid) or "").split(";") if v],
        occupations=occupations + [""] * (3 - len(occupations)),
        suggestions=forms.occupation_names(lang),
        problems=problems,
    )


@router.get("/administrations/{admin_id}/intake")
def intake(request: Request, admin_id: str, principal: Writer, session: SessionDep, ip: IpDep) -> Response:
    a, answers, code = ws.open_administration(session, principal, admin_id, write=True, ip=ip)
    if service.instrument(a.instrument, a.instrument_version).model != "intake":
        return redirect(request, f"/administrations/{admin_id}/paper")
    if a.status != "in_progress":
        return redirect(request, f"/beneficiaries/{code}")
    return _intake_page(request, a, code, answers, {})


@router.post("/administrations/{admin_id}/intake")
def intake_save(
    request: Request, admin_id: str, principal: Writer, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    """Save the form (every field checked first; nothing saved if one is wrong); submit if asked."""
    a, _, code = ws.open_administration(session, principal, admin_id, write=True, ip=ip)
    if service.instrument(a.instrument, a.instrument_version).model != "intake":
        raise PageError(404, "not_found")
    inst = service.instrument(a.instrument, a.instrument_version)
    posted = _intake_answers(inst, form)
    problems = ws.answer_problems(a.instrument, a.instrument_version, posted)
    if problems:
        return _intake_page(request, a, code, posted, problems, status=422)
    ws.save_staff_answers(session, principal, admin_id, posted, ip)
    if form.get("go") != "submit":
        return redirect(request, f"/beneficiaries/{code}", saved="intake")
    missing = ws.submit_problems(a, posted)
    if missing:  # the draft stays saved; the required fields are pointed out
        return _intake_page(request, a, code, posted, dict.fromkeys(missing, "required"), status=422)
    ws.submit_staff(session, principal, admin_id, ip)
    return redirect(request, f"/beneficiaries/{code}", saved="intake_submitted")


# -- consent -------------------------------------------------------------------------------------


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
        orgs=_orgs(request),
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


# -- packets -------------------------------------------------------------------------------------


@router.get("/beneficiaries/{code}/packets/new")
def new_packet(request: Request, code: str, principal: PacketWriter, session: SessionDep, ip: IpDep) -> Response:
    consents = pk.consents_of(session, principal, code, ip) if principal.can("consents.read") else []
    now = pk.now()
    return render(
        request,
        "packet_new.html",
        code=code,
        orgs=_orgs(request),
        parts=pk.PARTS,
        consents=[{"c": c, "valid": pk.consent_valid(c, now)} for c in consents],
    )


@router.post("/beneficiaries/{code}/packets")
def build_packet(
    request: Request,
    code: str,
    principal: PacketWriter,
    form: Form,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
) -> Response:
    parts = [str(v) for v in form.getlist("parts")]
    if not parts:
        raise PageError(422, "choose_parts")
    p = pk.build_packet(session, principal, settings, code, str(form.get("addressee") or ""), parts, ip)
    return redirect(request, f"/packets/{p.id}")


def _packet_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    packet_id: str,
    ip: str | None,
    refused: str | None = None,
    status: int = 200,
) -> Response:
    p = pk.read_packet(session, principal, packet_id, ip)
    code = pk.find_code(session, p.beneficiary_id)
    lang = lang_of(request)
    view = (p.content.get("views") or {}).get(lang)
    sources = [s["result"] for s in (p.content.get("sources") or {}).values()]
    preview = principal.can("packets.write")
    return render(
        request,
        "packet.html",
        status=status,
        p=p,
        code=code,
        content=p.content,
        prepared=dt.datetime.fromisoformat(p.content["prepared_at"]),
        view=view,
        charts=chart_uris(view) if view else {},
        newer=bool(preview and p.sent_at and results.newer_than(session, p.beneficiary_id, sources)),
        preview=preview,
        refused=refused,
    )


@router.get("/packets/{packet_id}")
def packet(request: Request, packet_id: str, principal: SignedIn, session: SessionDep, ip: IpDep) -> Response:
    """The social worker's preview of a draft (or a sent packet), or the addressee's reading of it."""
    return _packet_page(request, principal, session, packet_id, ip)


@router.post("/packets/{packet_id}/send")
def send(
    request: Request, packet_id: str, principal: PacketWriter, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    _, err = attempt(session, lambda: pk.send_packet(session, principal, packet_id, ip))
    if isinstance(err, ConsentRequired):
        return _packet_page(request, principal, session, packet_id, ip, refused=err.detail, status=409)
    if err is not None:
        raise err
    return redirect(request, f"/packets/{packet_id}")


@router.get("/registry")
def registry(
    request: Request,
    principal: RegistryReader,
    session: SessionDep,
    ip: IpDep,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    rows, total = pk.registry(session, principal, offset, PAGE, ip)
    names = dict(_orgs(request))
    return render(request, "registry.html", rows=rows, total=total, offset=offset, page=PAGE, org_names=names)


@router.get("/inbox")
def inbox(request: Request, principal: InboxReader, session: SessionDep, ip: IpDep) -> Response:
    return render(request, "inbox.html", rows=pk.inbox(session, principal, ip))
