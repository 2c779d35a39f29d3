"""Predictive validity for researchers (issue 16, item 5): does the interest–occupation congruence
at placement (Iachan's M of the person's RIASEC code and the placed occupation's code, averaged over
every admissible ordering of a tied code), the decision status or the total indecision predict keeping
the job? Kaplan–Meier by congruence band, Cox regression with confidence intervals, and the smallest
effect the sample at hand can detect (``scoring.research.predictive_validity``).

Aggregates only: no codes or names leave (researchers see pseudonymized data at most). The
predictors are the person's results administered on or before the placement's first day; the
outcome is the first placement's survival as in ``api.domain.indicators``."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

import scoring
from scoring import research

from . import audit, indicators, results
from .access import Principal

DECIDED = ("decided", "decided_but_blocked")


def dataset(session: Session, zone: Any) -> pd.DataFrame:
    """One row per followed first placement: months, lost, congruence, decided, indecision."""
    rows = []
    for p in indicators.people(session).values():
        if not p.placed or p.months is None or p.start is None:
            continue
        before: dict[str, Any] = {}
        for e in sorted(results.entries(session, p.beneficiary_id), key=lambda e: results.timestamp(e.administered)):
            day = (e.administered if e.administered.tzinfo else e.administered.replace(tzinfo=dt.UTC)).astimezone(zone)
            if e.current and day.date() <= p.start:
                before[e.model] = results.record_of(e.result)
        holland, decision = before.get("holland"), before.get("decision")
        congruence = np.nan
        if holland is not None and holland.codes and p.riasec and len(p.riasec) == 3:
            congruence = float(np.mean([scoring.iachan_m(c, p.riasec) for c in holland.codes]))
        rows.append(
            {
                "months": p.months,
                "lost": p.lost,
                "congruence": congruence,
                "decided": np.nan if decision is None or decision.status is None else float(decision.status in DECIDED),
                "indecision": np.nan
                if decision is None or decision.total_indecision is None
                else decision.total_indecision,
            }
        )
    return pd.DataFrame(rows, columns=["months", "lost", "congruence", "decided", "indecision"])


def _json(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _json(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json(x) for x in v]
    if isinstance(v, research.KMPoint):
        return _json(v.__dict__)
    if isinstance(v, float) and v != v:
        return None
    return v


def study(session: Session, principal: Principal, settings: Any, ip: str | None = None) -> dict[str, Any]:
    principal.require("research.read")
    import reports

    df = dataset(session, reports.time_zone(settings.time_zone))
    audit.append(session, principal.actor, "read", "retention_study", None, None, ip, {"placements": len(df)})
    if len(df) < settings.indicators_min_n or int(df["lost"].sum()) < 2:
        return {"n": int(len(df)), "events": int(df["lost"].sum()) if len(df) else 0, "too_few": True}
    out: dict[str, Any] = _json(research.predictive_validity(df))
    return out
