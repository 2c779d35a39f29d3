"""Reports from stored results: one instrument's report, the integrated primary
career-orientation profile, and a sent packet as the addressee sees it.

Who may ask for which audience: the psychologist (and admin) any; the social
worker the employment audience (what a packet shows); the addressee of a sent
packet only that packet, rendered from exactly the results and parts it carries.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import instruments
import reports
from api.db.tables import Answer, Packet, Result, User
from api.settings import Settings

from . import audit
from .access import Principal
from .beneficiaries import find
from .errors import Forbidden, Invalid, NotFound
from .packets import find_code, read_packet

FORMATS = ("html", "pdf", "json")
INSTRUMENTS = ("intake", "vdq", "sds", "ppi")


def _check(principal: Principal, audience: str, lang: str, fmt: str) -> None:
    principal.require("reports.read")
    if audience not in reports.AUDIENCES:
        raise Invalid(f"audience must be one of {', '.join(reports.AUDIENCES)}", field="audience", value=audience)
    if lang not in reports.LANGS:
        raise Invalid("lang must be ka or en", field="lang", value=lang)
    if fmt not in FORMATS:
        raise Invalid(f"format must be one of {', '.join(FORMATS)}", field="format", value=fmt)
    if principal.kind == "user" and principal.role == "social_worker" and audience != "employment":
        raise Forbidden("a social worker sees the employment department's version of a report")


def _row(session: Session, r: Result) -> dict[str, Any]:
    """A stored result as the row ``reports.build_profile`` reads (intake: answers + scores)."""
    row: dict[str, Any] = dict(r.scores)
    row.pop("id", None)
    if r.instrument == "intake":
        answers = {
            a.item: a.value
            for a in session.execute(select(Answer).where(Answer.administration_id == r.administration_id)).scalars()
        }
        row = {**answers, **row}
    return row


def _render(profile: reports.Profile, lang: str, audience: str, fmt: str, clinical: bool) -> tuple[bytes, str]:
    if fmt == "pdf":
        return reports.render_pdf(profile, lang, audience, consent_includes_clinical=clinical), "application/pdf"
    if fmt == "json":
        text = reports.render_json(profile, lang, audience, consent_includes_clinical=clinical)
        return text.encode("utf-8"), "application/json"
    html = reports.render_html(profile, lang, audience, consent_includes_clinical=clinical)
    return html.encode("utf-8"), "text/html; charset=utf-8"


def _config(settings: Settings) -> reports.ReportConfig:
    return reports.ReportConfig(fund_name=instruments.Text(ka=settings.fund_name_ka, en=settings.fund_name_en))


def _administrator(session: Session, results: list[Result]) -> str:
    ids = {r.created_by for r in results if r.created_by is not None}
    names = [u.username for u in session.execute(select(User).where(User.id.in_(ids))).scalars()] if ids else []
    return ", ".join(sorted(names))


def _profile(session: Session, settings: Settings, code: str, results: dict[str, Result]) -> reports.Profile:
    chosen = list(results.values())
    dates = [r.created_at for r in chosen]
    return reports.build_profile(
        code,
        **{k: _row(session, r) for k, r in results.items()},
        administrator=_administrator(session, chosen),
        administered=max(dates).date() if dates else None,
        report_date=dt.date.today(),
        config=_config(settings),
    )


def latest_results(session: Session, beneficiary_id: int) -> dict[str, Result]:
    out: dict[str, Result] = {}
    for r in session.execute(
        select(Result).where(Result.beneficiary_id == beneficiary_id).order_by(Result.created_at)
    ).scalars():
        if r.instrument in INSTRUMENTS:
            out[r.instrument] = r  # later rows (re-scorings included) replace earlier ones
    return out


def result_report(
    session: Session,
    principal: Principal,
    settings: Settings,
    result_id: str,
    lang: str,
    audience: str,
    fmt: str,
    ip: str | None = None,
) -> tuple[bytes, str]:
    _check(principal, audience, lang, fmt)
    r = session.get(Result, result_id)
    if r is None or r.instrument not in INSTRUMENTS:
        raise NotFound(f"no result {result_id!r}", field="result", value=result_id)
    code = find_code(session, r.beneficiary_id)
    profile = _profile(session, settings, code, {r.instrument: r})
    audit.append(
        session,
        principal.actor,
        "report",
        "result",
        r.id,
        code,
        ip,
        {"audience": audience, "lang": lang, "format": fmt},
    )
    return _render(profile, lang, audience, fmt, clinical=False)


def profile_report(
    session: Session,
    principal: Principal,
    settings: Settings,
    code: str,
    lang: str,
    audience: str,
    fmt: str,
    ip: str | None = None,
) -> tuple[bytes, str]:
    """The integrated primary career-orientation profile from the latest result of each instrument."""
    _check(principal, audience, lang, fmt)
    b = find(session, code)
    results = latest_results(session, b.id)
    if not results:
        raise NotFound(f"{code} has no results yet", field="code", value=code)
    profile = _profile(session, settings, code, results)
    audit.append(
        session,
        principal.actor,
        "report",
        "profile",
        None,
        code,
        ip,
        {"audience": audience, "lang": lang, "format": fmt, "results": [r.id for r in results.values()]},
    )
    return _render(profile, lang, audience, fmt, clinical=False)


def packet_report(
    session: Session,
    principal: Principal,
    settings: Settings,
    packet_id: str,
    lang: str,
    fmt: str,
    ip: str | None = None,
) -> tuple[bytes, str]:
    """A packet as its addressee sees it: the employment audience, only the parts it carries,
    rendered from the very results it was built from."""
    if lang not in reports.LANGS or fmt not in FORMATS:
        raise Invalid("lang must be ka or en; format html, pdf or json", field="format", value=fmt)
    p: Packet = read_packet(session, principal, packet_id, ip)
    parts = set(p.parts)
    wanted = {"intake"} if "intake_summary" in parts else set()
    if "profile" in parts:
        wanted |= {"vdq", "sds", "ppi"}
    sources = p.content.get("sources", {})
    results = {}
    for inst in INSTRUMENTS:
        if inst in wanted and inst in sources:
            r = session.get(Result, sources[inst]["result"])
            if r is not None:
                results[inst] = r
    code = find_code(session, p.beneficiary_id)
    if not results:
        raise NotFound("this packet carries no report part", field="packet", value=packet_id)
    profile = _profile(session, settings, code, results)
    if "activities" not in parts:
        profile = dataclasses.replace(profile, activities=())
    return _render(profile, lang, "employment", fmt, clinical="clinical" in parts)
