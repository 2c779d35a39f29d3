"""Reports from stored results: one instrument's report, the integrated primary
career-orientation profile, and a sent packet as the addressee sees it.

Who may ask for which audience: the psychologist (and admin) any; the social
worker the employment audience (what a packet shows); the addressee of a sent
packet only that packet, rendered from exactly the results and parts it carries.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import instruments
import reports
from api import scoring_facade as facade
from api.db.tables import Administration, Correction, Packet, Result
from api.security import Vault
from api.settings import Settings
from scoring import research

from . import accounts, audit, results, studies
from .access import Principal
from .beneficiaries import find
from .errors import Conflict, Forbidden, Invalid, NotFound
from .packets import find_code, read_packet
from .research import norms_root, stored_reliability

FORMATS = ("html", "pdf", "json")
REPORTED = ("intake", "decision", "holland", "bipolar")
"""The instrument models a report has a section for."""


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


def check(principal: Principal, audience: str, lang: str, fmt: str) -> None:
    """Whether ``principal`` may have reports of this audience, language and format (raises)."""
    _check(principal, audience, lang, fmt)


def kind_of(r: Result) -> str:
    """Which report section a result fills: its instrument's model."""
    model = results.model_of(r)
    if model not in REPORTED:
        raise Invalid(f"{r.instrument}@{r.instrument_version} has no report", field="instrument", value=r.instrument)
    return model


def load_norms(refs: list[str] | None, session: Session | None = None) -> dict[str, Any]:
    """Norm tables chosen as '<instrument>/<norm id>', by model: the newest version in data/norms/,
    else (given a session) the newest *published* table built from a study (drafts never)."""
    out: dict[str, Any] = {}
    for ref in refs or []:
        inst, _, norm_id = ref.partition("/")
        found = sorted(norms_root().glob(f"{inst}-*/{norm_id}-*.json")) if inst and norm_id else []
        table = research.read_norms(found[-1]) if found else None
        if table is None and session is not None and inst and norm_id:
            table = studies.published_table(session, inst, norm_id)
        if table is None:
            raise NotFound(f"no norm table {ref!r} (give it as instrument/norm_id)", field="norm", value=ref)
        model = facade.instrument(table.instrument, table.instrument_version).model
        if model in out:
            raise Invalid(f"two norm tables for {model} results", field="norm", value=ref)
        out[model] = table
    return out


def reliabilities_for(
    session: Session, settings: Settings, chosen: list[Result], tables: dict[str, Any]
) -> dict[str, dict[str, reports.Reliability]]:
    """Reliabilities for the SEM bands and reliable change of the chosen results, from genuine sources only.

    A chosen norm table that carries its sample's α and SD supplies its scales (``build_profile``
    takes them from the table itself). For any other scale, once ``settings.reliability_min_n``
    administrations of that instrument version are scored here, Cronbach's α and the score SD of the
    stored answers. Nothing for the intake form or ipsative scores, nor where α is undefined or ≤ 0.
    """
    out: dict[str, dict[str, reports.Reliability]] = {}
    for r in chosen:
        kind = kind_of(r)
        if kind == "intake":
            continue
        table = tables.get(kind)
        covered = {
            sid for sid, x in (getattr(table, "reliability", None) or {}).items() if 0 < x.alpha < 1 and x.sd > 0
        }
        if {sc.id for sc in facade.instrument(r.instrument, r.instrument_version).scales} <= covered:
            continue  # the norm table supplies every scale
        local = stored_reliability(session, r.instrument, r.instrument_version, settings.reliability_min_n)
        if local is None:
            continue
        source = reports.stored_reliability_source(local.n, local.as_of)
        mine = {
            sid: reports.Reliability(r=alpha, sd=sd, source=source)
            for sid, (alpha, sd) in local.scales.items()
            if sid not in covered and 0 < alpha < 1 and sd > 0
        }
        if mine:
            out[kind] = mine
    return out


