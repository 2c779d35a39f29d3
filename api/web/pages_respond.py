"""Respondent mode: a person answers with the link or code the psychologist handed over.

No sign-in; the code is the key. A code may open one administration or a **sitting**: several
instruments one after another, in the psychologist's order, with a calm break screen between
them ("you can stop here and continue another day"). The code always leads to the first
instrument still in progress, so the same code continues on any device, any day.

Each instrument is shown on short pages (``page_size`` items of one section, from the
definition; 10 by default), with its own instructions at the start of each section, a progress
line for the instrument and for the whole sitting, every answer saved as it is given (by the
page's script through ``PATCH /v1/respond/{token}/answers``, and again by the form when the person
moves on, so it works without JavaScript too). "Continue" opens the page of the first open item and
scrolls to it; the review page names the open items by number with a link to each. Nothing clinical
is ever shown here, not even at the end.

Every form and autosave names the administration it was shown for: when the sitting has moved on
(the instrument was finished on another device) the answer is not saved into the next instrument,
the page is shown again instead.

Answering time for the "too fast" flag: the page's script measures active time (page
visible, at most ``ACTIVE_SECONDS_CAP`` per answer interval) and sends it as increments
with each autosave and, in a hidden ``active_seconds`` field, with the form. A form posted
without that field (no script) saves its answers untimed, which leaves the total unknown.
Nothing about time is ever shown to the respondent.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api import scoring_facade as facade
from api.deps import IpDep, SessionDep
from api.domain import administrations as adm_domain
from api.domain import handover
from api.domain.errors import CodeExpired, NotFound, TooManyAttempts

from . import forms
from .core import Form, PageError, WebRoute, lang_of, redirect, render

router = APIRouter(prefix="/r", route_class=WebRoute, include_in_schema=False)

Answers = dict[str, str | None]


def _form(request: Request, a: Any) -> forms.Form:
    inst = facade.instrument(a.instrument, a.instrument_version)
    if inst.model == "intake":  # filled in by the social worker, never handed over
        raise PageError(404, "not_found")
    return forms.build(inst, lang_of(request))


def _resume_link(token: str, f: forms.Form, answers: Answers) -> str:
    """The page of the first open item, scrolled to it (the last page when none is open)."""
    page, item = f.resume_at(answers)
    return f"/r/{token}/part/{page}" + (f"#item-{item.id}" if item is not None else "")


def _sitting(request: Request, place: Any, answers: dict[str, Answers]) -> dict[str, Any]:
    """What every respondent page says about the whole sitting: each instrument's title, state and
    progress, and the sitting's progress (items answered or skipped of all items)."""
    rows = []
    for k, a in enumerate(place.members, start=1):
        f = _form(request, a)
        p = f.progress(answers[a.id])
        rows.append({"k": k, "title": f.title, "status": a.status, "current": a.id == place.adm.id, **p})
    return {
        "sitting": rows,
        "sitting_progress": {"done": sum(r["done"] for r in rows), "total": sum(r["total"] for r in rows)},
        "position": place.position,
        "count": len(place.members),
    }


def _open(request: Request, session: SessionDep, token: str, page: str, ip: str | None):  # type: ignore[no-untyped-def]
    place, answers = handover.respondent_place(session, token, page, ip)
    a = place.adm
    return place, a, answers[a.id], _form(request, a), _sitting(request, place, answers)


@router.get("")
def enter_code(request: Request, idle: str | None = None) -> Response:
    """The code page (also where an idle respondent page returns to)."""
    return render(request, "respond/code.html", layout="respondent", error="idle" if idle else False, code="")


@router.post("")
def open_code(request: Request, form: Form, session: SessionDep, ip: IpDep) -> Response:
    typed = str(form.get("code") or "")[:200]
    try:
        _, token = handover.find_by_code(session, typed, ip)
    except CodeExpired:
        return render(request, "respond/code.html", status=404, layout="respondent", error="expired", code=typed)
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


