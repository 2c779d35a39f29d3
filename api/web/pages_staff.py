"""The psychologist's pages (and the shared beneficiary pages): list and search by code, start
administrations, hand over a code, read aloud, paper entry, results, comparison, reports.

Every view of a person's data goes through a domain function that writes the audit log.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

import reports
from api import service
from api.deps import IpDep, SessionDep, SettingsDep, VaultDep
from api.domain import beneficiaries as ben
from api.domain import packets as pk
from api.domain import results, studies
from api.domain import web_support as ws
from api.domain.access import Principal
from api.domain.errors import Conflict, Invalid, NotFound

from . import forms
from .core import (
    Form,
    Need,
    PageError,
    Translator,
    WebRoute,
    attempt,
    chart_uris,
    file_response,
    lang_of,
    redirect,
    render,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 25
MODES = ("respondent", "read_aloud", "paper")
FLASHES = ("intake", "intake_submitted")

Reader = Annotated[Principal, Depends(Need("beneficiaries.read"))]
Creator = Annotated[Principal, Depends(Need("beneficiaries.create"))]
Writer = Annotated[Principal, Depends(Need("administrations.write"))]
Psychologist = Annotated[Principal, Depends(Need("results.read"))]


def _title(instrument_id: str, version: str, lang: str) -> str:
    """The title of the definition version a result or administration belongs to."""
    return service.instrument(instrument_id, version).title.get(lang)


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


# -- beneficiaries -------------------------------------------------------------------------------


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
    values = {k: str(form.get(k) or "").strip() for k in ("name", "contact", "gender", "birth_year")}
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
    admins = ws.administrations_of(session, principal, code, ip) if principal.can("administrations.read") else []
    entries = results.of_person(session, principal, code, ip) if principal.can("results.read") else []
    consents = pk.consents_of(session, principal, code, ip) if principal.can("consents.read") else []
    packets = ws.packets_of(session, principal, code, ip) if principal.can("packets.write") else []
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
                "title": _title(e.result.instrument, e.result.instrument_version, t.lang),
                "summary": _summary(results.record_of(e.result), t),
            }
            for e in entries
        ],
        compare_groups=_compare_groups(entries, t.lang),
        consents=[{"c": c, "valid": pk.consent_valid(c, now)} for c in consents],
        packets=packets,
        startable=[(i, service.instrument(i).title.get(t.lang)) for i in ws.startable_instruments(principal)],
        modes=MODES,
        title_of=lambda a: _title(a["instrument"], a["instrument_version"], t.lang),
        can=principal.can,
        org_name=lambda org_id: _org_name(request, org_id),
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


def _org_name(request: Request, org_id: str) -> str:
    org = request.app.state.settings.organisation(org_id)
    if org is None:
        return org_id
    name: str = org.name_ka if lang_of(request) == "ka" else org.name_en
    return name


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
            "title": _title(es[-1].result.instrument, es[-1].result.instrument_version, lang),
            "results": [x.result for x in es],
        }
        for i, es in groups.items()
        if len(es) >= 2
    ]


# -- starting and handing over -------------------------------------------------------------------


def _in_order(form: Any, chosen: list[str]) -> list[str]:
    """The chosen instruments in the order the psychologist set (``order_<id>``: 1, 2, …); ties and
    unset ones keep the order of the list on the page."""

    def rank(k_iid: tuple[int, str]) -> tuple[int, int]:
        k, iid = k_iid
        raw = str(form.get(f"order_{iid}") or "").strip()
        return (int(raw) if raw.isdigit() else 99, k)

    return [iid for _, iid in sorted(enumerate(chosen), key=rank)]


@router.post("/beneficiaries/{code}/start")
def start(
    request: Request, code: str, principal: Writer, form: Form, session: SessionDep, settings: SettingsDep, ip: IpDep
) -> Response:
    chosen = [str(v) for v in form.getlist("instrument")]
    mode = str(form.get("mode") or "respondent")
    if not chosen:
        raise PageError(422, "choose_instrument")
    if mode not in MODES:
        raise PageError(422, "invalid", f"mode must be one of {', '.join(MODES)}")
    chosen = _in_order(form, chosen)
    handed = [iid for iid in chosen if service.instrument(iid).response is not None]
    if mode == "respondent" and handed:
        # one code for every questionnaire chosen, in the chosen order (a form filled in by staff
        # such as the intake is started on its own)
        sitting, token = ws.start_sitting(session, principal, code, handed, settings.sitting_code_days, ip)
        for iid in chosen:
            if iid not in handed:
                ws.start_for_handover(session, principal, code, iid, mode, ip)
        return redirect(request, "/handover", s=f"{sitting.id}.{token}")
    started = [ws.start_for_handover(session, principal, code, iid, mode, ip) for iid in chosen]
    first = started[0][0]
    if service.instrument(first.instrument, first.instrument_version).model == "intake":
        return redirect(request, f"/administrations/{first.id}/intake")
    if mode == "read_aloud":
        return redirect(request, f"/administrations/{first.id}/read-aloud/1")
    if mode == "paper":
        return redirect(request, f"/administrations/{first.id}/paper")
    query = "&".join(f"c={a.id}.{token}" for a, token in started)
    return redirect(request, f"/handover?{query}")


@router.post("/administrations/{admin_id}/new-code")
def new_code(
    request: Request,
    admin_id: str,
    principal: Writer,
    form: Form,
    session: SessionDep,
    settings: SettingsDep,
    ip: IpDep,
) -> Response:
    """A new code (the old one stops working): the sitting's, when the administration is part of one."""
    sitting_id, token = ws.reissue_code_for(session, principal, admin_id, settings.sitting_code_days, ip)
    if sitting_id is not None:
        return redirect(request, "/handover", s=f"{sitting_id}.{token}")
    return redirect(request, "/handover", c=f"{admin_id}.{token}")


