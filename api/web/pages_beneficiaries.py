"""The beneficiary pages staff share: the list (search by code), a new beneficiary, and one
person's page (administrations, results, consents, packets, studies, what can be started).

Every view of a person's data goes through a domain function that writes the audit log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

import reports
from api import scoring_facade as facade
from api.deps import IpDep, SessionDep, VaultDep
from api.domain import administrations as adm
from api.domain import beneficiaries as ben
from api.domain import packets as pk
from api.domain import results, studies
from api.domain.access import Principal
from api.domain.errors import Invalid

from .core import (
    Form,
    Need,
    PageError,
    Translator,
    WebRoute,
    attempt,
    instrument_title,
    lang_of,
    org_name,
    redirect,
    render,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 25
FLASHES = ("intake", "intake_submitted", "region")
"""The notes a beneficiary page can show after a redirect (``?saved=…``)."""

Reader = Annotated[Principal, Depends(Need("beneficiaries.read"))]
Creator = Annotated[Principal, Depends(Need("beneficiaries.create"))]


def _summary(record: Any, t: Translator) -> str:
    """One line that tells results apart in a list, from the typed record (by model, never by id)."""
    if record.model == "holland":
        return t("result.brief.sds", code="/".join(record.codes) or "—")
    if record.model == "bipolar":
        return t("result.brief.ppi", type=record.type or "—")
    if record.model == "decision":
        return reports.strings(t.lang).get(f"decision.status_name.{record.status or 'unknown'}")
    if record.model == "intake":
        return t("result.brief.intake", group=record.job_seeker_group or "—")
    return ""


@router.get("/beneficiaries")
def beneficiaries(
    request: Request,
    principal: Reader,
    session: SessionDep,
    vault: VaultDep,
    ip: IpDep,
    q: Annotated[str, Query(max_length=40)] = "",
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> Response:
    search = q.strip() or None
    rows, total = ben.listing(session, principal, vault, search, offset, PAGE, ip)
    return render(
        request,
        "beneficiaries.html",
        rows=rows,
        total=total,
        q=q.strip(),
        offset=offset,
        page=PAGE,
        names=principal.can("beneficiaries.names"),
        can_create=principal.can("beneficiaries.create"),
    )


@router.get("/beneficiaries/new")
def new_beneficiary(request: Request, principal: Creator) -> Response:
    return render(request, "beneficiary_new.html", error=None, values={})


@router.post("/beneficiaries/new")
def create_beneficiary(
    request: Request, principal: Creator, form: Form, session: SessionDep, vault: VaultDep, ip: IpDep
) -> Response:
    values = {k: str(form.get(k) or "").strip() for k in ("name", "contact", "gender", "birth_year", "region")}
    year = values["birth_year"]
    if year and not year.isdigit():
        return render(request, "beneficiary_new.html", status=422, error="birth_year", values=values)
    made, err = attempt(
        session,
        lambda: ben.create(
            session,
            principal,
            vault,
            values["name"][:200] or None,
            values["contact"][:500] or None,
            values["gender"] or None,
            int(year) if year else None,
            ip,
            region=values["region"] or None,
        ),
    )
    if err is not None:
        field = err.extra.get("field") if isinstance(err, Invalid) else None
        return render(request, "beneficiary_new.html", status=422, error=field or "other", values=values)
    assert made is not None
    return redirect(request, f"/beneficiaries/{made['code']}")


@router.get("/beneficiaries/{code}")
def beneficiary(
    request: Request, code: str, principal: Reader, session: SessionDep, vault: VaultDep, ip: IpDep
) -> Response:
    person = ben.read(session, principal, vault, code, ip)
    t = Translator(lang_of(request))
    admins = adm.of_person(session, principal, code, ip) if principal.can("administrations.read") else []
    entries = results.of_person(session, principal, code, ip) if principal.can("results.read") else []
    consents = pk.consents_of(session, principal, code, ip) if principal.can("consents.read") else []
    packets = pk.of_person(session, principal, code, ip) if principal.can("packets.write") else []
    now = pk.now()
    today = reports.today(request.app.state.settings.time_zone)
    return render(
        request,
        "beneficiary.html",
        person=person,
        code=code,
        admins=admins,
        in_progress=[a for a in admins if a["status"] == "in_progress"],
        submitted=[a for a in admins if a["status"] != "in_progress"],
        results=[
            {
                "r": e.result,
                "entry": e,
                "title": instrument_title(e.result.instrument, e.result.instrument_version, t.lang),
                "summary": _summary(results.record_of(e.result), t),
            }
            for e in entries
        ],
        compare_groups=_compare_groups(entries, t.lang),
        consents=[{"c": c, "valid": pk.consent_valid(c, now)} for c in consents],
        packets=packets,
        startable=[(i, facade.instrument(i).title.get(t.lang)) for i in adm.startable_instruments(principal)],
        modes=adm.MODES,
        title_of=lambda a: instrument_title(a["instrument"], a["instrument_version"], t.lang),
        can=principal.can,
        org_name=lambda org_id: org_name(request, org_id),
        flash=request.query_params.get("saved") if request.query_params.get("saved") in FLASHES else None,
        studies_open=studies.open_for_enrolment(session, principal, today) if principal.can("studies.enrol") else [],
        studies_joined=studies.joined(session, principal, code) if principal.can("studies.enrol") else [],
        study_title=lambda s: studies.title(s, t.lang),
    )


@router.post("/beneficiaries/{code}/studies")
def join_study(
    request: Request,
    code: str,
    principal: Annotated[Principal, Depends(Need("studies.enrol"))],
    form: Form,
    session: SessionDep,
    ip: IpDep,
) -> Response:
    """The social worker records the beneficiary's consent to join a study; the person's
    participation code is shown here once, to hand over."""
    study_id = str(form.get("study") or "")
    if form.get("consent") != "yes":
        raise PageError(422, "invalid", "confirm that the person gave their consent to take part")
    token = studies.enrol_beneficiary(session, principal, study_id, code, ip)
    study = studies.get_for_enrolment(session, principal, study_id)
    return render(
        request,
        "study_joined.html",
        code=code,
        token=token,
        link=f"{str(request.base_url).rstrip('/')}/s/{token}",
        title=studies.title(study, lang_of(request)),
    )


def _compare_groups(entries: list[Any], lang: str) -> list[dict[str, Any]]:
    """Instruments with at least two administrations (their current results): what can be compared.
    Results of different versions of one instrument can be compared too (the changed items are named)."""
    groups: dict[str, list[Any]] = {}
    for e in sorted(entries, key=lambda e: e.administered):
        if e.model != "intake" and e.current:
            groups.setdefault(e.result.instrument, []).append(e)
    return [
        {
            "instrument": i,
            "title": instrument_title(es[-1].result.instrument, es[-1].result.instrument_version, lang),
            "results": [x.result for x in es],
        }
        for i, es in groups.items()
        if len(es) >= 2
    ]
