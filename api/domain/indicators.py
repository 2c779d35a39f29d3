"""Programme indicators for the fund's management (issue 16, item 4): aggregates only — no names, no
codes — each figure with its n, groups below ``settings.indicators_min_n`` people suppressed.

- people assessed (at least one scored questionnaire), packets sent, trainings completed,
  people placed and the placement rate;
- job retention at 3, 6 and 12 months: Kaplan–Meier over each person's first placement, with a 95 %
  band and the number at risk (``scoring.research.kaplan_meier``, lifelines);
- by rehabilitation phase and job-seeker group (the person's latest intake), by region (where the
  person lives, on the beneficiary's record: one of Georgia's regions) and by the quarter the person
  was first assessed (a cohort).

**Survival data.** A placement's time runs from its first day. A follow-up that finds the person no
longer in the job is an event at the day the job ended (or, where unknown, the follow-up's day); a
placement still held at its last follow-up is censored there. Placements without any follow-up yet
are not in the retention estimate (they are counted as ``not_followed``).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.db.tables import Beneficiary, FollowUp, Placement, Result, Sending, Training
from api.settings import Settings
from scoring import research

from . import audit, results
from .access import Principal
from .outcomes import MONTH_DAYS

RETENTION_MONTHS = (3, 6, 12)
BREAKDOWNS = ("phase", "group", "region", "quarter")


@dataclass
class Person:
    """One person's facts for the indicators (kept inside this module; never returned)."""

    beneficiary_id: int
    first_assessed: dt.date
    phase: str | None = None
    group: str | None = None
    region: str | None = None
    packets: int = 0
    trainings_completed: int = 0
    placed: bool = False
    months: float | None = None
    """Time in the first job (to the loss or to the last follow-up); None without a follow-up."""
    lost: bool = False
    start: dt.date | None = None
    riasec: str | None = None


def _date(d: dt.datetime | dt.date) -> dt.date:
    return d.date() if isinstance(d, dt.datetime) else d


def survival_of(p: Placement, done: list[FollowUp]) -> tuple[float | None, bool]:
    """(months in the job, whether it was lost) of one placement from its follow-ups."""
    if not done:
        return None, False
    ended = sorted((f for f in done if not f.still_employed), key=lambda f: f.month)
    if ended:
        end = ended[0].left_on or ended[0].done_on
        return (end - p.start_date).days / MONTH_DAYS, True
    last = max(done, key=lambda f: f.month)
    return (last.done_on - p.start_date).days / MONTH_DAYS, False


def people(session: Session) -> dict[int, Person]:
    """Everyone with at least one scored result, with what the indicators need."""
    first = session.execute(
        select(Result.beneficiary_id, func.min(Result.created_at)).group_by(Result.beneficiary_id)
    ).all()
    out = {bid: Person(bid, _date(at)) for bid, at in first}
    for bid, region in session.execute(
        select(Beneficiary.id, Beneficiary.region).where(Beneficiary.region.is_not(None))
    ):
        if bid in out:
            out[bid].region = region
    for bid, person in out.items():
        intake = results.latest(session, bid, ("intake",)).get("intake")
        if intake is not None:
            record = results.record_of(intake)
            inst = results.definition_of(intake)
            role = inst.role("rehabilitation_phase")
            person.phase = str(record.values.get(role.id)) if role is not None and record.values.get(role.id) else None  # type: ignore[union-attr]
            person.group = record.job_seeker_group  # type: ignore[union-attr]
    for bid, n in session.execute(select(Sending.beneficiary_id, func.count()).group_by(Sending.beneficiary_id)):
        if bid in out:
            out[bid].packets = int(n)
    for bid, n in session.execute(
        select(Training.beneficiary_id, func.count())
        .where(Training.outcome == "completed")
        .group_by(Training.beneficiary_id)
    ):
        if bid in out:
            out[bid].trainings_completed = int(n)
    placements = session.execute(select(Placement).order_by(Placement.start_date, Placement.created_at)).scalars().all()
    done: dict[str, list[FollowUp]] = {}
    for f in session.execute(select(FollowUp)).scalars():
        done.setdefault(f.placement_id, []).append(f)
    for p in placements:
        found = out.get(p.beneficiary_id)
        if found is None or found.placed:
            continue  # people only count once assessed; the first placement counts
        found.placed, found.start, found.riasec = True, p.start_date, p.riasec
        found.months, found.lost = survival_of(p, done.get(p.id, []))
    return out


def quarter(d: dt.date) -> str:
    return f"{d.year}-Q{(d.month - 1) // 3 + 1}"


def _rate(k: int, n: int) -> float | None:
    return k / n if n else None


