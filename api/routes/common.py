"""Helpers shared by the routers: pagination and JSON responses with a status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import JSONResponse


class Page:
    def __init__(
        self,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> None:
        self.offset, self.limit = offset, limit

    def wrap(self, items: list[Any], total: int) -> dict[str, Any]:
        nxt = self.offset + self.limit if self.offset + self.limit < total else None
        return {"items": items, "total": total, "offset": self.offset, "limit": self.limit, "next_offset": nxt}


def created(pair: tuple[int, Any]) -> JSONResponse:
    status, body = pair
    return JSONResponse(body, status_code=status)


def result_view(r: Any, code: str) -> dict[str, Any]:
    """A stored result with everything it depends on named."""
    return {
        "id": r.id,
        "beneficiary": code,
        "administration": r.administration_id,
        "instrument": r.instrument,
        "instrument_version": r.instrument_version,
        "instrument_hash": r.instrument_hash,
        "engine_version": r.engine_version,
        "norm_table": r.norm_table,
        "supersedes": r.supersedes_id,
        "created_at": r.created_at,
        "scores": r.scores,
    }
