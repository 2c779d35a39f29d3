"""Interpretation rules: what is clinical, which activities to recommend and why.

The words live in ``strings/*.toml``; this module only decides *which* text
keys apply. Activities come from ``instruments/data/activities.toml`` and are chosen by:

- each salient VDQ barrier: all its interventions (as listed in the VDQ
  definition), strongest barrier first; a moderate barrier: its first one;
- the decision status (undecided → counselling and self-knowledge;
  exploring → labour-market information and workplace visits; decided →
  job-search skills);
- the intake's hard- and soft-skills needs and its retraining need;
- micro-business modules when E is in the Holland code and the intake
  expectation is self-employment (or both);
- a flat or depressed SDS profile (explore interests first);
- suggested job-seeker group III (supported employment).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

import instruments
import scoring
from instruments import Activity

from ._matching import MAX_ORDERINGS
from ._model import DecisionSection, HollandSection, IntakeSection, Reason, Recommendation

STATUS_ACTIVITIES: dict[str, tuple[str, ...]] = {
    "undecided": ("career_counselling", "self_knowledge_workshop"),
    "exploring": ("labour_market_info", "job_shadowing"),
    "decided": ("job_search_skills",),
}
INTAKE_NEEDS = (
    "computer_literacy",
    "online_platforms",
    "soft_skills_communication",
    "conflict_management",
    "stress_management",
    "job_search_skills",
)
"""Hard- and soft-skills needs the intake scoring reports; each is also an activity id."""
GROUP_REASONS = (
    "employed_seeking_better_job",
    "employed_not_seeking",
    "health_or_disability",
    "long_term_unemployment",
    "low_education",
    "profession_in_demand",
    "recent_experience",
    "needs_retraining",
    "needs_support_to_start",
)
RETRAINING_REASONS = ("no_profession", "profession_not_in_demand", "skills_outdated")
DIFFERENTIATION_LEVELS = ("low", "moderate", "high")
AGREEMENTS = ("same", "same_letters", "first", "shared")
REGISTERS = ("pro", "you")
FLAT_FLAGS = ("flat_profile", "depressed_profile")


def is_clinical_activity(activity: Activity) -> bool:
    """Psychological help (the catalogue's data: ``clinical = true``)."""
    return activity.clinical


def differentiation_level(iachan: float, margin: float) -> str | None:
    """Low below the instrument's own code margin (the top type is inside measurement error),
    moderate below twice the margin, high above. A criterion, not a norm."""
    if math.isnan(iachan):
        return None
    if iachan < margin:
        return "low"
    return "moderate" if iachan < 2 * margin else "high"


class _Collector:
    def __init__(self, catalogue: Iterable[Activity]) -> None:
        self.by_id = {a.id: a for a in catalogue}
        self.order: list[str] = []
        self.reasons: dict[str, list[Reason]] = {}

    def add(self, activity_id: str, reason: Reason) -> None:
        if activity_id not in self.by_id:
            raise KeyError(f"activity {activity_id!r} is not in instruments/data/activities.toml")
        if activity_id not in self.reasons:
            self.order.append(activity_id)
            self.reasons[activity_id] = []
        if reason not in self.reasons[activity_id]:
            self.reasons[activity_id].append(reason)

    def result(self) -> tuple[Recommendation, ...]:
        out = []
        for aid in self.order:
            a = self.by_id[aid]
            out.append(Recommendation(a, tuple(self.reasons[aid]), is_clinical_activity(a)))
        return tuple(out)


def recommend(
    decision: DecisionSection | None,
    holland: HollandSection | None,
    intake: IntakeSection | None,
    interventions: dict[str, tuple[str, ...]],
    catalogue: Iterable[Activity] | None = None,
) -> tuple[Recommendation, ...]:
    """Activities in order of priority, each with every reason that led to it.

    ``interventions`` maps a barrier id to its activity ids (from the VDQ definition).
    """
    col = _Collector(catalogue if catalogue is not None else instruments.activities())
    if decision is not None:
        for b in decision.salient:
            for aid in interventions.get(b.id, ()):
                col.add(aid, Reason("activity_reason.barrier_salient", b.id, b.clinical))
        if decision.status in STATUS_ACTIVITIES:
            for aid in STATUS_ACTIVITIES[decision.status]:
                col.add(aid, Reason(f"activity_reason.status.{decision.status}"))
    if intake is not None:
        for need in (*intake.hard_needs, *intake.soft_needs):
            col.add(need, Reason(f"activity_reason.need.{need}"))
        if intake.retraining_need:
            col.add("vocational_retraining", Reason("activity_reason.retraining"))
    readable = holland is not None and 0 < len(holland.codes) <= MAX_ORDERINGS
    if readable and intake is not None and intake.self_employment and "E" in holland.letters:  # type: ignore[union-attr]
        col.add("microbusiness_modules", Reason("activity_reason.microbusiness"))
    if holland is not None and any(f in holland.flags for f in FLAT_FLAGS):
        for aid in ("career_counselling", "self_knowledge_workshop"):
            col.add(aid, Reason("activity_reason.flat_profile"))
    if intake is not None and intake.group == "III":
        col.add("supported_employment", Reason("activity_reason.group_III"))
    if decision is not None:
        moderate = sorted((b for b in decision.barriers if b.band == "moderate"), key=lambda b: b.rank)
        for b in moderate:
            first = interventions.get(b.id, ())[:1]
            for aid in first:
                col.add(aid, Reason("activity_reason.barrier_moderate", b.id, b.clinical))
    return col.result()


def _engine_flags(inst: instruments.Instrument) -> list[str]:
    """The validity flags the engine can raise for ``inst`` (score one blank row, timings on)."""
    spec = instruments.scoring_spec(inst)
    blank = np.full((1, len(spec.items)), scoring.MISSING, dtype=np.int8)
    return list(scoring.score(spec, blank, seconds=np.array([np.nan])).flags)


def required_rule_keys() -> set[str]:
    """Text keys needed for every band, flag, status, level and letter each model can produce.

    Keys name the model, never an instrument id, so a new instrument or version needs no new
    text; a scale's own narrative (e.g. ``decision.barrier.<scale>.pro``) is optional: without it a
    report uses the definition's description of the scale."""
    keys: set[str] = set()
    keys |= {f"intake.group.{g}" for g in (*scoring.GROUPS, "none")}
    keys |= {f"intake.group_reason.{r}" for r in GROUP_REASONS}
    keys |= {f"intake.retraining_reason.{r}" for r in RETRAINING_REASONS}
    for iid, ver in instruments.available():
        inst = instruments.load(iid, ver)
        if inst.model != "intake":
            keys |= {f"flag.{f}" for f in _engine_flags(inst)}
    keys |= {f"decision.level.{lvl}.{reg}" for lvl in scoring.LEVELS for reg in REGISTERS}
    keys |= {f"decision.status.{s}.{reg}" for s in (*scoring.STATUSES, "unknown") for reg in REGISTERS}
    keys |= {f"decision.status_name.{s}" for s in (*scoring.STATUSES, "unknown")}
    keys |= {f"holland.type.{L}.work" for L in scoring.LETTERS}
    keys |= {f"holland.consistency.{c}" for c in scoring.CONSISTENCY.values()}
    keys |= {f"holland.differentiation.{d}" for d in DIFFERENTIATION_LEVELS}
    keys |= {f"holland.coherence.{c}" for c in scoring.COHERENCE}
    keys |= {f"holland.{k}.{reg}" for k in ("code", "tied", "undetermined") for reg in REGISTERS}
    keys |= {f"bipolar.type_intro.{reg}" for reg in REGISTERS}
    keys |= {f"riasec.{L}" for L in scoring.LETTERS}
    keys |= {f"activity_reason.need.{n}" for n in INTAKE_NEEDS}
    keys |= {f"activity_reason.status.{s}" for s in STATUS_ACTIVITIES}
    keys |= {
        "activity_reason.barrier_salient",
        "activity_reason.barrier_moderate",
        "activity_reason.retraining",
        "activity_reason.microbusiness",
        "activity_reason.flat_profile",
        "activity_reason.group_III",
    }
    keys |= {f"match.{a}.{reg}" for a in AGREEMENTS for reg in REGISTERS}
    keys |= {f"training.{level}" for level in range(1, 6)}
    return keys
