from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api import service
from api.deps import PrincipalDep, SettingsDep
from api.domain.errors import Invalid
from api.schemas import ScoreRequest

router = APIRouter(prefix="/v1", tags=["scoring"])


@router.post("/score")
def score(body: ScoreRequest, principal: PrincipalDep, settings: SettingsDep) -> dict[str, Any]:
    """Stateless scoring of one or many administrations; nothing is stored."""
    principal.require("score")
    if len(body.administrations) > settings.max_batch:
        raise Invalid(f"at most {settings.max_batch} administrations per request", field="administrations")
    inst = service.instrument(body.instrument, body.version)
    rows = service.score_answers(
        inst,
        [a.answers for a in body.administrations],
        [a.aspirations for a in body.administrations] if any(a.aspirations for a in body.administrations) else None,
        [a.seconds for a in body.administrations] if any(a.seconds is not None for a in body.administrations) else None,
        [a.id or str(k + 1) for k, a in enumerate(body.administrations)],
    )
    return {"instrument": inst.id, "instrument_version": inst.version, "results": rows}
