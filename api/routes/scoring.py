from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Response
from fastapi.encoders import jsonable_encoder
from starlette.concurrency import run_in_threadpool

from api import scoring_facade as facade
from api.deps import LoopPrincipalDep, SettingsDep
from api.domain.errors import Invalid
from api.routes.common import documented
from api.schemas import Scored, ScoreRequest

router = APIRouter(prefix="/v1", tags=["scoring"])

INLINE = 8
"""At most this many administrations are scored on the event loop itself (well under a millisecond
each); a larger batch goes to a worker thread so that it never holds up other requests."""


def _scored(body: ScoreRequest, fmt: str) -> bytes:
    """The response body: one typed record (or flat row) per administration, as JSON bytes.

    Records are serialized by pydantic's own (Rust) serializer and joined into the envelope by
    orjson: no ``jsonable_encoder`` walk over every value, and no second ``json.dumps``."""
    inst = facade.instrument(body.instrument, body.version)
    admins = body.administrations
    args = (
        inst,
        [a.answers for a in admins],
        [a.aspirations for a in admins] if any(a.aspirations for a in admins) else None,
        [a.seconds for a in admins] if any(a.seconds is not None for a in admins) else None,
        [a.id or str(k + 1) for k, a in enumerate(admins)],
    )
    if fmt == "flat":
        results = orjson.dumps(jsonable_encoder(facade.score_rows(*args)))
    else:
        results = b"[" + b",".join(r.model_dump_json().encode() for r in facade.score_answers(*args)) + b"]"
    head = orjson.dumps({"instrument": inst.id, "instrument_version": inst.version})
    return head[:-1] + b',"results":' + results + b"}"


@router.post("/score", **documented(Scored))
async def score(
    body: ScoreRequest,
    principal: LoopPrincipalDep,
    settings: SettingsDep,
    format: Annotated[
        Literal["record", "flat"],
        Query(
            description="record: one typed result record each (the schema at /v1/schemas/record); "
            "flat: the columns of `proforient score`"
        ),
    ] = "record",
) -> Response:
    """Stateless scoring of one or many administrations; nothing is stored."""
    principal.require("score")
    if len(body.administrations) > settings.max_batch:
        raise Invalid(f"at most {settings.max_batch} administrations per request", field="administrations")
    if len(body.administrations) <= INLINE:
        content = _scored(body, format)
    else:
        content = await run_in_threadpool(_scored, body, format)
    return Response(content, media_type="application/json")