def _expired(request: Request) -> Response:
    return render(request, "respond/code.html", status=404, layout="respondent", error="expired", code="")


@router.get("/{token}")
def welcome(request: Request, token: str, session: SessionDep, ip: IpDep) -> Response:
    try:
        place, a, answers, f, sit = _open(request, session, token, "start", ip)
    except CodeExpired:
        return _expired(request)
    if a.status != "in_progress":
        return redirect(request, f"/r/{token}/done")
    progress = f.progress(answers)
    return render(
        request,
        "respond/welcome.html",
        layout="respondent",
        form=f,
        token=token,
        progress=progress,
        resume=_resume_link(token, f, answers) if progress["done"] < progress["total"] else f"/r/{token}/review",
        **sit,
    )


@router.get("/{token}/part/{n}")
def part(request: Request, token: str, n: int, session: SessionDep, ip: IpDep) -> Response:
    try:
        place, a, answers, f, sit = _open(request, session, token, f"part {n}", ip)
    except CodeExpired:
        return _expired(request)
    if a.status != "in_progress":
        return redirect(request, f"/r/{token}/done")
    pages = f.pages
    if not 1 <= n <= len(pages):
        raise PageError(404, "not_found")
    return render(
        request,
        "respond/part.html",
        layout="respondent",
        form=f,
        token=token,
        progress=f.progress(answers),
        page=pages[n - 1],
        pages=len(pages),
        section=pages[n - 1].section,
        answers=answers,
        selected=lambda item: f.selected(answers, item),
        cap=f"{adm_domain.ACTIVE_SECONDS_CAP:g}",
        administration=a.id,
        **sit,
    )


def _same_administration(form: Any, a: Any) -> bool:
    """Whether a posted form was shown for ``a`` (the sitting may have moved on since)."""
    shown = form.get("administration")
    return not isinstance(shown, str) or not shown or shown == a.id


@router.post("/{token}/part/{n}")
def save_part(request: Request, token: str, n: int, form: Form, session: SessionDep, ip: IpDep) -> Response:
    """The no-script path (and the safety net): save what the page holds, then move on."""
    a = adm_domain.by_code(session, token, ip, lock=True)
    f = _form(request, a)
    pages = f.pages
    if not _same_administration(form, a):  # finished elsewhere: show where the code leads now
        return redirect(request, f"/r/{token}")
    if not 1 <= n <= len(pages):
        raise PageError(404, "not_found")
    if a.status != "in_progress":
        return redirect(request, f"/r/{token}/done")
    shown = pages[n - 1].items
    answers = {i.id: str(form[i.id]) for i in shown if form.get(i.id)}
    active = form.get("active_seconds")  # set by the page's script only: without it, nothing is known
    timed = isinstance(active, str)
    if timed:
        adm_domain.check_active_seconds(active, len(shown))
    if answers:
        adm_domain.save_answers(session, a, answers, "respondent", ip, timed=timed)
    if timed:
        increment = form.get("increment_id")
        adm_domain.add_active_seconds(session, a, active, len(shown), increment if isinstance(increment, str) else None)
    if form.get("go") == "back" and n > 1:
        return redirect(request, f"/r/{token}/part/{n - 1}")
    if n < len(pages) and form.get("go") != "review":
        return redirect(request, f"/r/{token}/part/{n + 1}")
    if n == len(pages) and form.get("go") != "review" and adm_domain.asks_aspirations(a):
        return redirect(request, f"/r/{token}/aspirations")
    return redirect(request, f"/r/{token}/review")


