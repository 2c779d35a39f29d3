"""The social worker's intake form: saved as a draft field by field, every field checked before
anything is written, submitted when the required fields are filled in.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from api import scoring_facade as facade
from api.deps import IpDep, SessionDep
from api.domain import administrations as adm
from api.domain.access import Principal

from . import forms
from .core import Form, Need, PageError, WebRoute, lang_of, redirect, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)

Writer = Annotated[Principal, Depends(Need("administrations.write"))]


def _intake_answers(inst: Any, form: Any) -> dict[str, object]:
    """The posted form → one answer per field; an emptied field is saved as missing."""
    out: dict[str, object] = {}
    for f in inst.fields:
        if f.type == "multi":
            value: str | None = ";".join(str(v) for v in form.getlist(f.id) if v) or None
        elif f.type == "occupations":
            parts = [str(form.get(f"{f.id}_{k}") or "").strip().replace(";", ",")[:120] for k in (1, 2, 3)]
            value = ";".join(p for p in parts if p) or None
        else:
            value = str(form.get(f.id) or "").strip()[:2000] or None
        out[f.id] = value
    return out


def _intake_page(
    request: Request, a: Any, code: str, answers: dict[str, Any], problems: dict[str, str], status: int = 200
) -> Response:
    lang = lang_of(request)
    inst = facade.instrument(a.instrument, a.instrument_version)
    role = inst.role("aspirations")
    occupations = [v for v in str(answers.get(role.id) or "").split(";") if v] if role is not None else []
    return render(
        request,
        "intake.html",
        status=status,
        a=a,
        code=code,
        title=inst.title.get(lang),
        sections=forms.intake_sections(inst, lang),
        values={k: ("" if v is None else str(v)) for k, v in answers.items()},
        chosen=lambda fid: [v for v in str(answers.get(fid) or "").split(";") if v],
        occupations=occupations + [""] * (3 - len(occupations)),
        suggestions=forms.occupation_choices(lang),
        problems=problems,
    )


@router.get("/administrations/{admin_id}/intake")
def intake(request: Request, admin_id: str, principal: Writer, session: SessionDep, ip: IpDep) -> Response:
    a, answers, code = adm.open_for_staff(session, principal, admin_id, write=True, ip=ip)
    if facade.instrument(a.instrument, a.instrument_version).model != "intake":
        return redirect(request, f"/administrations/{admin_id}/paper")
    if a.status != "in_progress":
        return redirect(request, f"/beneficiaries/{code}")
    return _intake_page(request, a, code, answers, {})


@router.post("/administrations/{admin_id}/intake")
def intake_save(
    request: Request, admin_id: str, principal: Writer, form: Form, session: SessionDep, ip: IpDep
) -> Response:
    """Save the form (every field checked first; nothing saved if one is wrong); submit if asked."""
    a, _, code = adm.open_for_staff(session, principal, admin_id, write=True, ip=ip)
    if facade.instrument(a.instrument, a.instrument_version).model != "intake":
        raise PageError(404, "not_found")
    inst = facade.instrument(a.instrument, a.instrument_version)
    posted = _intake_answers(inst, form)
    problems = adm.answer_problems(a.instrument, a.instrument_version, posted)
    if problems:
        return _intake_page(request, a, code, posted, problems, status=422)
    adm.save_for_staff(session, principal, admin_id, posted, ip)
    if form.get("go") != "submit":
        return redirect(request, f"/beneficiaries/{code}", saved="intake")
    missing = adm.submit_problems(a, posted)
    if missing:  # the draft stays saved; the required fields are pointed out
        return _intake_page(request, a, code, posted, dict.fromkeys(missing, "required"), status=422)
    adm.submit_for_staff(session, principal, admin_id, ip)
    return redirect(request, f"/beneficiaries/{code}", saved="intake_submitted")
