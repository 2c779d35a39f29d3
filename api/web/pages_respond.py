"""Respondent mode: a person answers with the link or code the psychologist handed over.

No sign-in; the code is the key. One section per page with its own instructions,
a progress indicator, every answer saved as it is given (by the page's script
through ``PATCH /v1/respond/{token}/answers``, and again by the form when the
person moves on, so it works without JavaScript too). Nothing clinical is ever
shown here, not even at the end.

Answering time for the "too fast" flag: the page's script measures active time (page
visible, at most ``ACTIVE_SECONDS_CAP`` per answer interval) and sends it as increments
with each autosave and, in a hidden ``active_seconds`` field, with the form. A form posted
without that field (no script) saves its answers untimed, which leaves the total unknown.
Nothing about time is ever shown to the respondent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import service
from api.db.tables import Administration
from api.deps import IpDep, SessionDep
from api.domain import administrations as adm_domain
from api.domain import web_support as ws
from api.domain.errors import NotFound, TooManyAttempts

from . import forms
from .core import Form, PageError, WebRoute, lang_of, redirect, render

router = APIRouter(prefix="/r", route_class=WebRoute, include_in_schema=False)


def _form(request: Request, a: Administration) -> forms.Form:
    inst = service.instrument(a.instrument, a.instrument_version)
    if inst.model == "intake":  # filled in by the social worker, never handed over
        raise PageError(404, "not_found")
    return forms.build(inst, lang_of(request))


def _open(request: Request, session: SessionDep, token: str, page: str, ip: str | None):  # type: ignore[no-untyped-def]
    a, answers = ws.respondent_open(session, token, page, ip)
    return a, answers, _form(request, a)


Answers = dict[str, str | None]


def _page(
    request: Request,
    session: SessionDep,
    token: str,
    page: str,
    ip: str | None,
    template: str,
    context: Callable[[forms.Form, Answers], dict[str, Any]],
) -> Response:
    """A respondent page of an administration in progress (else on to the end page)."""
    a, answers, f = _open(request, session, token, page, ip)
    if a.status != "in_progress":
        return redirect(request, f"/r/{token}/done")
    return render(
        request,
        template,
        layout="respondent",
        form=f,
        token=token,
        progress=f.progress(answers),
        **context(f, answers),
    )


@router.get("")
def enter_code(request: Request, idle: str | None = None) -> Response:
    """The code page (also where an idle respondent page returns to)."""
    return render(request, "respond/code.html", layout="respondent", error="idle" if idle else False, code="")


@router.post("")
def open_code(request: Request, form: Form, session: SessionDep, ip: IpDep) -> Response:
    typed = str(form.get("code") or "")[:200]
    try:
        _, token = ws.find_by_code(session, typed, ip)
    except NotFound:  # the route returns normally: the wrong code's count and audit entry are committed
        return render(request, "respond/code.html", status=404, layout="respondent", error=True, code=typed)
    except TooManyAttempts as exc:
        return render(
            request,
            "respond/code.html",
            status=429,
            layout="respondent",
            error="paused",
            minutes=max(1, -(-exc.retry_after // 60)),
            code="",
        )
    return redirect(request, f"/r/{token}")


@router.get("/{token}")
def welcome(request: Request, token: str, session: SessionDep, ip: IpDep) -> Response:
    return _page(
        request,
        session,
        token,
        "start",
        ip,
        "respond/welcome.html",
        lambda f, answers: {"next_part": min(f.first_open_section(answers), len(f.sections))},
    )


@router.get("/{token}/part/{n}")
def part(request: Request, token: str, n: int, session: SessionDep, ip: IpDep) -> Response:
    def context(f: forms.Form, answers: Answers) -> dict[str, Any]:
        if not 1 <= n <= len(f.sections):
            raise PageError(404, "not_found")
        return {
            "section": f.sections[n - 1],
            "answers": answers,
            "selected": lambda item: f.selected(answers, item),
            "cap": f"{adm_domain.ACTIVE_SECONDS_CAP:g}",
        }

    return _page(request, session, token, f"part {n}", ip, "respond/part.html", context)


@router.post("/{token}/part/{n}")
def save_part(request: Request, token: str, n: int, form: Form, session: SessionDep, ip: IpDep) -> Response:
    """The no-script path (and the safety net): save what the page holds, then move on."""
    a = adm_domain.by_code(session, token, ip, lock=True)
    f = _form(request, a)
    if not 1 <= n <= len(f.sections):
        raise PageError(404, "not_found")
    if a.status != "in_progress":
        return redirect(request, f"/r/{token}/done")
    section = f.sections[n - 1]
    answers = {i.id: str(form[i.id]) for i in section.items if form.get(i.id)}
    active = form.get("active_seconds")  # set by the page's script only: without it, nothing is known
    timed = isinstance(active, str)
    if timed:
        adm_domain.check_active_seconds(active, len(section.items))
    if answers:
        adm_domain.save_answers(session, a, answers, "respondent", ip, timed=timed)
    if timed:
        increment = form.get("increment_id")
        adm_domain.add_active_seconds(
            session, a, active, len(section.items), increment if isinstance(increment, str) else None
        )
    if form.get("go") == "back" and n > 1:
        return redirect(request, f"/r/{token}/part/{n - 1}")
    if n < len(f.sections) and form.get("go") != "review":
        return redirect(request, f"/r/{token}/part/{n + 1}")
    return redirect(request, f"/r/{token}/review")


@router.get("/{token}/review")
def review(request: Request, token: str, session: SessionDep, ip: IpDep) -> Response:
    return _page(
        request,
        session,
        token,
        "review",
        ip,
        "respond/review.html",
        lambda f, answers: {
            "open_parts": [(s, len(f.open_in(s, answers))) for s in f.sections if f.open_in(s, answers)]
        },
    )


@router.post("/{token}/submit")
def submit(request: Request, token: str, form: Form, session: SessionDep, ip: IpDep) -> Response:
    a = adm_domain.by_code(session, token, ip, lock=True)
    _form(request, a)
    if a.status == "in_progress":
        adm_domain.submit(session, a, "respondent", None, ip)
    return redirect(request, f"/r/{token}/done")


@router.get("/{token}/done")
def done(request: Request, token: str, session: SessionDep, ip: IpDep) -> Response:
    a, _, f = _open(request, session, token, "done", ip)
    if a.status == "in_progress":
        return redirect(request, f"/r/{token}")
    return render(
        request,
        "respond/done.html",
        layout="respondent",
        form=f,
        code="",
        error=False,
        token=token,
        study=a.participant_id is not None,  # a study participant goes on to the study's next part
    )