def _qr(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=5, border=2, dark="#111", light="#fff")


@router.get("/handover")
def handover(
    request: Request,
    principal: Writer,
    session: SessionDep,
    ip: IpDep,
    c: Annotated[list[str] | None, Query()] = None,
    s: Annotated[str, Query(max_length=120)] = "",
) -> Response:
    """The codes to hand over, each shown only to staff who may write it and only while it is current.
    A sitting (``s``) has one code for all its instruments, with a slip to print."""
    lang = lang_of(request)
    base = str(request.base_url).rstrip("/") + "/r"
    if s:
        sitting_id, _, token = s.partition(".")
        try:
            sitting, members, sitting_code = ws.sitting_for_handover(session, principal, sitting_id, token, ip)
        except Conflict as exc:
            raise PageError(404, "code_replaced") from exc
        link = f"{base}/{token}"
        return render(
            request,
            "handover_sitting.html",
            sitting=sitting,
            titles=[_title(a.instrument, a.instrument_version, lang) for a in members],
            code=sitting_code,
            grouped=ws.group_code(token),
            link=link,
            qr=_qr(link),
            token=token,
            entry=base,
            admin_id=next((a.id for a in members if a.status == "in_progress"), members[0].id),
        )
    c = c or []
    if not c:
        raise PageError(422, "invalid", "no code to show")
    if len(c) > 8:
        raise PageError(422, "invalid", "at most eight codes at once")
    cards = []
    code: str | None = None
    for pair in c:
        admin_id, _, token = pair.partition(".")
        a, _, code = ws.open_administration(session, principal, admin_id, write=True, ip=ip)
        if not ws.token_matches(a, token):
            raise PageError(404, "code_replaced")
        link = f"{base}/{token}"
        cards.append(
            {
                "a": a,
                "title": _title(a.instrument, a.instrument_version, lang),
                "code": ws.group_code(token),
                "link": link,
                "qr": _qr(link),
                "token": token,
            }
        )
    return render(request, "handover.html", cards=cards, code=code, entry=base)


# -- read-aloud and paper entry ------------------------------------------------------------------


def _questionnaire(request: Request, session: SessionDep, principal: Principal, admin_id: str, ip: str | None):  # type: ignore[no-untyped-def]
    a, answers, code = ws.open_administration(session, principal, admin_id, write=True, ip=ip)
    inst = service.instrument(a.instrument, a.instrument_version)
    if inst.model == "intake":
        return a, answers, code, None
    return a, answers, code, forms.build(inst, lang_of(request))


def _answering(request: Request, session: SessionDep, principal: Principal, admin_id: str, ip: str | None):  # type: ignore[no-untyped-def]
    """``_questionnaire`` for a page that takes answers, or the redirect away from it: to the
    intake form for an intake instrument, to the beneficiary once the administration is submitted."""
    a, answers, code, f = _questionnaire(request, session, principal, admin_id, ip)
    if f is None:
        return redirect(request, f"/administrations/{admin_id}/intake")
    if a.status != "in_progress":
        return redirect(request, f"/beneficiaries/{code}")
    return a, answers, code, f


@router.get("/administrations/{admin_id}/read-aloud/{n}")
def read_aloud(request: Request, admin_id: str, n: int, principal: Writer, session: SessionDep, ip: IpDep) -> Response:
    if isinstance(q := _answering(request, session, principal, admin_id, ip), Response):
        return q
    a, answers, code, f = q
    items = f.items
    if not 1 <= n <= len(items):
        raise PageError(404, "not_found")
    item = items[n - 1]
    section = f.sections[item.section - 1]
    return render(
        request,
        "read_aloud.html",
        layout="focus",
        a=a,
        code=code,
        form=f,
        item=item,
        n=n,
        section=section,
        first_in_section=section.items[0].id == item.id,
        selected=f.selected(answers, item.id),
        progress=f.progress(answers),
    )


