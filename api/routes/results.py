from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from api.deps import IpDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import administrations as adm
from api.domain import reporting
from api.domain.packets import find_code
from api.routes.common import ReportQueryDep, result_view

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


@router.get("/{result_id}/report", response_class=Response)
def report(
    result_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    q: ReportQueryDep,
) -> Response:
    """One instrument's interpretation report."""
    body, media = reporting.result_report(
        session, principal, settings, result_id, q.lang, q.audience, q.format, ip, q.norm
    )
    return q.download(body, media, f"report-{result_id[:8]}")
