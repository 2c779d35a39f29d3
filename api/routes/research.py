"""Norm tables and pseudonymized research data (researchers never see a name or a code)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, select

from api.db.tables import Beneficiary, NormTable, Result
from api.deps import IpDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import audit
from api.domain.errors import NotFound
from api.routes.common import Page

router = APIRouter(prefix="/v1", tags=["research"])


def pseudonym(secret: str, study: str, code: str) -> str:
    """A per-study salted hash: stable within a study, unlinkable across studies."""
    return hmac.new(f"{secret}:{study}".encode(), code.encode(), hashlib.sha256).hexdigest()[:16]


@router.get("/norms")
def norms(principal: PrincipalDep, session: SessionDep) -> list[dict[str, Any]]:
    principal.require("norms.read")
    return [
        {
            "id": n.id,
            "instrument": n.instrument,
            "instrument_version": n.instrument_version,
            "version": n.version,
            "description": n.description,
            "created_at": n.created_at,
        }
        for n in session.execute(select(NormTable).order_by(NormTable.id)).scalars()
    ]


@router.get("/norms/{norm_id}")
def norm(norm_id: str, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    principal.require("norms.read")
    n = session.get(NormTable, norm_id)
    if n is None:
        raise NotFound(f"no norm table {norm_id!r}", field="norm", value=norm_id)
    return {
        "id": n.id,
        "instrument": n.instrument,
        "instrument_version": n.instrument_version,
        "version": n.version,
        "description": n.description,
        "table": n.table,
    }


@router.get("/research/results")
def research_results(
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    page: Annotated[Page, Depends()],
    instrument: str,
    study: Annotated[str, Query(min_length=3, max_length=64)],
) -> dict[str, Any]:
    """Scores of one instrument, each under a study pseudonym; no names, no codes, no contacts."""
    principal.require("research.read")
    q = (
        select(Result, Beneficiary)
        .join(Beneficiary, Beneficiary.id == Result.beneficiary_id)
        .where(Result.instrument == instrument)
    )
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(q.order_by(Result.created_at).offset(page.offset).limit(page.limit)).all()
    items = [
        {
            "pseudonym": pseudonym(settings.secret_key, study, b.code),
            "gender": b.gender,
            "birth_year": b.birth_year,
            "instrument_version": r.instrument_version,
            "engine_version": r.engine_version,
            "scored_at": r.created_at,
            "scores": {k: v for k, v in r.scores.items() if k != "id"},
        }
        for r, b in rows
    ]
    audit.append(
        session,
        principal.actor,
        "research_export",
        "result",
        None,
        None,
        ip,
        {"instrument": instrument, "study": study, "rows": len(items)},
    )
    return page.wrap(items, total)
