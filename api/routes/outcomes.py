"""Outcomes after the packet (issue 16): trainings, placements, scheduled follow-ups.

For the fund's social workers, and for an employment system reporting placements back (an API key
with scope ``outcomes:write`` and an organisation: only for the people whose packets were sent to
that organisation, within a consent that names the outcomes part). Creating POSTs take an
``Idempotency-Key``: a retry answers the first entry as it is now and writes nothing new."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

import instruments
import reports
from api.deps import IdempotencyDep, IpDep, PrincipalDep, SessionDep, SettingsDep
from api.domain import indicators, timeline
from api.domain import outcomes as oc
from api.routes.common import Lang, documented, idempotent
from api.schemas import (
    CaseOutcomes,
    FollowUpCreate,
    FollowUpPublic,
    FollowUpSchedule,
    Indicators,
    PlacementCreate,
    PlacementPublic,
    Region,
    Timeline,
    TrainingCreate,
    TrainingFinish,
    TrainingPublic,
)
from api.settings import Settings

router = APIRouter(prefix="/v1", tags=["outcomes"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _today(settings: Settings) -> dt.date:
    return reports.today(settings.time_zone)


@router.post("/beneficiaries/{code}/trainings", status_code=201, **documented(TrainingPublic, 201))
def add_training(
    code: str,
    body: TrainingCreate,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """A training of the activities catalogue started (or already ended)."""

    def work() -> dict[str, Any]:
        t = oc.record_training(session, principal, code, **body.model_dump(), today=_today(settings), ip=ip)
        return oc.training_view(principal, t, code)

    return idempotent(idem, body.model_dump(), work, lambda tid: oc.read_training(session, principal, tid, ip))


@router.post("/trainings/{training_id}/finish", **documented(TrainingPublic))
def finish_training(
    training_id: str,
    body: TrainingFinish,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
) -> dict[str, Any]:
    """An ongoing training completed or dropped."""
    t = oc.finish_training(session, principal, training_id, **body.model_dump(), today=_today(settings), ip=ip)
    return oc.read_training(session, principal, t.id, ip)


@router.post("/beneficiaries/{code}/placements", status_code=201, **documented(PlacementPublic, 201))
def add_placement(
    code: str,
    body: PlacementCreate,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """A job or self-employment started; follow-ups are scheduled from ``start_date``."""
    today = _today(settings)

    def work() -> dict[str, Any]:
        p = oc.record_placement(session, principal, code, **body.model_dump(), today=today, ip=ip)
        return oc.placement_view(principal, p, code, [], today)

    return idempotent(idem, body.model_dump(), work, lambda pid: oc.read_placement(session, principal, pid, today, ip))


@router.get("/placements/{placement_id}", **documented(PlacementPublic))
def placement(
    placement_id: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> dict[str, Any]:
    """A placement with its follow-ups and what is still scheduled."""
    return oc.read_placement(session, principal, placement_id, _today(settings), ip)


@router.post("/placements/{placement_id}/follow-ups", status_code=201, **documented(FollowUpPublic, 201))
def add_follow_up(
    placement_id: str,
    body: FollowUpCreate,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    idem: IdempotencyDep,
) -> JSONResponse:
    """What a scheduled follow-up found (one per placement and month)."""

    def work() -> dict[str, Any]:
        f = oc.record_follow_up(session, principal, placement_id, **body.model_dump(), today=_today(settings), ip=ip)
        return oc.read_follow_up(session, principal, f.id, ip)

    return idempotent(
        idem,
        {"placement": placement_id, **body.model_dump()},
        work,
        lambda fid: oc.read_follow_up(session, principal, fid, ip),
    )


@router.get("/beneficiaries/{code}/outcomes", **documented(CaseOutcomes))
def case_outcomes(
    code: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> dict[str, Any]:
    """A person's trainings and placements, each placement with its follow-ups and schedule."""
    return oc.case_outcomes(session, principal, code, _today(settings), ip)


@router.get("/follow-ups/schedule", **documented(FollowUpSchedule))
def follow_up_schedule(
    principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> dict[str, Any]:
    """Follow-ups due this week and overdue, per social worker (the caller's own list first)."""
    return oc.schedule(session, principal, _today(settings), ip)


@router.get("/beneficiaries/{code}/timeline", **documented(Timeline))
def case_timeline(
    code: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep, lang: Lang = "en"
) -> dict[str, Any]:
    """The case in order (questionnaires, packets, trainings, placement, follow-ups), the profile at each
    point, and a questionnaire given again against its first administration with the reliable-change index."""
    return timeline.timeline(session, principal, settings, code, lang, ip)


@router.get("/indicators", **documented(Indicators, files=[XLSX, "application/pdf"]))
def programme_indicators(
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
    format: Annotated[Literal["json", "xlsx", "pdf"], Query()] = "json",
    lang: Lang = "en",
) -> dict[str, Any] | Response:
    """Programme indicators for the fund's management: aggregates only, each with its n, groups below
    the minimum size suppressed; retention at 3/6/12 months by Kaplan–Meier with 95 % bands and the
    number at risk. ``format=xlsx`` for a workbook, ``format=pdf`` for a document (donors)."""
    data = indicators.indicators(session, principal, settings, _today(settings), ip)
    if format == "xlsx":
        return Response(
            indicators.to_xlsx(data, lang, indicators.value_names(lang)),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="indicators-{data["as_of"]}-{lang}.xlsx"'},
        )
    if format == "pdf":
        return Response(
            indicators.to_pdf(data, lang, settings),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="indicators-{data["as_of"]}-{lang}.pdf"'},
        )
    return data


@router.get("/regions", **documented(list[Region]))
def regions(principal: PrincipalDep) -> list[dict[str, Any]]:
    """Georgia's regions (a beneficiary's ``region`` and the indicators' breakdown), in Georgian and English."""
    principal.require("instruments.read")
    return [{"id": r.id, "name": r.name.model_dump()} for r in instruments.regions()]
