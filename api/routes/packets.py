from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from api.deps import IdempotencyDep, IpDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import packets as pk
from api.domain import reporting
from api.routes.common import REPORT_FILES, Format, Lang, Page, documented, download, idempotent
from api.schemas import (
    ConsentCreate,
    ConsentPublic,
    InboxEntry,
    PacketCreate,
    PacketPublic,
    RegistryPage,
    ReportView,
    Sent,
)

router = APIRouter(prefix="/v1", tags=["consent and packets"])


@router.post("/beneficiaries/{code}/consents", status_code=201, **documented(ConsentPublic, 201))
def give(
    code: str,
    body: ConsentCreate,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    return idempotent(
        idem,
        body.model_dump(),
        lambda: pk.consent_view(
            pk.give_consent(
                session, principal, settings, code, body.addressee, body.scope, body.expires_at, body.note, ip
            ),
            code,
        ),
        lambda cid: next(
            pk.consent_view(c, code) for c in pk.consents_of(session, principal, code, ip) if str(c.id) == cid
        ),
    )


@router.get("/beneficiaries/{code}/consents", **documented(list[ConsentPublic]))
def consents(code: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> list[dict[str, Any]]:
    return [pk.consent_view(c, code) for c in pk.consents_of(session, principal, code, ip)]


@router.post("/consents/{consent_id}/withdraw", **documented(ConsentPublic))
def withdraw(
    consent_id: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: PrincipalDep, session: SessionDep, ip: IpDep
) -> dict[str, Any]:
    c = pk.withdraw_consent(session, principal, consent_id, ip)
    return pk.consent_view(c, pk.find_code(session, c.beneficiary_id))


@router.post("/packets", status_code=201, **documented(PacketPublic, 201))
def build(
    body: PacketCreate,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """A draft packet to preview; nothing is sent yet."""
    return idempotent(
        idem,
        body.model_dump(),
        lambda: pk.packet_view(
            pk.build_packet(session, principal, settings, body.beneficiary, body.addressee, body.parts, ip),
            body.beneficiary,
        ),
        lambda pid: pk.packet_view(pk.read_packet(session, principal, pid, ip), body.beneficiary),
    )


@router.get("/packets/{packet_id}", **documented(PacketPublic))
def read(packet_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    p = pk.read_packet(session, principal, packet_id, ip)
    return pk.packet_view(p, pk.find_code(session, p.beneficiary_id))


@router.post("/packets/{packet_id}/send", status_code=201, **documented(Sent, 201))
def send(packet_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep, idem: IdempotencyDep) -> JSONResponse:
    def work() -> dict[str, Any]:
        s = pk.send_packet(session, principal, packet_id, ip)
        return {
            "packet": s.packet_id,
            "beneficiary": pk.find_code(session, s.beneficiary_id),
            "addressee": s.addressee,
            "sent_at": s.sent_at,
            "sender": principal.display,
            "content_hash": s.content_hash,
            "consent": s.consent_id,
        }

    def replay(pid: str) -> dict[str, Any]:
        p = pk.read_packet(session, principal, pid, ip)
        return {
            "packet": p.id,
            "beneficiary": pk.find_code(session, p.beneficiary_id),
            "addressee": p.addressee,
            "sent_at": p.sent_at,
            "sender": principal.display,
            "content_hash": p.content_hash,
            "consent": p.consent_id,
        }

    return idempotent(idem, {"packet": packet_id}, work, replay)


@router.get("/registry", **documented(RegistryPage, files=["text/csv"]))
def registry(
    principal: PrincipalDep,
    session: SessionDep,
    ip: IpDep,
    page: Annotated[Page, Depends()],
    settings: SettingsDep,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    lang: Lang = "en",
) -> dict[str, Any] | Response:
    """The registry of sendings (რეესტრი); ``format=csv`` for the whole list as a file (local times,
    organisation names, headings in ``lang``)."""
    if format == "csv":
        rows, _ = pk.registry(session, principal, 0, 10**9, ip)
        return Response(
            pk.registry_csv(rows, settings, lang).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="registry.csv"'},
        )
    rows, total = pk.registry(session, principal, page.offset, page.limit, ip)
    return page.wrap(rows, total)


@router.get("/inbox", **documented(list[InboxEntry]))
def inbox(principal: PrincipalDep, session: SessionDep, ip: IpDep) -> list[dict[str, Any]]:
    """Packets sent to the caller's organisation, while the consent stands."""
    return pk.inbox(session, principal, ip)


@router.get("/packets/{packet_id}/report", response_class=Response, **documented(ReportView, files=REPORT_FILES))
def packet_report(
    packet_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    lang: Lang = "ka",
    format: Format = "html",
) -> Response:
    """The packet's profile as the employment department sees it (only the parts it carries)."""
    body, media = reporting.packet_report(session, principal, settings, packet_id, lang, format, ip)
    return download(body, media, f"packet-{packet_id[:8]}-{lang}", format)
