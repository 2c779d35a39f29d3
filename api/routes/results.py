from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import IpDep, PrincipalDep, SessionDep
from api.domain import administrations as adm
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
