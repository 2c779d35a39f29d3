"""Report batches: every beneficiary of a cohort, made in the background by ``proforient worker``."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from api import jobqueue
from api.deps import IpDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import jobs
from api.routes.common import documented, download_only
from api.schemas import BatchProgress

router = APIRouter(prefix="/v1/report-batches", tags=["reports"])


class BatchRequest(BaseModel):
    """A cohort (beneficiaries registered in a period; none: everyone with results) and the report."""

    model_config = ConfigDict(extra="forbid")
    lang: Literal["ka", "en"] = "ka"
    audience: str = "psychologist"
    format: Literal["pdf", "html", "json"] = "pdf"
    registered_from: dt.date | None = None
    registered_to: dt.date | None = None


@router.post("", status_code=202, **documented(BatchProgress, 202))
def request(
    body: BatchRequest, principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> dict[str, Any]:
    """Queue a batch; follow its progress at ``GET /v1/report-batches/{id}``."""
    return jobs.request(
        session,
        principal,
        body.lang,
        body.audience,
        body.format,
        body.registered_from,
        body.registered_to,
        ip,
        enqueue=jobqueue.enqueue_for(settings.database_url),
    ).public()


@router.get("/{batch_id}", **documented(BatchProgress))
def progress(batch_id: str, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """state (queued, running, done, failed), done of total."""
    return jobs.progress(session, principal, batch_id).public()


@router.get("/{batch_id}/archive", **download_only("application/zip", description="a ZIP file, one report per person"))
def archive(batch_id: str, principal: PrincipalDep, session: SessionDep, ip: IpDep) -> Response:
    """The finished batch as one ZIP file, one report per person (named by pseudonymous code)."""
    name, data = jobs.archive(session, principal, batch_id, ip)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
