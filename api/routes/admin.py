from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from sqlalchemy import func, select

from api.db.tables import AuditEntry
from api.deps import IdempotencyDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import accounts, audit
from api.routes.common import Page, created
from api.schemas import ApiClientCreate, UserCreate

router = APIRouter(prefix="/v1", tags=["administration of the service"])


@router.post("/users", status_code=201)
def create_user(
    body: UserCreate, principal: PrincipalDep, session: SessionDep, settings: SettingsDep, idem: IdempotencyDep
) -> JSONResponse:
    def work() -> dict[str, Any]:
        u = accounts.create_user(
            session,
            principal,
            body.username,
            body.password,
            body.role,
            body.organisation,
            {o.id for o in settings.organisations},
        )
        return {"id": u.id, "username": u.username, "role": u.role, "organisation": u.organisation}

    return created(idem.run(body.model_dump(exclude={"password"}), work))


@router.post("/api-clients", status_code=201)
def create_client(
    body: ApiClientCreate, principal: PrincipalDep, session: SessionDep, idem: IdempotencyDep
) -> JSONResponse:
    def work() -> dict[str, Any]:
        c, key = accounts.create_api_client(session, principal, body.name, body.scopes, body.organisation)
        return {"id": c.id, "name": c.name, "scopes": c.scopes, "key": key}

    return created(idem.run(body.model_dump(), work))


@router.get("/audit")
def audit_log(
    principal: PrincipalDep, session: SessionDep, page: Annotated[Page, Depends()], beneficiary: str | None = None
) -> dict[str, Any]:
    principal.require("audit.read")
    q = select(AuditEntry)
    if beneficiary:
        q = q.where(AuditEntry.beneficiary == beneficiary)
    total = session.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = session.execute(q.order_by(AuditEntry.seq.desc()).offset(page.offset).limit(page.limit)).scalars()
    items = [
        {
            "seq": e.seq,
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "entity": e.entity,
            "entity_id": e.entity_id,
            "beneficiary": e.beneficiary,
            "ip": e.ip,
            "detail": e.detail,
        }
        for e in rows
    ]
    return page.wrap(items, total)


@router.get("/audit/verify")
def audit_verify(principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    principal.require("audit.read")
    v = audit.verify(session)
    return {"ok": v.ok, "entries": v.entries, "problem": v.problem, "seq": v.seq, "checkpoints": v.checkpoints}
