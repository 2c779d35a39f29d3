"""Administering an instrument: start one or more (a sitting with one code), hand the code
over (QR and a printable slip), read the items aloud, key in a paper sheet, check what is
missing, submit, or discard an administration started by mistake.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from api import scoring_facade as facade
from api.deps import IpDep, SessionDep, SettingsDep
from api.domain import administrations as adm
from api.domain import handover, results, sittings
from api.domain import packets as pk
from api.domain.access import Principal
from api.domain.errors import Conflict

from . import forms
from .core import Form, Need, PageError, WebRoute, instrument_title, lang_of, redirect, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
MODES = adm.MODES

Writer = Annotated[Principal, Depends(Need("administrations.write"))]


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
    handed = [iid for iid in chosen if facade.instrument(iid).response is not None]
    if mode == "respondent" and handed:
        # one code for every questionnaire chosen, in the chosen order (a form filled in by staff
        # such as the intake is started on its own)
        sitting, token, _ = sittings.start(session, principal, code, handed, settings.sitting_code_days, ip)
        for iid in chosen:
            if iid not in handed:
                handover.start_for_handover(session, principal, code, iid, mode, ip)
        return redirect(request, "/handover", s=f"{sitting.id}.{token}")
    started = [handover.start_for_handover(session, principal, code, iid, mode, ip) for iid in chosen]
    first = started[0][0]
    if facade.instrument(first.instrument, first.instrument_version).model == "intake":
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
    sitting_id, token = handover.reissue_code_for(session, principal, admin_id, settings.sitting_code_days, ip)
    if sitting_id is not None:
        return redirect(request, "/handover", s=f"{sitting_id}.{token}")
    return redirect(request, "/handover", c=f"{admin_id}.{token}")


def _qr(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=5, border=2, dark="#111", light="#fff")


@router.get("/handover")
def handover_page(
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
            sitting, members, sitting_code = sittings.for_handover(session, principal, sitting_id, token, ip)
        except Conflict as exc:
            raise PageError(404, "code_replaced") from exc
        link = f"{base}/{token}"
        return render(
            request,
            "handover_sitting.html",
            sitting=sitting,
            titles=[instrument_title(a.instrument, a.instrument_version, lang) for a in members],
            code=sitting_code,
            grouped=handover.group_code(token),
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
        a, _, code = adm.open_for_staff(session, principal, admin_id, write=True, ip=ip)
        if not handover.token_matches(a, token):
            raise PageError(404, "code_replaced")
        link = f"{base}/{token}"
        cards.append(
            {
                "a": a,
                "title": instrument_title(a.instrument, a.instrument_version, lang),
                "code": handover.group_code(token),
                "link": link,
                "qr": _qr(link),
                "token": token,
            }
        )
    return render(request, "handover.html", cards=cards, code=code, entry=base)


def _questionnaire(request: Request, session: SessionDep, principal: Principal, admin_id: str, ip: str | None):  # type: ignore[no-untyped-def]
    a, answers, code = adm.open_for_staff(session, principal, admin_id, write=True, ip=ip)
    inst = facade.instrument(a.instrument, a.instrument_version)
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
        adm.save_for_staff(session, principal, admin_id, {f.items[n - 1].id: value}, ip)
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
    problems = adm.answer_problems(a.instrument, a.instrument_version, changes)
    if problems:
        return _paper_page(request, a, code, f, typed, problems, status=422)
    if changes:
        adm.save_for_staff(session, principal, admin_id, changes, ip)
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
    given = list(a.aspirations or [])
    return render(
        request,
        "check.html",
        a=a,
        code=code,
        form=f,
        missing=missing,
        progress=f.progress(answers),
        asks_aspirations=adm.asks_aspirations(a),
        aspiration_values=given + [""] * (adm.MAX_ASPIRATIONS - len(given)),
        suggestions=forms.occupation_choices(lang_of(request)) if adm.asks_aspirations(a) else [],
    )


@router.post("/administrations/{admin_id}/aspirations")
def save_aspirations(
    request: Request, admin_id: str, principal: Writer, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    """The aspired occupations the person named, keyed in by the psychologist (read-aloud or paper)."""
    a = adm.staff_administration(session, principal, admin_id, write=True)
    texts = [str(form.get(f"aspiration_{k}") or "") for k in range(1, adm.MAX_ASPIRATIONS + 1)]
    adm.set_aspirations(session, a, texts, principal.actor, ip)
    return redirect(request, f"/administrations/{admin_id}/check")


@router.post("/administrations/{admin_id}/submit")
def submit(request: Request, admin_id: str, principal: Writer, form: Form, session: SessionDep, ip: IpDep) -> Response:
    result = adm.submit_for_staff(session, principal, admin_id, ip)
    if principal.can("results.read"):
        return redirect(request, f"/results/{result.id}")
    return redirect(request, f"/beneficiaries/{pk.find_code(session, result.beneficiary_id)}")


@router.post("/administrations/{admin_id}/discard")
def discard(request: Request, admin_id: str, principal: Writer, form: Form, session: SessionDep, ip: IpDep) -> Response:
    """Discard an administration started by mistake (a reason is required)."""
    a = results.discard(session, principal, admin_id, str(form.get("reason") or ""), ip)
    assert a.beneficiary_id is not None  # staff never reach a study participant's administration
    return redirect(request, f"/beneficiaries/{pk.find_code(session, a.beneficiary_id)}")