@router.post("/administrations/{admin_id}/read-aloud/{n}")
def read_aloud_save(
    request: Request, admin_id: str, n: int, principal: Writer, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    a, _, _, f = _questionnaire(request, session, principal, admin_id, ip)
    if f is None or not 1 <= n <= len(f.items):
        raise PageError(404, "not_found")
    value = form.get("answer")
    if isinstance(value, str) and value:
        ws.save_staff_answers(session, principal, admin_id, {f.items[n - 1].id: value}, ip)
    go = form.get("go")
    if go == "back" and n > 1:
        return redirect(request, f"/administrations/{admin_id}/read-aloud/{n - 1}")
    if n < len(f.items) and go != "check":
        return redirect(request, f"/administrations/{admin_id}/read-aloud/{n + 1}")
    return redirect(request, f"/administrations/{admin_id}/check")


@router.get("/administrations/{admin_id}/paper")
def paper(request: Request, admin_id: str, principal: Writer, session: SessionDep, ip: IpDep) -> Response:
    if isinstance(q := _answering(request, session, principal, admin_id, ip), Response):
        return q
    a, answers, code, f = q
    typed = {i.id: f.typed(answers.get(i.id), i.id in answers) for i in f.items}
    return _paper_page(request, a, code, f, typed, {})


def _paper_page(
    request: Request,
    a: Any,
    code: str,
    f: forms.Form,
    typed: dict[str, str],
    problems: dict[str, str],
    status: int = 200,
) -> Response:
    missing = sum(1 for v in typed.values() if v in ("", "-"))
    return render(
        request,
        "paper.html",
        status=status,
        a=a,
        code=code,
        form=f,
        typed=typed,
        problems=problems,
        missing=missing,
        keys=json.dumps(f.keys),
    )


@router.post("/administrations/{admin_id}/paper")
def paper_save(
    request: Request, admin_id: str, principal: Writer, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    """Save the whole sheet: every entry is checked first; one wrong entry saves nothing."""
    a, answers, code, f = _questionnaire(request, session, principal, admin_id, ip)
    if f is None:
        raise PageError(404, "not_found")
    typed = {i.id: str(form.get(i.id) or "").strip()[:8] for i in f.items}
    changes: dict[str, object] = {}
    for item, value in typed.items():
        if value:
            changes[item] = value
        elif item in answers:  # cleared on the sheet: now missing
            changes[item] = None
    problems = ws.answer_problems(a.instrument, a.instrument_version, changes)
    if problems:
        return _paper_page(request, a, code, f, typed, problems, status=422)
    if changes:
        ws.save_staff_answers(session, principal, admin_id, changes, ip)
    if form.get("go") == "check":
        return redirect(request, f"/administrations/{admin_id}/check")
    return redirect(request, f"/administrations/{admin_id}/paper")


@router.get("/administrations/{admin_id}/check")
def check(request: Request, admin_id: str, principal: Writer, session: SessionDep, ip: IpDep) -> Response:
    """Before submitting: what is missing, with a way back to each item."""
    if isinstance(q := _answering(request, session, principal, admin_id, ip), Response):
        return q
    a, answers, code, f = q
    missing = [i for i in f.items if answers.get(i.id) is None]
    return render(request, "check.html", a=a, code=code, form=f, missing=missing, progress=f.progress(answers))


@router.post("/administrations/{admin_id}/submit")
def submit(request: Request, admin_id: str, principal: Writer, form: Form, session: SessionDep, ip: IpDep) -> Response:
    result = ws.submit_staff(session, principal, admin_id, ip)
    if principal.can("results.read"):
        return redirect(request, f"/results/{result.id}")
    return redirect(request, f"/beneficiaries/{pk.find_code(session, result.beneficiary_id)}")


# -- results, comparison, reports ----------------------------------------------------------------


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
    profile = ws.report_profile(session, principal, vault, settings, code, "psychologist", [r.id], ip=ip)
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


@router.post("/administrations/{admin_id}/discard")
def discard(request: Request, admin_id: str, principal: Writer, form: Form, session: SessionDep, ip: IpDep) -> Response:
    """Discard an administration started by mistake (a reason is required)."""
    a = results.discard(session, principal, admin_id, str(form.get("reason") or ""), ip)
    assert a.beneficiary_id is not None  # staff never reach a study participant's administration
    return redirect(request, f"/beneficiaries/{pk.find_code(session, a.beneficiary_id)}")


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
    profile = ws.report_profile(session, principal, vault, settings, code, "psychologist", [after], before, ip)
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
        title=_title(a.instrument, a.instrument_version, lang_of(request)),
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
    profile = ws.report_profile(
        session, principal, vault, settings, code, audience, result or None, ip=ip, norms=chosen_norms or None
    )
    if format == "pdf":
        data = reports.render_pdf(profile, report_lang, audience)
    elif format == "html":
        data = reports.render_html(profile, report_lang, audience).encode("utf-8")
    else:
        data = reports.render_json(profile, report_lang, audience).encode("utf-8")
    return file_response(request, data, FORMATS[format], f"report-{code}-{audience}-{report_lang}.{format}")
