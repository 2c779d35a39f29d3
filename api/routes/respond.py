"""Respondent mode: the person answers with a code or link the psychologist handed over.
Nothing clinical is ever returned here, not even after submitting. Codes are throttled per
address (wrong codes) and per administration (requests with one code): 429 with ``Retry-After``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import IpDep, SessionDep
from api.domain import administrations as adm
from api.schemas import AnswersSave

router = APIRouter(prefix="/v1/respond", tags=["respondent"])


@router.get("/{token}")
def state(token: str, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    a = adm.by_code(session, token, ip)
    return {
        "instrument": a.instrument,
        "instrument_version": a.instrument_version,
        "status": a.status,
        "answers": adm.answers_of(session, a),
    }


@router.patch("/{token}/answers")
def autosave(token: str, body: AnswersSave, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    a = adm.by_code(session, token, ip, lock=True)
    timed = adm.record_time(session, a, body.seconds, body.active_seconds, len(body.answers), body.increment_id)
    saved = adm.save_answers(session, a, body.answers, "respondent", ip, timed=timed)
    return {"saved": saved}


@router.post("/{token}/submit")
def submit(token: str, session: SessionDep, ip: IpDep) -> dict[str, str]:
    a = adm.by_code(session, token, ip, lock=True)
    adm.submit(session, a, "respondent", None, ip)
    return {"status": "submitted"}
