"""A psychologist's view of results: one result (with corrections), two results compared, and
report files (the integrated profile or chosen results, for any audience and language).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

import reports
from api.deps import IpDep, SessionDep, SettingsDep, VaultDep
from api.domain import packets as pk
from api.domain import reporting, results, studies
from api.domain.access import Principal
from api.domain.errors import NotFound

from .core import (
    Form,
    Need,
    PageError,
    WebRoute,
    chart_uris,
    file_response,
    instrument_title,
    lang_of,
    redirect,
    render,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

Psychologist = Annotated[Principal, Depends(Need("results.read"))]


@router.get("/results/{result_id}")
def result(
    request: Request,
    result_id: str,
    principal: Psychologist,
    session: SessionDep,
    vault: VaultDep,
    settings: SettingsDep,
    ip: IpDep,
) -> Response:
    r = results.read(session, principal, result_id, ip)
    code = pk.find_code(session, r.beneficiary_id)
    entry = next(e for e in results.entries(session, r.beneficiary_id) if e.result.id == r.id)
    profile = reporting.profile_for(session, principal, vault, settings, code, "psychologist", [r.id], ip=ip)
    view = reports.build_view(profile, lang_of(request), "psychologist")
    return render(
        request,
        "result.html",
        r=r,
        code=code,
        view=view,
        charts=chart_uris(view),
        audiences=reports.AUDIENCES,
        superseded_by=entry.superseded_by,
        corrections=entry.corrections,
        can_correct=principal.can("results.correct"),
        norm_choices=studies.published_choices(session, principal, {(r.instrument, r.instrument_version)}),
    )


@router.post("/results/{result_id}/correct")
def correct(
    request: Request, result_id: str, principal: Psychologist, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    """Correct one answer of a submitted administration, with a reason: a new result supersedes this one."""
    item = str(form.get("item") or "").strip()
    value = str(form.get("value") or "").strip() or None
    new = results.correct(session, principal, result_id, {item: value}, str(form.get("reason") or ""), ip)
    return redirect(request, f"/results/{new.id}")


@router.get("/beneficiaries/{code}/compare")
def compare(
    request: Request,
    code: str,
    principal: Psychologist,
    session: SessionDep,
    vault: VaultDep,
    settings: SettingsDep,
    ip: IpDep,
    before: Annotated[str, Query(max_length=40)] = "",
    after: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    if not before or not after or before == after:
        raise PageError(422, "choose_two")
    entries = {e.result.id: e for e in results.of_person(session, principal, code, ip)}
    if before not in entries or after not in entries:
        raise NotFound(f"no such result for {code}")
    if entries[before].administered > entries[after].administered:
        before, after = after, before
    profile = reporting.profile_for(session, principal, vault, settings, code, "psychologist", [after], before, ip)
    view = reports.build_view(profile, lang_of(request), "psychologist")
    a = entries[after].result
    return render(
        request,
        "compare.html",
        code=code,
        view=view,
        charts=chart_uris(view),
        before=entries[before].result,
        after=a,
        title=instrument_title(a.instrument, a.instrument_version, lang_of(request)),
    )


FORMATS = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "json": "application/json; charset=utf-8"}


@router.get("/beneficiaries/{code}/report")
def report(
    request: Request,
    code: str,
    principal: Psychologist,
    session: SessionDep,
    vault: VaultDep,
    settings: SettingsDep,
    ip: IpDep,
    audience: Annotated[str, Query()] = "psychologist",
    format: Annotated[str, Query()] = "pdf",
    report_lang: Annotated[str, Query(alias="report_lang")] = "ka",
    result: Annotated[list[str] | None, Query()] = None,
    norm: Annotated[list[str] | None, Query(max_length=120)] = None,
) -> Response:
    """A report file: the integrated profile (newest result of each instrument) or chosen results;
    ``norm``: published norm tables to use (instrument/norm id; an empty choice means none)."""
    if result and len(result) > 4:
        raise PageError(422, "invalid", "at most one result of each of the four instruments")
    if format not in FORMATS or report_lang not in reports.LANGS or audience not in reports.AUDIENCES:
        raise PageError(422, "invalid", "format, language or audience is not one of the offered ones")
    chosen_norms = [x for x in norm or [] if x]
    profile = reporting.profile_for(
        session, principal, vault, settings, code, audience, result or None, ip=ip, norms=chosen_norms or None
    )
    if format == "pdf":
        data = reports.render_pdf(profile, report_lang, audience)
    elif format == "html":
        data = reports.render_html(profile, report_lang, audience).encode("utf-8")
    else:
        data = reports.render_json(profile, report_lang, audience).encode("utf-8")
    return file_response(request, data, FORMATS[format], f"report-{code}-{audience}-{report_lang}.{format}")
