"""Outcomes after the packet (issue 16): a case's trainings, placements and follow-ups with the
forms to record them, and the follow-up schedule (what is due this week, what is overdue).

For the social worker (every case) and the employment officer (a case whose packet was sent to
their organisation, within a consent that names the outcomes part): the same domain functions and
row rules as the REST API (``api.domain.outcomes``)."""

from __future__ import annotations

import base64
import datetime as dt
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

import instruments
import reports
from api.deps import IpDep, SessionDep, VaultDep
from api.domain import beneficiaries, indicators, timeline
from api.domain import outcomes as oc
from api.domain.access import Principal
from api.domain.errors import DomainError, Invalid

from .core import Form, Need, WebRoute, attempt, lang_of, redirect, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

OutcomeReader = Annotated[Principal, Depends(Need("outcomes.read"))]
OutcomeWriter = Annotated[Principal, Depends(Need("outcomes.write"))]
ScheduleReader = Annotated[Principal, Depends(Need("followups.schedule"))]


def _today(request: Request) -> dt.date:
    return reports.today(request.app.state.settings.time_zone)


def _date(form: Any, name: str, required: bool = True) -> dt.date | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        if required:
            raise Invalid(f"{name} is required", field=name, value=None)
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{name} is not a date", field=name, value=raw) from None


