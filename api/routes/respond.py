"""Respondent mode: the person answers with a code or link the psychologist handed over.
Nothing clinical is ever returned here, not even after submitting. Codes are throttled per
address (wrong codes) and per administration (requests with one code): 429 with ``Retry-After``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import IpDep, SessionDep
from api.domain import administrations as adm
from api.domain.errors import Conflict
from api.routes.common import documented
from api.schemas import AnswersSave, RespondentSaved, RespondentState, RespondentSubmitted

router = APIRouter(prefix="/v1/respond", tags=["respondent"])


@router.get("/{token}", **documented(RespondentState))
def state(token: str, session: SessionDep, ip: IpDep) -> dict[str, Any]:
    a = adm.by_code(session, token, ip)
    return {
        "administration": a.id,
        "instrument": a.instrument,
        "instrument_version": a.instrument_version,
        "status": a.status,
        "answers": adm.answers_of(session, a),
    }


def _check_shown(a: Any, administration: str | None) -> None:
    """A sitting's code leads to its current instrument: a save or submit made for the one before
    (finished meanwhile on another device) is refused rather than written into the next one."""
    if administration and administration != a.id:
        raise Conflict("this part of the sitting was finished already; the code now opens the next one")


@router.patch("/{token}/answers", **documented(RespondentSaved))
def autosave(
    token: str, body: AnswersSave, session: SessionDep, ip: IpDep, administration: str | None = None
) -> dict[str, Any]:
    a = adm.by_code(session, token, ip, lock=True)
    _check_shown(a, administration)
    timed = adm.record_time(session, a, body.seconds, body.active_seconds, len(body.answers), body.increment_id)
    saved = adm.save_answers(session, a, body.answers, "respondent", ip, timed=timed)
    return {"saved": saved}


@router.post("/{token}/submit", **documented(RespondentSubmitted))
def submit(token: str, session: SessionDep, ip: IpDep, administration: str | None = None) -> dict[str, str]:
    a = adm.by_code(session, token, ip, lock=True)
    _check_shown(a, administration)
    adm.submit(session, a, "respondent", None, ip)
    return {"status": "submitted"}
