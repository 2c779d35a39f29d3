"""A study participant's pages: no sign-in, no name. The participation code opens the study;
the consent text comes first (the person may decline, and then nothing more is asked), then the
demographic questions, then each instrument in respondent mode (``/r/{token}``, the same pages
as every respondent). The end page of each instrument leads on to the next (``POST /s/next``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

import reports
from api.deps import IpDep, SessionDep, WriteSessionDep
from api.domain import studies
from api.domain.errors import Invalid, NotFound, TooManyAttempts

from .core import Form, PageError, WebRoute, lang_of, redirect, render

router = APIRouter(prefix="/s", route_class=WebRoute, include_in_schema=False)


def _today(request: Request):  # type: ignore[no-untyped-def]
    return reports.today(request.app.state.settings.time_zone)


def _open(request: Request, session: SessionDep, code: str, ip: str | None, lock: bool = False):  # type: ignore[no-untyped-def]
    try:
        return studies.participant(session, code, ip, lock=lock)
    except NotFound as exc:
        raise PageError(404, "not_found") from exc


@router.get("")
def enter_code(request: Request) -> Response:
    return render(request, "study/code.html", layout="respondent", error=False, code="")


@router.post("")
def open_code(request: Request, form: Form, session: SessionDep, ip: IpDep) -> Response:
    typed = str(form.get("code") or "")[:200]
    try:
        studies.participant(session, typed, ip)
    except NotFound:  # returns normally: the wrong code's count and audit entry are committed
        return render(request, "study/code.html", status=404, layout="respondent", error=True, code=typed)
    except TooManyAttempts:
        return render(request, "study/code.html", status=429, layout="respondent", error="paused", code="")
    return redirect(request, f"/s/{studies.normalize_code(typed)}")


@router.get("/{code}")
def step(request: Request, code: str, session: WriteSessionDep, ip: IpDep) -> Response:
    """The participant's next step: consent, declined, closed, about, an instrument, or thanks.
    A visit may start the next instrument and hands out a fresh token: a write, with the
    participant's row locked (two devices on one code take turns)."""
    study, p = _open(request, session, code, ip, lock=True)
    where, token = studies.next_step(session, study, p, _today(request))
    if where == "answer":
        return redirect(request, f"/r/{token}")
    lang = lang_of(request)
    return render(
        request,
        f"study/{where}.html",
        layout="respondent",
        code=code,
        title=studies.title(study, lang),
        purpose=study.purpose_ka if lang == "ka" else study.purpose_en,
        consent=study.consent_ka if lang == "ka" else study.consent_en,
        questions=study.questions,
        instruments=len(study.instruments),
        error=None,
        values={},
    )


@router.post("/{code}/consent")
def consent(request: Request, code: str, form: Form, session: SessionDep, ip: IpDep) -> Response:
    decision = form.get("decision")
    if decision not in ("accept", "decline"):
        raise PageError(422, "invalid", "choose to take part or not")
    _open(request, session, code, ip)
    studies.answer_consent(session, code, decision == "accept", _today(request), ip)
    return redirect(request, f"/s/{code}")


@router.post("/{code}/about")
def about(request: Request, code: str, form: Form, session: SessionDep, ip: IpDep) -> Response:
    study, _ = _open(request, session, code, ip)
    answers = {q["id"]: str(form.get(q["id"]) or "") for q in study.questions}
    try:
        with session.begin_nested():
            studies.save_about(session, code, answers, _today(request), ip)
    except Invalid as exc:
        lang = lang_of(request)
        return render(
            request,
            "study/about.html",
            status=422,
            layout="respondent",
            code=code,
            title=studies.title(study, lang),
            questions=study.questions,
            error=exc.extra.get("field"),
            values=answers,
        )
    return redirect(request, f"/s/{code}")


@router.post("/next")
def next_part(request: Request, form: Form, session: SessionDep, ip: IpDep) -> Response:
    """From the end page of one instrument on to the next one (or the thanks page)."""
    token = str(form.get("token") or "")[:64]
    where, new = studies.continue_after(session, token, _today(request), ip)
    if where == "answer":
        return redirect(request, f"/r/{new}")
    return render(request, f"study/{where if where in ('done', 'closed') else 'done'}.html", layout="respondent")