def profile_from(
    session: Session,
    settings: Settings,
    code: str,
    chosen: list[Result],
    previous: Result | None = None,
    name: str | None = None,
    norms: list[str] | None = None,
    reliability: bool = True,
    against_first: bool = False,
) -> reports.Profile:
    """The one place a report's content is assembled from stored results (no access checks here:
    callers check who may see what). ``reliability``: look up the reliabilities behind SEM bands and
    reliable change (``reliabilities_for``); only the psychologist's version shows them, so the
    others may skip the look-up. ``against_first`` (the psychologist's report; issue 16, item 2):
    without an explicit ``previous``, each chosen questionnaire that was given before (same
    instrument and version) is shown against its first administration, scale by scale, with the
    reliable-change index where a reliability is known (``first_administration``)."""
    seen: set[str] = set()
    for r in chosen:
        kind = kind_of(r)
        if kind in seen:
            raise Invalid(f"two {kind} results chosen; a report takes one of each", field="result")
        seen.add(kind)
    if previous is not None and kind_of(previous) not in seen:
        raise Invalid("the earlier result is of another instrument", field="previous", value=previous.id)
    zone = settings.time_zone  # every date a report shows is the date in the configured zone
    lines = {r.id: line_of(session, r) for r in chosen}
    # the date and the administrator are the administration's: a correction or a rescoring later
    # changes neither (its own date and author are in the result's history)
    latest = max(chosen, key=lambda r: lines[r.id][0].created_at)
    first = lines[latest.id][0]
    adm = session.get(Administration, latest.administration_id)
    # who administered: the one who submitted, or (a respondent submitted) the one who started it
    by = first.created_by if first.created_by is not None else (adm.administered_by if adm is not None else None)
    when = (adm.submitted_at if adm is not None else None) or first.created_at
    history = [note for r in chosen for note in _history(session, lines[r.id], zone)]
    tables = load_norms(norms, session)
    earlier: dict[str, tuple[Result, dt.datetime]] = {}
    if previous is None and against_first:
        for r in chosen:
            found = first_administration(session, r) if kind_of(r) != "intake" else None
            if found is not None:
                earlier[kind_of(r)] = found
    try:
        return reports.build_profile(
            code,
            [results.record_of(r) for r in chosen],
            previous=[results.record_of(previous)]
            if previous is not None
            else [results.record_of(r) for r, _ in earlier.values()],
            previous_date=reports.local_date(previous.created_at, zone) if previous is not None else None,
            previous_dates={k: reports.local_date(when, zone) for k, (_, when) in earlier.items()} or None,
            name=name,
            administrator=accounts.display_name(session, by),
            administered=reports.local_date(when, zone),
            history=history,
            report_date=reports.today(zone),
            config=_config(settings),
            norms=tables or None,
            reliabilities=(reliabilities_for(session, settings, chosen, tables) if reliability else None) or None,
        )
    except reports.ReportError as exc:
        raise Conflict(f"the report cannot be made: {exc}") from exc


def first_administration(session: Session, r: Result) -> tuple[Result, dt.datetime] | None:
    """The current result of the person's first administration of ``r``'s instrument and version,
    with the administration's time, when that administration came before ``r``'s; None when ``r``
    is itself the first (or the only) one. Discarded administrations do not count."""
    if r.beneficiary_id is None:
        return None
    same = [
        e
        for e in results.entries(session, r.beneficiary_id)
        if (e.result.instrument, e.result.instrument_version) == (r.instrument, r.instrument_version)
    ]
    mine = next((e for e in same if e.result.id == r.id), None)
    if mine is None:
        return None
    before = [
        e
        for e in same
        if e.current
        and e.administration.id != r.administration_id
        and results.timestamp(e.administered) < results.timestamp(mine.administered)
    ]
    if not before:
        return None
    first = min(before, key=lambda e: results.timestamp(e.administered))
    return first.result, first.administered


def line_of(session: Session, r: Result) -> list[Result]:
    """``r`` and the results it supersedes, oldest first (the first is the administration's own)."""
    line = [r]
    while line[0].supersedes_id is not None:
        before = session.get(Result, line[0].supersedes_id)
        if before is None or before in line:
            break
        line.insert(0, before)
    return line


def _history(session: Session, line: list[Result], zone: str) -> list[reports.ResultNote]:
    """The corrections and rescorings in a result's line, as the psychologist's report names them."""
    out = []
    for r in line[1:]:
        changes: tuple[tuple[str, str | None, str | None], ...] = ()
        if r.kind == "corrected":
            rows = session.execute(select(Correction).where(Correction.result_id == r.id).order_by(Correction.id))
            changes = tuple((c.item, c.old_value, c.new_value) for c in rows.scalars())
        out.append(
            reports.ResultNote(
                kind="corrected" if r.kind == "corrected" else "rescored",
                on=reports.local_date(r.created_at, zone),
                by=accounts.display_name(session, r.created_by) or "",
                reason=r.reason,
                changes=changes,
            )
        )
    return out


def _render(profile: reports.Profile, lang: str, audience: str, fmt: str, clinical: bool) -> tuple[bytes, str]:
    if fmt == "pdf":
        return reports.render_pdf(profile, lang, audience, consent_includes_clinical=clinical), "application/pdf"
    if fmt == "json":
        text = reports.render_json(profile, lang, audience, consent_includes_clinical=clinical)
        return text.encode("utf-8"), "application/json"
    html = reports.render_html(profile, lang, audience, consent_includes_clinical=clinical)
    return html.encode("utf-8"), "text/html; charset=utf-8"


def render(profile: reports.Profile, lang: str, audience: str, fmt: str) -> tuple[bytes, str]:
    """The report file's bytes and media type (clinical details by the audience rule alone)."""
    return _render(profile, lang, audience, fmt, clinical=False)


