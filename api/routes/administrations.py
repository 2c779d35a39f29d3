from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.db.tables import Administration
from api.deps import IdempotencyDep, IpDep, PrincipalDep, SessionDep
from api.domain import administrations as adm
from api.domain import results
from api.domain.errors import Forbidden, NotFound
from api.routes.common import created, result_view
from api.schemas import AdministrationCreate, AnswersSave, Discard, ResultPublic

router = APIRouter(prefix="/v1/administrations", tags=["administrations"])


def view(session: Any, a: Administration) -> dict[str, Any]:
    return {
        "id": a.id,
        "beneficiary": adm._code(session, a),
        "instrument": a.instrument,
        "instrument_version": a.instrument_version,
        "status": a.status,
        "mode": a.mode,
        "aspirations": a.aspirations,
        "seconds": a.seconds,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "submitted_at": a.submitted_at,
        "discarded_at": a.discarded_at,
        "discard_reason": a.discard_reason,
        "answers": adm.answers_of(session, a),
    }


def _mine(session: Any, principal: Any, admin_id: str, write: bool) -> Administration:
    principal.require("administrations.write" if write else "administrations.read")
    a = adm.not_a_study(adm.get(session, admin_id, lock=write))
    try:
        adm._check_instrument_role(principal, a.instrument)
    except Forbidden as exc:  # a social worker asking for a psychologist's administration
        raise NotFound(f"no administration {admin_id!r}") from exc
    return a


@router.post("", status_code=201)
def start(
    body: AdministrationCreate, principal: PrincipalDep, session: SessionDep, ip: IpDep, idem: IdempotencyDep
) -> JSONResponse:
    def work() -> dict[str, Any]:
        a, token = adm.start(session, principal, body.beneficiary, body.instrument, body.version, body.mode, ip)
        return {**view(session, a), "resume_token": token}

    def replay(admin_id: str) -> dict[str, Any]:  # the token was shown once: not again
        return {**view(session, _mine(session, principal, admin_id, write=False)), "resume_token": None}

    return created(idem.run(body.model_dump(), work, replay=replay))


@router.get("/{admin_id}")
def read(admin_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    a = _mine(session, principal, admin_id, write=False)
    adm.audit.append(session, principal.actor, "read", "administration", a.id, adm._code(session, a), ip)
    return view(session, a)


@router.patch("/{admin_id}/answers")
def autosave(
    admin_id: str, body: AnswersSave, principal: PrincipalDep, session: SessionDep, ip: IpDep
) -> dict[str, Any]:
    a = _mine(session, principal, admin_id, write=True)
    adm.set_details(a, body.aspirations, None)
    timed = adm.record_time(session, a, body.seconds, body.active_seconds, len(body.answers), body.increment_id)
    saved = adm.save_answers(session, a, body.answers, principal.actor, ip, timed=timed)
    return {"saved": saved, "answered": sum(v is not None for v in adm.answers_of(session, a).values())}


@router.post("/{admin_id}/submit", status_code=201)
def submit(admin_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> ResultPublic:
    a = _mine(session, principal, admin_id, write=True)
    r = adm.submit(session, a, principal.actor, principal.id if principal.kind == "user" else None, ip)
    assert r is not None  # a study participant's administration never reaches staff (``not_a_study``)
    return result_view(r, adm._code(session, a), None, a.submitted_at)


@router.post("/{admin_id}/discard")
def discard(admin_id: str, body: Discard, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    """An administration started by mistake: discarded with a reason (audited); it gets no result."""
    a = _mine(session, principal, admin_id, write=True)
    results.discard(session, principal, a.id, body.reason, ip)
    return view(session, a)
