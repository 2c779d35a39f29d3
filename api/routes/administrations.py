from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import IdempotencyDep, IpDep, PrincipalDep, SessionDep
from api.domain import administrations as adm
from api.domain import audit, results
from api.routes.common import documented, idempotent, result_view
from api.schemas import (
    AdministrationCreate,
    AdministrationPublic,
    AdministrationStarted,
    AnswersSave,
    AnswersSaved,
    Discard,
    ResultPublic,
)

router = APIRouter(prefix="/v1/administrations", tags=["administrations"])


@router.post("", status_code=201, **documented(AdministrationStarted, 201))
def start(
    body: AdministrationCreate, principal: PrincipalDep, session: SessionDep, ip: IpDep, idem: IdempotencyDep
) -> JSONResponse:
    def work() -> dict[str, Any]:
        a, token = adm.start(session, principal, body.beneficiary, body.instrument, body.version, body.mode, ip)
        return {**adm.view(session, a), "resume_token": token}

    def replay(admin_id: str) -> dict[str, Any]:  # the token was shown once: not again
        return {**adm.view(session, adm.get_visible(session, principal, admin_id, write=False)), "resume_token": None}

    return idempotent(idem, body.model_dump(), work, replay)


@router.get("/{admin_id}", **documented(AdministrationPublic))
def read(admin_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    a = adm.get_visible(session, principal, admin_id, write=False)
    audit.append(session, principal.actor, "read", "administration", a.id, adm.code_of(session, a), ip)
    return adm.view(session, a)


@router.patch("/{admin_id}/answers", **documented(AnswersSaved))
def autosave(
    admin_id: str, body: AnswersSave, principal: PrincipalDep, session: SessionDep, ip: IpDep
) -> dict[str, Any]:
    a = adm.get_visible(session, principal, admin_id, write=True)
    adm.set_details(a, body.aspirations, None)
    timed = adm.record_time(session, a, body.seconds, body.active_seconds, len(body.answers), body.increment_id)
    saved = adm.save_answers(session, a, body.answers, principal.actor, ip, timed=timed)
    return {"saved": saved, "answered": sum(v is not None for v in adm.answers_of(session, a).values())}


@router.post("/{admin_id}/submit", status_code=201)
def submit(admin_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> ResultPublic:
    a = adm.get_visible(session, principal, admin_id, write=True)
    r = adm.submit(session, a, principal.actor, principal.id if principal.kind == "user" else None, ip)
    assert r is not None  # a study participant's administration never reaches staff (``not_a_study``)
    return result_view(r, adm.case_code(session, a), None, a.submitted_at)


@router.post("/{admin_id}/discard", **documented(AdministrationPublic))
def discard(admin_id: str, body: Discard, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    """An administration started by mistake: discarded with a reason (audited); it gets no result."""
    a = adm.get_visible(session, principal, admin_id, write=True)
    results.discard(session, principal, a.id, body.reason, ip)
    return adm.view(session, a)