def _int(form: Any, name: str) -> int | None:
    raw = str(form.get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise Invalid(f"{name} is not a whole number", field=name, value=raw) from None


def _catalogues(lang: str) -> dict[str, Any]:
    return {
        "activities": sorted(((a.id, a.name.get(lang)) for a in instruments.activities()), key=lambda x: x[1]),
        "occupations": sorted(
            {o.name.get(lang) for o in instruments.occupations() if not o.excluded}, key=str.casefold
        ),
        "employer_kinds": oc.EMPLOYER_KINDS,
        "pay_bands": oc.PAY_BANDS,
        "difficulties": oc.DIFFICULTIES,
        "months": oc.FOLLOW_UP_MONTHS,
    }


def _occupation_names(lang: str) -> dict[str, str]:
    return {o.isco: o.name.get(lang) for o in instruments.occupations()}


def _page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    code: str,
    ip: str | None,
    error: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    lang = lang_of(request)
    data = oc.case_outcomes(session, principal, code, _today(request), ip)
    acts = {a.id: a.name.get(lang) for a in instruments.activities()}
    return render(
        request,
        "outcomes.html",
        status=status,
        code=code,
        data=data,
        activity_name=lambda aid: acts.get(aid, aid),
        occupation_name=lambda isco: _occupation_names(lang).get(isco, isco),
        today=_today(request).isoformat(),
        error={"form": "", "field": "", "detail": "", **(error or {})},
        values=defaultdict(str, values or {}),
        can_write=principal.can("outcomes.write"),
        fund_staff=principal.can("outcomes.all_cases"),
        request_saved=bool(request.query_params.get("saved")),
        **_catalogues(lang),
    )


@router.get("/beneficiaries/{code}/outcomes")
def outcomes(request: Request, code: str, principal: OutcomeReader, session: SessionDep, ip: IpDep) -> Response:
    return _page(request, principal, session, code, ip)


def _refused(
    request: Request,
    principal: Principal,
    session: SessionDep,
    code: str,
    ip: str | None,
    form_id: str,
    err: DomainError,
    values: dict[str, Any],
) -> Response:
    field = str(err.extra.get("field") or "other")
    return _page(
        request, principal, session, code, ip, {"form": form_id, "field": field, "detail": err.detail}, values, 422
    )


def _values(form: Any) -> dict[str, Any]:
    return {k: (form.getlist(k) if k == "difficulties" else str(form.get(k) or "")) for k in form}


@router.post("/beneficiaries/{code}/trainings")
def add_training(
    request: Request, code: str, principal: OutcomeWriter, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    def work() -> Any:
        outcome = str(form.get("outcome") or "ongoing")
        return oc.record_training(
            session,
            principal,
            code,
            activity=str(form.get("activity") or ""),
            started_on=_date(form, "started_on"),  # type: ignore[arg-type]
            outcome=outcome,
            finished_on=_date(form, "finished_on", required=False),
            note=str(form.get("note") or "") or None,
            today=_today(request),
            ip=ip,
        )

    _, err = attempt(session, work)
    if err is not None:
        return _refused(request, principal, session, code, ip, "training", err, _values(form))
    return redirect(request, f"/beneficiaries/{code}/outcomes", saved="training")


@router.post("/trainings/{training_id}/finish")
def finish_training(
    request: Request, training_id: str, principal: OutcomeWriter, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    code = str(form.get("code") or "")
    _, err = attempt(
        session,
        lambda: oc.finish_training(
            session,
            principal,
            training_id,
            outcome=str(form.get("outcome") or ""),
            finished_on=_date(form, "finished_on"),  # type: ignore[arg-type]
            today=_today(request),
            ip=ip,
        ),
    )
    if err is not None:
        return _refused(request, principal, session, code, ip, f"finish-{training_id}", err, _values(form))
    return redirect(request, f"/beneficiaries/{code}/outcomes", saved="training")


@router.post("/beneficiaries/{code}/placements")
def add_placement(
    request: Request, code: str, principal: OutcomeWriter, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    def work() -> Any:
        return oc.record_placement(
            session,
            principal,
            code,
            employer_kind=str(form.get("employer_kind") or ""),
            occupation=str(form.get("occupation") or ""),
            start_date=_date(form, "start_date"),  # type: ignore[arg-type]
            hours_per_week=_int(form, "hours_per_week"),
            pay_band=str(form.get("pay_band") or "") or None,
            self_employed=form.get("self_employed") == "1",
            micro_business=form.get("micro_business") == "1",
            supported=form.get("supported") == "1",
            note=str(form.get("note") or "") or None,
            today=_today(request),
            ip=ip,
        )

    _, err = attempt(session, work)
    if err is not None:
        return _refused(request, principal, session, code, ip, "placement", err, _values(form))
    return redirect(request, f"/beneficiaries/{code}/outcomes", saved="placement")


def _yes_no(form: Any, name: str) -> bool | None:
    v = form.get(name)
    return True if v == "yes" else False if v == "no" else None


@router.post("/placements/{placement_id}/follow-ups")
def add_follow_up(
    request: Request, placement_id: str, principal: OutcomeWriter, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    code = str(form.get("code") or "")

    def work() -> Any:
        employed = _yes_no(form, "still_employed")
        if employed is None:
            raise Invalid("still_employed is required", field="still_employed", value=None)
        return oc.record_follow_up(
            session,
            principal,
            placement_id,
            month=_int(form, "month") or 0,
            done_on=_date(form, "done_on"),  # type: ignore[arg-type]
            still_employed=employed,
            same_job=_yes_no(form, "same_job"),
            left_on=_date(form, "left_on", required=False),
            satisfaction=_int(form, "satisfaction"),
            difficulties=[str(d) for d in form.getlist("difficulties")],
            note=str(form.get("note") or "") or None,
            today=_today(request),
            ip=ip,
        )

    _, err = attempt(session, work)
    if err is not None:
        return _refused(request, principal, session, code, ip, f"follow-{placement_id}", err, _values(form))
    return redirect(request, f"/beneficiaries/{code}/outcomes", saved="follow_up")


@router.get("/follow-ups")
def schedule(request: Request, principal: ScheduleReader, session: SessionDep, ip: IpDep) -> Response:
    return render(request, "followups.html", data=oc.schedule(session, principal, _today(request), ip))


TimelineReader = Annotated[Principal, Depends(Need("timeline.read"))]


@router.get("/beneficiaries/{code}/timeline")
def case_timeline(request: Request, code: str, principal: TimelineReader, session: SessionDep, ip: IpDep) -> Response:
    lang = lang_of(request)
    data = timeline.timeline(session, principal, request.app.state.settings, code, lang, ip)
    return render(request, "timeline.html", code=code, data=data, can_outcomes=principal.can("outcomes.read"))


IndicatorReader = Annotated[Principal, Depends(Need("indicators.read"))]


@router.get("/indicators")
def programme_indicators(request: Request, principal: IndicatorReader, session: SessionDep, ip: IpDep) -> Response:
    lang = lang_of(request)
    data = indicators.indicators(session, principal, request.app.state.settings, _today(request), ip)
    names = indicators.value_names(lang)
    svg = reports.indicators_chart(data, names, lang)  # with the bands and the number at risk, as in the PDF
    chart = None if svg is None else "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")
    return render(request, "indicators.html", data=data, names=names, chart=chart)


RegionWriter = Annotated[Principal, Depends(Need("beneficiaries.create"))]


@router.post("/beneficiaries/{code}/region")
def set_region(
    request: Request, code: str, principal: RegionWriter, form: Form, session: SessionDep, vault: VaultDep, ip: IpDep
) -> Response:
    """Where the person lives (the programme indicators' breakdown by region); empty clears it."""
    beneficiaries.set_region(session, principal, vault, code, str(form.get("region") or "").strip() or None, ip)
    return redirect(request, f"/beneficiaries/{code}", saved="region")