@router.get("/{token}/aspirations")
def aspirations(request: Request, token: str, session: SessionDep, ip: IpDep) -> Response:
    """After the last statements of a Holland questionnaire: which occupations the person has
    thought about (up to three, chosen from the catalogue by typing in Georgian or English, or in
    their own words). Optional: "Continue" with nothing typed is a fine answer."""
    try:
        place, a, answers, f, sit = _open(request, session, token, "aspirations", ip)
    except CodeExpired:
        return _expired(request)
    if a.status != "in_progress":
        return redirect(request, f"/r/{token}/done")
    if not adm_domain.asks_aspirations(a):
        return redirect(request, f"/r/{token}/review")
    given = list(a.aspirations or [])
    return render(
        request,
        "respond/aspirations.html",
        layout="respondent",
        form=f,
        token=token,
        progress=f.progress(answers),
        values=given + [""] * (adm_domain.MAX_ASPIRATIONS - len(given)),
        suggestions=forms.occupation_choices(lang_of(request)),
        last_page=len(f.pages),
        administration=a.id,
        error=None,
        **sit,
    )


@router.post("/{token}/aspirations")
def save_aspirations(request: Request, token: str, form: Form, session: SessionDep, ip: IpDep) -> Response:
    a = adm_domain.by_code(session, token, ip, lock=True)
    f = _form(request, a)
    if not _same_administration(form, a):
        return redirect(request, f"/r/{token}")
    if a.status != "in_progress":
        return redirect(request, f"/r/{token}/done")
    texts = [str(form.get(f"aspiration_{k}") or "") for k in range(1, adm_domain.MAX_ASPIRATIONS + 1)]
    adm_domain.set_aspirations(session, a, texts, "respondent", ip)
    if form.get("go") == "back":
        return redirect(request, f"/r/{token}/part/{len(f.pages)}")
    return redirect(request, f"/r/{token}/review")


@router.get("/{token}/review")
def review(request: Request, token: str, session: SessionDep, ip: IpDep) -> Response:
    try:
        place, a, answers, f, sit = _open(request, session, token, "review", ip)
    except CodeExpired:
        return _expired(request)
    if a.status != "in_progress":
        return redirect(request, f"/r/{token}/done")
    open_items = [(i, f.page_of(i.id)) for i in f.open_items(answers)]
    return render(
        request,
        "respond/review.html",
        asks_aspirations=adm_domain.asks_aspirations(a),
        aspirations=list(a.aspirations or []),
        layout="respondent",
        form=f,
        token=token,
        progress=f.progress(answers),
        open_items=open_items,
        last_page=len(f.pages),
        administration=a.id,
        **sit,
    )


@router.post("/{token}/submit")
def submit(request: Request, token: str, form: Form, session: SessionDep, ip: IpDep) -> Response:
    a = adm_domain.by_code(session, token, ip, lock=True)
    _form(request, a)
    if not _same_administration(form, a):
        return redirect(request, f"/r/{token}")
    if a.status == "in_progress":
        adm_domain.submit(session, a, "respondent", None, ip)
        if a.sitting_id is not None and adm_domain.current_of(session, a.sitting_id).status == "in_progress":
            return redirect(request, f"/r/{token}/break")
    return redirect(request, f"/r/{token}/done")


@router.get("/{token}/break")
def pause(request: Request, token: str, session: SessionDep, ip: IpDep) -> Response:
    """Between two instruments of a sitting: a calm stop, with the way on and the way out."""
    try:
        place, a, answers, f, sit = _open(request, session, token, "break", ip)
    except CodeExpired:
        return _expired(request)
    if a.status != "in_progress":
        return redirect(request, f"/r/{token}/done")
    return render(
        request,
        "respond/break.html",
        layout="respondent",
        form=f,
        token=token,
        progress=f.progress(answers),
        resume=_resume_link(token, f, answers),
        finished=sum(1 for r in sit["sitting"] if r["status"] == "submitted"),
        **sit,
    )


@router.get("/{token}/done")
def done(request: Request, token: str, session: SessionDep, ip: IpDep) -> Response:
    try:
        place, a, _, f, sit = _open(request, session, token, "done", ip)
    except CodeExpired:
        return _expired(request)
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
        **sit,
    )
