from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

import instruments
from api import scoring_facade as facade
from api.deps import PrincipalDep
from api.routes.common import documented
from api.schemas import InstrumentDefinition, InstrumentSummary

router = APIRouter(prefix="/v1/instruments", tags=["instruments"])
Lang = Literal["ka", "en"]


@router.get("", **documented(list[InstrumentSummary]))
def list_instruments(principal: PrincipalDep) -> list[dict[str, Any]]:
    principal.require("instruments.read")
    out = []
    for iid, ver in instruments.available():
        inst = facade.instrument(iid, ver)
        out.append(
            {
                "id": iid,
                "version": ver,
                "model": inst.model,
                "title": inst.title.model_dump(),
                "items": len(inst.items) or len(inst.fields),
            }
        )
    return out


@router.get("/{instrument_id}", **documented(InstrumentDefinition))
def get_instrument(
    instrument_id: str, principal: PrincipalDep, version: str | None = None, lang: Annotated[Lang, Query()] = "ka"
) -> dict[str, Any]:
    """The definition in one language, as a respondent page or another system needs it."""
    principal.require("instruments.read")
    inst = facade.instrument(instrument_id, version)
    return facade.definition(inst, lang)