def _config(settings: Settings) -> reports.ReportConfig:
    short = None
    if settings.fund_short_name_ka and settings.fund_short_name_en:
        short = instruments.Text(ka=settings.fund_short_name_ka, en=settings.fund_short_name_en)
    return reports.ReportConfig(
        fund_name=instruments.Text(ka=settings.fund_name_ka, en=settings.fund_name_en), fund_short_name=short
    )


def latest_results(session: Session, beneficiary_id: int) -> dict[str, Result]:
    """Per model, the current result of the latest administration."""
    return results.latest(session, beneficiary_id, REPORTED)


def result_report(
    session: Session,
    principal: Principal,
    settings: Settings,
    result_id: str,
    lang: str,
    audience: str,
    fmt: str,
    ip: str | None = None,
    norms: list[str] | None = None,
) -> tuple[bytes, str]:
    _check(principal, audience, lang, fmt)
    r = session.get(Result, result_id)
    if r is None or results.model_of(r) not in REPORTED:
        raise NotFound(f"no result {result_id!r}", field="result", value=result_id)
    code = find_code(session, r.beneficiary_id)
    technical = audience == "psychologist"
    profile = profile_from(session, settings, code, [r], norms=norms, reliability=technical, against_first=technical)
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
    norms: list[str] | None = None,
) -> tuple[bytes, str]:
    """The integrated primary career-orientation profile from the latest result of each instrument."""
    _check(principal, audience, lang, fmt)
    b = find(session, code)
    results = latest_results(session, b.id)
    if not results:
        raise NotFound(f"{code} has no results yet", field="code", value=code)
    technical = audience == "psychologist"
    profile = profile_from(
        session, settings, code, list(results.values()), norms=norms, reliability=technical, against_first=technical
    )
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
    """A packet as its addressee reads it: rendered from the packet's stored content (the very view
    the social worker previewed and the registry hashed), never from the live case."""
    if lang not in reports.LANGS or fmt not in FORMATS:
        raise Invalid("lang must be ka or en; format html, pdf or json", field="format", value=fmt)
    p: Packet = read_packet(session, principal, packet_id, ip)
    view = packet_view(p, lang)
    if fmt == "pdf":
        return reports.render_view_pdf(view), "application/pdf"
    if fmt == "json":
        return reports.view_json(view).encode("utf-8"), "application/json"
    return reports.render_view_html(view).encode("utf-8"), "text/html; charset=utf-8"


def packet_view(p: Packet, lang: str) -> dict[str, Any]:
    """The stored view of a packet in ``lang`` (a packet made before views were stored has none)."""
    views = (p.content or {}).get("views") or {}
    if lang not in views:
        raise Conflict("this packet was prepared by an earlier release and holds no report; build it again")
    return views[lang]  # type: ignore[no-any-return]


def profile_for(
    session: Session,
    principal: Principal,
    vault: Vault,
    settings: Settings,
    code: str,
    audience: str,
    result_ids: list[str] | None = None,
    previous_id: str | None = None,
    ip: str | None = None,
    norms: list[str] | None = None,
) -> reports.Profile:
    """The report content for one person from stored results.

    Without ``result_ids`` the newest result of each instrument is used (the
    primary career-orientation profile). ``previous_id`` adds a change section
    against an earlier result of the same instrument. The name appears only
    on the psychologist's report, and only for callers who may see names."""
    if audience not in reports.AUDIENCES:
        raise Invalid(f"audience must be one of {', '.join(reports.AUDIENCES)}", field="audience", value=audience)
    b = find(session, code)
    entries = results.of_person(session, principal, code, ip)
    by_id = {e.result.id: e.result for e in entries}
    if result_ids:
        missing = [i for i in result_ids if i not in by_id]
        if missing:
            raise NotFound(f"no result {missing[0]!r} for {code}", field="result", value=missing[0])
        chosen = [by_id[i] for i in result_ids]
    else:  # the current result of the latest administration of each instrument model
        chosen = list(results.latest(session, b.id, REPORTED).values())
    if not chosen:
        raise NotFound(f"{code} has no results yet", field="result")
    before = None
    if previous_id:
        before = by_id.get(previous_id)
        if before is None:
            raise NotFound(f"no result {previous_id!r} for {code}", field="previous", value=previous_id)
    name = None
    if audience == "psychologist" and principal.can("beneficiaries.names"):
        name = vault.open(b.name_enc)
    technical = audience == "psychologist"
    profile = profile_from(
        session, settings, code, chosen, before, name, norms=norms, reliability=technical, against_first=technical
    )
    audit.append(
        session,
        principal.actor,
        "report",
        "result",
        None,
        code,
        ip,
        {"results": [r.id for r in chosen], "previous": previous_id, "audience": audience, "norms": norms or []},
    )
    return profile