def block(group: list[Person], min_n: int) -> dict[str, Any]:
    """The indicators of one group of people (suppressed below ``min_n``)."""
    n = len(group)
    if n < min_n:
        return {"n": None, "suppressed": True}
    placed = [p for p in group if p.placed]
    followed = [p for p in placed if p.months is not None]
    retention = None
    if len(followed) >= min_n:
        km = research.kaplan_meier([p.months for p in followed], [p.lost for p in followed], at=RETENTION_MONTHS)
        retention = [
            {
                "month": int(k.month),
                "retained": k.survival,
                "lower": k.lower,
                "upper": k.upper,
                "at_risk": k.at_risk,
                "lost": k.events,
            }
            for k in km
        ]
    return {
        "suppressed": False,
        "people_assessed": n,
        "people_with_packet": sum(1 for p in group if p.packets),
        "packets_sent": sum(p.packets for p in group),
        "trainings_completed": sum(p.trainings_completed for p in group),
        "people_trained": sum(1 for p in group if p.trainings_completed),
        "people_placed": len(placed),
        "placement_rate": _rate(len(placed), n),
        "followed": len(followed),
        "not_followed": len(placed) - len(followed),
        "jobs_lost": sum(1 for p in followed if p.lost),
        "retention": retention,
        "retention_suppressed": retention is None and len(followed) > 0,
        "curve": _curve(group, min_n) if retention is not None else None,
    }


def _key(p: Person, by: str) -> str | None:
    if by == "phase":
        return p.phase
    if by == "group":
        return p.group
    if by == "region":
        return p.region
    return quarter(p.first_assessed)


def indicators(
    session: Session, principal: Principal, settings: Settings, today: dt.date, ip: str | None = None
) -> dict[str, Any]:
    """The programme indicators (aggregates only)."""
    principal.require("indicators.read")
    everyone = list(people(session).values())
    k = settings.indicators_min_n
    by: dict[str, list[dict[str, Any]]] = {}
    for name in BREAKDOWNS:
        groups: dict[str | None, list[Person]] = {}
        for p in everyone:
            groups.setdefault(_key(p, name), []).append(p)
        by[name] = [
            {"value": v, **block(g, k)} for v, g in sorted(groups.items(), key=lambda x: (x[0] is None, x[0] or ""))
        ]
    audit.append(session, principal.actor, "read", "indicators", None, None, ip, {"people": len(everyone)})
    return {
        "as_of": today,
        "min_n": k,
        "retention_months": list(RETENTION_MONTHS),
        "overall": block(everyone, k),
        "by": by,
    }


def _curve(everyone: list[Person], min_n: int) -> list[dict[str, Any]] | None:
    followed = [p for p in everyone if p.placed and p.months is not None]
    if len(followed) < min_n:
        return None
    df = research.km_curve([p.months for p in followed], [p.lost for p in followed])

    def num(v: float) -> float | None:
        return None if v != v else float(v)  # NaN (no band where nobody has left yet) → None

    return [
        {"month": float(r.time), "retained": float(r.survival), "lower": num(r.lower), "upper": num(r.upper)}
        for r in df.itertuples()
    ]


def value_names(lang: str) -> dict[str, dict[str, str]]:
    """How the breakdowns' values read: the rehabilitation phases' labels from the intake forms
    (every version shipped), the regions' names, the job-seeker groups as they are (I–IV)."""
    import instruments
    from api import scoring_facade as facade

    phases: dict[str, str] = {}
    for iid, version in instruments.available():
        inst = facade.instrument(iid, version)
        role = inst.role("rehabilitation_phase") if inst.model == "intake" else None
        for o in role.options if role is not None else ():
            phases[o.value] = o.label.get(lang)
    return {"phase": phases, "region": {r.id: r.name.get(lang) for r in instruments.regions()}}


# -- export ----------------------------------------------------------------------------------------

