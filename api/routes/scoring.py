from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from api import service
from api.deps import PrincipalDep, SettingsDep
from api.domain.errors import Invalid
from api.schemas import ScoreRequest

router = APIRouter(prefix="/v1", tags=["scoring"])


@router.post("/score")
def score(
    body: ScoreRequest,
    principal: PrincipalDep,
    settings: SettingsDep,
    format: Annotated[
        Literal["record", "flat"],
        Query(
            description="record: one typed result record each (the schema at /v1/schemas/record); "
            "flat: the columns of `proforient score`"
        ),
    ] = "record",
) -> dict[str, Any]:
    """Stateless scoring of one or many administrations; nothing is stored."""
    principal.require("score")
    if len(body.administrations) > settings.max_batch:
        raise Invalid(f"at most {settings.max_batch} administrations per request", field="administrations")
    inst = service.instrument(body.instrument, body.version)
    answers = [a.answers for a in body.administrations]
    aspirations = (
        [a.aspirations for a in body.administrations] if any(a.aspirations for a in body.administrations) else None
    )
    seconds = (
        [a.seconds for a in body.administrations] if any(a.seconds is not None for a in body.administrations) else None
    )
    ids = [a.id or str(k + 1) for k, a in enumerate(body.administrations)]
    results: list[dict[str, object]] = (
        service.score_rows(inst, answers, aspirations, seconds, ids)
        if format == "flat"
        else [r.model_dump(mode="json") for r in service.score_answers(inst, answers, aspirations, seconds, ids)]
    )
    return {"instrument": inst.id, "instrument_version": inst.version, "results": results}
