"""Report batches in the browser: ask for the reports of a cohort (everyone registered in a
period), watch the progress while ``proforient worker`` makes them, download one ZIP file."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

import reports
from api import jobqueue
from api.deps import IpDep, SessionDep, SettingsDep
from api.domain import jobs
from api.domain.access import Principal
from api.domain.errors import Invalid

from .core import Form, Need, WebRoute, attempt, file_response, redirect, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
Asker = Annotated[Principal, Depends(Need("reports.read"))]
FORMATS = ("pdf", "html", "json")


def _day(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@router.get("/report-batches")
def batches(request: Request, principal: Asker, session: SessionDep) -> Response:
    return render(request, "batches.html", error=None, values={}, recent=jobs.recent(session, principal))


@router.post("/report-batches")
def ask(
    request: Request, principal: Asker, form: Form, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> Response:
    values = {k: str(form.get(k) or "").strip() for k in ("from", "to", "audience", "report_lang", "format")}
    try:
        start, end = _day(values["from"]), _day(values["to"])
    except ValueError:
        start = end = None
        error: str | None = "date"
    else:
        error = None
    if error is None and (
        values["audience"] not in reports.AUDIENCES
        or values["report_lang"] not in reports.LANGS
        or values["format"] not in FORMATS
    ):
        error = "choice"
    if error is None:
        made, err = attempt(
            session,
            lambda: jobs.request(
                session,
                principal,
                values["report_lang"],
                values["audience"],
                values["format"],
                start,
                end,
                ip,
                enqueue=jobqueue.enqueue_for(settings.database_url),
            ),
        )
        if err is None and made is not None:
            return redirect(request, f"/report-batches/{made.id}")
        field = err.extra.get("field") if isinstance(err, Invalid) else None
        error = {"registered_from": "nobody", "registered_to": "period"}.get(str(field), "forbidden")
    recent = jobs.recent(session, principal)
    return render(request, "batches.html", status=422, error=error, values=values, recent=recent)


@router.get("/report-batches/{batch_id}")
def batch(request: Request, batch_id: str, principal: Asker, session: SessionDep) -> Response:
    return render(request, "batch.html", batch=jobs.progress(session, principal, batch_id))


@router.get("/report-batches/{batch_id}/archive")
def archive(request: Request, batch_id: str, principal: Asker, session: SessionDep, ip: IpDep) -> Response:
    name, data = jobs.archive(session, principal, batch_id, ip)
    return file_response(request, data, "application/zip", name)