LABELS = {
    "en": {
        "title": "Programme indicators",
        "as_of": "As of",
        "min_n": "Groups smaller than this are not shown",
        "people_assessed": "People assessed",
        "people_with_packet": "People with a packet sent",
        "packets_sent": "Packets sent",
        "trainings_completed": "Trainings completed",
        "people_trained": "People who completed a training",
        "people_placed": "People placed in work",
        "placement_rate": "Placement rate",
        "followed": "Placements followed up",
        "not_followed": "Placements not yet followed up",
        "jobs_lost": "Jobs lost",
        "month": "Month",
        "retained": "Still in the job (Kaplan–Meier)",
        "lower": "95 % band, lower",
        "upper": "95 % band, upper",
        "at_risk": "Number at risk",
        "lost": "Jobs lost by then",
        "value": "Group",
        "suppressed": "fewer people than the minimum: not shown",
        "overall": "Overall",
        "phase": "Rehabilitation phase",
        "group": "Job-seeker group",
        "region": "Region",
        "quarter": "Quarter first assessed",
        "none": "not recorded",
    },
    "ka": {
        "title": "პროგრამის ინდიკატორები",
        "as_of": "თარიღი",
        "min_n": "ამაზე მცირე ჯგუფები არ ჩანს",
        "people_assessed": "შეფასებული ადამიანები",
        "people_with_packet": "ადამიანები, ვისი პაკეტიც გაიგზავნა",
        "packets_sent": "გაგზავნილი პაკეტები",
        "trainings_completed": "დასრულებული ტრენინგები",
        "people_trained": "ადამიანები, ვინც ტრენინგი დაასრულა",
        "people_placed": "დასაქმებული ადამიანები",
        "placement_rate": "დასაქმების მაჩვენებელი",
        "followed": "დასაქმების შემთხვევები მონიტორინგით",
        "not_followed": "დასაქმების შემთხვევები, მონიტორინგი ჯერ არ ჩატარებულა",
        "jobs_lost": "დაკარგული სამსახური",
        "month": "თვე",
        "retained": "ისევ სამსახურშია (კაპლან–მეიერი)",
        "lower": "95 %-იანი ზოლი, ქვედა",
        "upper": "95 %-იანი ზოლი, ზედა",
        "at_risk": "დაკვირვების ქვეშ მყოფთა რაოდენობა",
        "lost": "მანამდე დაკარგული სამსახური",
        "value": "ჯგუფი",
        "suppressed": "მინიმუმზე ნაკლები ადამიანი: არ ჩანს",
        "overall": "სულ",
        "phase": "რეაბილიტაციის ეტაპი",
        "group": "სამუშაოს მაძიებლის ჯგუფი",
        "region": "რეგიონი",
        "quarter": "პირველი შეფასების კვარტალი",
        "none": "არ არის მითითებული",
    },
}
COUNTS = (
    "people_assessed",
    "people_with_packet",
    "packets_sent",
    "people_trained",
    "trainings_completed",
    "people_placed",
    "placement_rate",
    "followed",
    "not_followed",
    "jobs_lost",
)


def to_pdf(data: dict[str, Any], lang: str, settings: Settings) -> bytes:
    """The indicators as a PDF for donors (``reports.render_indicators``), naming the fund."""
    import reports

    fund = settings.fund_name_ka if lang == "ka" else settings.fund_name_en
    return reports.render_indicators(data, lang, value_names=value_names(lang), fund_name=fund)


def to_xlsx(data: dict[str, Any], lang: str, value_names: dict[str, dict[str, str]] | None = None) -> bytes:
    """The indicators as a workbook for donors: one sheet of counts per group, one of retention."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    lab = LABELS[lang]
    names = value_names or {}
    wb = Workbook()
    ws = wb.active
    ws.title = lab["title"][:31]
    ws.append([lab["title"]])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([lab["as_of"], data["as_of"].isoformat() if hasattr(data["as_of"], "isoformat") else str(data["as_of"])])
    ws.append([lab["min_n"], data["min_n"]])
    ws.append([])
    header = [lab["value"], *[lab[c] for c in COUNTS]]
    rows: list[tuple[str, str, dict[str, Any]]] = [(lab["overall"], "", data["overall"])]
    for by in BREAKDOWNS:
        for g in data["by"][by]:
            shown = names.get(by, {}).get(g["value"] or "", g["value"]) if g["value"] else lab["none"]
            rows.append((lab[by], shown, g))
    ws.append(["", *header])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for kind, value, g in rows:
        if g.get("suppressed"):
            ws.append([kind, value, lab["suppressed"]])
        else:
            ws.append([kind, value, *[g[c] for c in COUNTS]])
    rt = wb.create_sheet(lab["retained"][:31])
    rt.append(
        ["", lab["value"], lab["month"], lab["retained"], lab["lower"], lab["upper"], lab["at_risk"], lab["lost"]]
    )
    for cell in rt[1]:
        cell.font = Font(bold=True)
    for kind, value, g in rows:
        if g.get("suppressed") or not g.get("retention"):
            rt.append(
                [kind, value, lab["suppressed"]]
                if g.get("suppressed") or g.get("retention_suppressed")
                else [kind, value]
            )
            continue
        for r in g["retention"]:
            rt.append([kind, value, r["month"], r["retained"], r["lower"], r["upper"], r["at_risk"], r["lost"]])
    for sheet in (ws, rt):
        for col in sheet.columns:
            sheet.column_dimensions[col[0].column_letter].width = 22
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
