"""Packets for the employment department: the builder, the preview (exactly as the addressee will
read it), sending, and the registry of every sending.

Sending is refused, and the refusal shown in plain words, unless the beneficiary's consent for
that addressee covers every part, has not expired and was not withdrawn.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api.deps import IpDep, SessionDep, SettingsDep
from api.domain import packets as pk
from api.domain import results
from api.domain.access import Principal
from api.domain.errors import ConsentRequired

from .core import Form, Need, PageError, WebRoute, attempt, chart_uris, lang_of, orgs, redirect, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 50

PacketWriter = Annotated[Principal, Depends(Need("packets.write"))]
RegistryReader = Annotated[Principal, Depends(Need("packets.registry"))]
SignedIn = Annotated[Principal, Depends(Need())]


@router.get("/beneficiaries/{code}/packets/new")
def new_packet(request: Request, code: str, principal: PacketWriter, session: SessionDep, ip: IpDep) -> Response:
    consents = pk.consents_of(session, principal, code, ip) if principal.can("consents.read") else []
    now = pk.now()
    return render(
        request,
        "packet_new.html",
        code=code,
        orgs=orgs(request),
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
    names = dict(orgs(request))
    return render(request, "registry.html", rows=rows, total=total, offset=offset, page=PAGE, org_names=names)
