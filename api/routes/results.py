from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from api.deps import IpDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import administrations as adm
from api.domain import reporting
from api.domain.packets import find_code
from api.routes.common import result_view

router = APIRouter(prefix="/v1/results", tags=["results"])


@router.get("/{result_id}")
def read(result_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    r = adm.read_result(session, principal, result_id, ip)
    return result_view(r, find_code(session, r.beneficiary_id))


@router.post("/{result_id}/rescore", status_code=201)
def rescore(result_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    """Score the stored answers again (a new engine or norm version): a new result, the old one kept."""
    r = adm.rescore(session, principal, result_id, ip)
    return result_view(r, find_code(session, r.beneficiary_id))


Lang = Annotated[Literal["ka", "en"], Query()]
Audience = Annotated[Literal["psychologist", "employment", "beneficiary"], Query()]
Format = Annotated[Literal["html", "pdf", "json"], Query()]
Norms = Annotated[list[str] | None, Query(description="norm tables to use, as instrument/norm_id (repeatable)")]


def download(body: bytes, media: str, name: str, fmt: str) -> Response:
    disposition = "attachment" if fmt == "pdf" else "inline"
    return Response(
        body,
        media_type=media,
        headers={"Content-Disposition": f'{disposition}; filename="{name}.{fmt}"', "Cache-Control": "no-store"},
    )


@router.get("/{result_id}/report", response_class=Response)
def report(
    result_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    lang: Lang = "ka",
    audience: Audience = "psychologist",
    format: Format = "html",
    norm: Norms = None,
) -> Response:
    """One instrument's interpretation report."""
    body, media = reporting.result_report(session, principal, settings, result_id, lang, audience, format, ip, norm)
    return download(body, media, f"report-{result_id[:8]}-{audience}-{lang}", format)
