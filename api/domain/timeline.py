"""The case timeline (issue 16, items 2 and 3): intake → questionnaires → packets → trainings →
placement → follow-ups, each event with the person's profile as it stood then (the latest RIASEC
code and decision status known on that day).

A questionnaire given again is shown against its first administration, scale by scale, with the
Jacobson–Truax reliable-change index (``scoring.research.reliable_change``) where a genuine
reliability is known for that instrument version (the stored answers' α and SD, once
``settings.reliability_min_n`` administrations are scored: the same source the reports use); without
one the change is shown and no RCI is claimed. Results of different versions are not compared."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

import instruments
import scoring
from api.db.tables import FollowUp, Placement, Sending, Training
from api.settings import Settings
from scoring import research

from . import audit, results
from .access import Principal
from .beneficiaries import find
from .research import stored_reliability

RCI_CONFIDENCE = 0.95


def _day(d: dt.datetime | dt.date, zone: Any) -> dt.date:
    if isinstance(d, dt.datetime):
        return (d if d.tzinfo else d.replace(tzinfo=dt.UTC)).astimezone(zone).date()
    return d


def _summary(record: Any, inst: instruments.Instrument, lang: str) -> dict[str, Any]:
    """What the timeline shows of one result (typed record fields only)."""
    out: dict[str, Any] = {"model": record.model}
    if record.model == "holland":
        out["codes"] = list(record.codes)
    elif record.model == "decision":
        names = {s.id: s.name.get(lang) for s in inst.scales}
        out["status"] = record.status
        out["certainty"] = record.certainty
        out["salient"] = [names.get(s, s) for s in record.salient]
    elif record.model == "bipolar":
        out["type"] = record.type
    elif record.model == "intake":
        out["group"] = record.job_seeker_group
        role = inst.role("rehabilitation_phase")
        value = record.values.get(role.id) if role is not None else None
        option = next((o for o in (role.options if role is not None else ()) if o.value == value), None)
        out["phase"] = option.label.get(lang) if option is not None else value
    return out


def change_against_first(session: Session, settings: Settings, first: Any, later: Any, lang: str) -> dict[str, Any]:
    """Scale-by-scale change of ``later`` against ``first`` (two results of one instrument version),
    with the reliable-change index where a stored reliability exists."""
    inst = results.definition_of(first)
    a, b = results.record_of(first), results.record_of(later)
    rel = stored_reliability(session, first.instrument, first.instrument_version, settings.reliability_min_n)
    rows = []
    for sc in inst.scales:
        x1, x2 = a.scale(sc.id).score, b.scale(sc.id).score  # type: ignore[union-attr]
        row: dict[str, Any] = {"scale": sc.id, "name": sc.name.get(lang), "before": x1, "after": x2, "rci": None}
        if x1 is not None and x2 is not None:
            row["change"] = x2 - x1
            alpha, sd = rel.scales.get(sc.id, (math.nan, math.nan)) if rel is not None else (math.nan, math.nan)
            if 0 < alpha < 1 and sd > 0:  # as the reports: no RCI from an undefined or non-positive α
                rc = research.reliable_change(
                    np.array([x1]), np.array([x2]), sd=sd, reliability=alpha, confidence=RCI_CONFIDENCE
                )
                row["rci"] = float(rc.rci[0])
                row["reliable"] = int(rc.direction[0])
        rows.append(row)
    return {
        "first": first.id,
        "result": later.id,
        "rows": rows,
        "reliability": None if rel is None else {"n": rel.n, "as_of": rel.as_of},
        "needed": settings.reliability_min_n,
    }


def timeline(
    session: Session, principal: Principal, settings: Settings, code: str, lang: str, ip: str | None = None
) -> dict[str, Any]:
    principal.require("timeline.read")
    b = find(session, code)
    zone = scoring_zone(settings)
    events: list[dict[str, Any]] = []
    entries = [e for e in results.entries(session, b.id) if e.current]
    entries.sort(key=lambda e: results.timestamp(e.administered))
    firsts: dict[tuple[str, str], Any] = {}
    for e in entries:
        inst = results.definition_of(e.result)
        record = results.record_of(e.result)
        ev: dict[str, Any] = {
            "kind": "intake" if e.model == "intake" else "assessment",
            "on": _day(e.administered, zone),
            "title": inst.title.get(lang),
            "version": e.result.instrument_version,
            "result": e.result.id,
            "summary": _summary(record, inst, lang),
        }
        key = (e.result.instrument, e.result.instrument_version)
        if e.model != "intake" and not inst.ipsative:
            if key in firsts:
                ev["change"] = change_against_first(session, settings, firsts[key].result, e.result, lang)
                ev["first_on"] = _day(firsts[key].administered, zone)
            else:
                firsts[key] = e
        events.append(ev)
    for s in session.execute(select(Sending).where(Sending.beneficiary_id == b.id)).scalars():
        org = settings.organisation(s.addressee)
        name = (org.name_ka if lang == "ka" else org.name_en) if org is not None else s.addressee
        events.append({"kind": "packet", "on": _day(s.sent_at, zone), "addressee": name, "packet": s.packet_id})
    acts = {a.id: a.name.get(lang) for a in instruments.activities()}
    for t in session.execute(select(Training).where(Training.beneficiary_id == b.id)).scalars():
        events.append({"kind": "training", "on": t.started_on, "activity": acts.get(t.activity, t.activity)})
        if t.finished_on is not None:
            events.append(
                {
                    "kind": "training_end",
                    "on": t.finished_on,
                    "activity": acts.get(t.activity, t.activity),
                    "outcome": t.outcome,
                }
            )
    occs = {o.isco: o for o in instruments.occupations()}
    for p in session.execute(select(Placement).where(Placement.beneficiary_id == b.id)).scalars():
        occ = occs.get(p.isco)
        events.append(
            {
                "kind": "placement",
                "on": p.start_date,
                "placement": p.id,
                "isco": p.isco,
                "occupation": occ.name.get(lang) if occ is not None else p.isco,
                "riasec": p.riasec,
                "employer_kind": p.employer_kind,
            }
        )
    for f in session.execute(select(FollowUp).where(FollowUp.beneficiary_id == b.id)).scalars():
        events.append(
            {
                "kind": "follow_up",
                "on": f.done_on,
                "month": f.month,
                "still_employed": f.still_employed,
                "satisfaction": f.satisfaction,
                "difficulties": list(f.difficulties or []),
            }
        )
    order = ("intake", "assessment", "packet", "training", "training_end", "placement", "follow_up")
    events.sort(key=lambda ev: (ev["on"], order.index(ev["kind"])))
    # the profile as it stood on each day: the latest code and decision status known by then
    profile: dict[str, Any] = {}
    for ev in events:
        summary = ev.get("summary") or {}
        if summary.get("model") == "holland":
            profile["codes"] = summary["codes"]
        if summary.get("model") == "decision":
            profile["status"] = summary["status"]
        if ev["kind"] == "placement" and ev["riasec"] and profile.get("codes"):
            ms = [scoring.iachan_m(c, ev["riasec"]) for c in profile["codes"]]
            ev["congruence"] = {"min": min(ms), "max": max(ms)}
        ev["profile"] = dict(profile)
    audit.append(session, principal.actor, "read", "timeline", None, code, ip, {"events": len(events)})
    return {"beneficiary": code, "events": events}


def scoring_zone(settings: Settings) -> Any:
    import reports

    return reports.time_zone(settings.time_zone)
