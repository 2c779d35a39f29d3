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
from api.routes.common import Lang, created
from api.schemas import FollowUpCreate, PlacementCreate, TrainingCreate, TrainingFinish
from api.settings import Settings

router = APIRouter(prefix="/v1", tags=["outcomes"])


def _today(settings: Settings) -> dt.date:
    return reports.today(settings.time_zone)


@router.post("/beneficiaries/{code}/trainings", status_code=201)
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
        t = oc.record_training(
            session,
            principal,
            code,
            activity=body.activity,
            started_on=body.started_on,
            outcome=body.outcome,
            finished_on=body.finished_on,
            note=body.note,
            today=_today(settings),
            ip=ip,
        )
        return oc.training_view(principal, t, code)

    return created(idem.run(body.model_dump(), work, replay=lambda tid: oc.read_training(session, principal, tid, ip)))


@router.post("/trainings/{training_id}/finish")
def finish_training(
    training_id: str,
    body: TrainingFinish,
    principal: PrincipalDep,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
) -> dict[str, Any]:
    """An ongoing training completed or dropped."""
    t = oc.finish_training(
        session,
        principal,
        training_id,
        outcome=body.outcome,
        finished_on=body.finished_on,
        today=_today(settings),
        ip=ip,
    )
    return oc.read_training(session, principal, t.id, ip)


@router.post("/beneficiaries/{code}/placements", status_code=201)
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
        p = oc.record_placement(
            session,
            principal,
            code,
            employer_kind=body.employer_kind,
            occupation=body.occupation,
            start_date=body.start_date,
            hours_per_week=body.hours_per_week,
            pay_band=body.pay_band,
            self_employed=body.self_employed,
            micro_business=body.micro_business,
            supported=body.supported,
            note=body.note,
            today=today,
            ip=ip,
        )
        return oc.placement_view(principal, p, code, [], today)

    return created(
        idem.run(body.model_dump(), work, replay=lambda pid: oc.read_placement(session, principal, pid, today, ip))
    )


@router.get("/placements/{placement_id}")
def placement(
    placement_id: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> dict[str, Any]:
    """A placement with its follow-ups and what is still scheduled."""
    return oc.read_placement(session, principal, placement_id, _today(settings), ip)


@router.post("/placements/{placement_id}/follow-ups", status_code=201)
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
        f = oc.record_follow_up(
            session,
            principal,
            placement_id,
            month=body.month,
            done_on=body.done_on,
            still_employed=body.still_employed,
            same_job=body.same_job,
            left_on=body.left_on,
            satisfaction=body.satisfaction,
            difficulties=body.difficulties,
            note=body.note,
            today=_today(settings),
            ip=ip,
        )
        return oc.read_follow_up(session, principal, f.id, ip)

    return created(
        idem.run(
            {"placement": placement_id, **body.model_dump()},
            work,
            replay=lambda fid: oc.read_follow_up(session, principal, fid, ip),
        )
    )


@router.get("/beneficiaries/{code}/outcomes")
def case_outcomes(
    code: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> dict[str, Any]:
    """A person's trainings and placements, each placement with its follow-ups and schedule."""
    return oc.case_outcomes(session, principal, code, _today(settings), ip)


@router.get("/follow-ups/schedule")
def follow_up_schedule(
    principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> dict[str, Any]:
    """Follow-ups due this week and overdue, per social worker (the caller's own list first)."""
    return oc.schedule(session, principal, _today(settings), ip)


@router.get("/beneficiaries/{code}/timeline")
def case_timeline(
    code: str, principal: PrincipalDep, session: SessionDep, settings: SettingsDep, ip: IpDep, lang: Lang = "en"
) -> dict[str, Any]:
    """The case in order (questionnaires, packets, trainings, placement, follow-ups), the profile at each
    point, and a questionnaire given again against its first administration with the reliable-change index."""
    return timeline.timeline(session, principal, settings, code, lang, ip)


@router.get("/indicators", response_model=None)
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
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="indicators-{data["as_of"]}-{lang}.xlsx"'},
        )
    if format == "pdf":
        return Response(
            indicators.to_pdf(data, lang, settings),
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="indicators-{data["as_of"]}-{lang}.pdf"'},
        )
    return data


@router.get("/regions")
def regions(principal: PrincipalDep) -> list[dict[str, Any]]:
    """Georgia's regions (a beneficiary's ``region`` and the indicators' breakdown), in Georgian and English."""
    principal.require("instruments.read")
    return [{"id": r.id, "name": r.name.model_dump()} for r in instruments.regions()]
