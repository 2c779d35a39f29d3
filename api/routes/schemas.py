"""Published JSON Schemas of what the API hands out: the typed result record (and, through
OpenAPI, every response model). Documentation, not personal data: no sign-in needed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

import scoring
from api.routes.common import documented
from api.schemas import RecordSchema

router = APIRouter(prefix="/v1/schemas", tags=["schemas"])


@router.get("/record", **documented(RecordSchema))
def record() -> dict[str, Any]:
    """The JSON Schema of a result record (``scoring.ScoreRecord``), one model per instrument model."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **scoring.record_schema()}
