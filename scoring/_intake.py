"""Intake (beneficiary assessment) → needs and a suggested job-seeker group.

The employment department decides the group; this only suggests one, with
its reasons, following the fund's guide (process #6):

- IV: employed, but looking for a (better) job.
- III: difficulties on the labour market because of personal circumstances:
  disability or health limits, long-term unemployment (12+ months, or never
  worked), or education at ISCED 2 or below.

The ISCED level of each ``education_level`` option is data: the form's
``isced.csv``, carried here as ``FieldSpec.isced``.
- I: a profession in local demand, at least upper-secondary education, and
  work within the last 12 months.
- II: everyone else: some competence to start work, but help is needed.

Retraining is suggested without a profession, with one not in demand, or
after three years or more out of work (skills outdated).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._errors import BadAnswer, ResponseValidationError

EDUCATION_FIELD = "education_level"
LONG_TERM_MONTHS = 12
OUTDATED_MONTHS = 36
GROUPS = ("I", "II", "III", "IV")
TRUE_WORDS = {"true", "1", "yes", "y", "კი", "დიახ"}
FALSE_WORDS = {"false", "0", "no", "n", "არა"}


@dataclass(frozen=True)
class FieldSpec:
    id: str
    type: str
    required: bool
    options: tuple[str, ...] = ()
    isced: tuple[int, ...] = ()
    """Each option's ISCED 2011 level, in the order of ``options`` (empty: not classified)."""


@dataclass(frozen=True)
class IntakeSpec:
    id: str
    version: str
    content_hash: str
    fields: tuple[FieldSpec, ...]
    roles: Mapping[str, str] = field(default_factory=dict)
    """Role the rules read (``education``, ``never_worked``, …) → this form's field id (its rules.toml)."""
    values: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Named sets of answers the rules test (``health_limits``, …) → option values of this form."""

    @property
    def ref(self) -> str:
        return f"{self.id}@{self.version}"

    def isced(self, field_id: str | None = None) -> dict[str, int]:
        """Option value → ISCED level for a classified choice field (default: the education role)."""
        field_id = field_id or self.roles.get("education", EDUCATION_FIELD)
        for f in self.fields:
            if f.id == field_id:
                return dict(zip(f.options, f.isced, strict=False)) if f.isced else {}
        return {}


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or (isinstance(v, str) and not v.strip())


def parse_field(f: FieldSpec, v: object) -> object:
    """One intake value, typed; ``ValueError`` says why it is refused. Blank → None."""
    if _blank(v):
        if f.required:
            raise ValueError("is required")
        return None
    s = str(v).strip()
    if f.type == "choice":
        if s not in f.options:
            raise ValueError(f"is not one of {', '.join(f.options)}")
        return s
    if f.type == "multi":
        parts = tuple(p.strip() for p in s.split(";") if p.strip())
        unknown = [p for p in parts if p not in f.options]
        if unknown:
            raise ValueError(f"has unknown choice(s) {', '.join(unknown)}; allowed: {', '.join(f.options)}")
        return parts
    if f.type == "number":
        try:
            num = float(s.replace(",", "."))
        except ValueError:
            num = float("nan")
        if not np.isfinite(num) or num < 0:
            raise ValueError("is not a number ≥ 0")
        return num
    if f.type == "bool":
        low = s.lower()
        if low in TRUE_WORDS:
            return True
        if low in FALSE_WORDS:
            return False
        raise ValueError("is not yes/no (კი/არა, true/false, 1/0)")
    if f.type == "occupations":
        return tuple(p.strip() for p in s.split(";") if p.strip())
    return s


def parse_intake(spec: IntakeSpec, frame: pd.DataFrame, ids: Sequence[object] | None = None) -> pd.DataFrame:
    """Typed intake values (choices checked, numbers ≥ 0, yes/no words); every problem listed."""
    problems: list[BadAnswer] = []
    out: dict[str, list[object]] = {}
    for f in spec.fields:
        if f.id not in frame.columns:
            if f.required:
                problems.append(BadAnswer(0, None, f.id, None, "required column is missing"))
            out[f.id] = [None] * len(frame)
            continue
        values: list[object] = []
        for r, v in enumerate(frame[f.id].tolist()):
            try:
                values.append(parse_field(f, v))
            except ValueError as exc:
                problems.append(BadAnswer(r + 1, None if ids is None else str(ids[r]), f.id, v, str(exc)))
                values.append(None)
        out[f.id] = values
    if problems:
        raise ResponseValidationError(problems)
    return pd.DataFrame(out, index=range(len(frame)))


def _reasons(pairs: list[tuple[str, pd.Series]], n: int) -> np.ndarray:
    """Per row, the names whose mask holds, in the order given (a tuple; empty when none)."""
    masks = [(name, mask.to_numpy(dtype=bool)) for name, mask in pairs]
    out = np.empty(n, dtype=object)
    for r in range(n):
        out[r] = tuple(name for name, m in masks if m[r])
    return out


def score_intake(parsed: pd.DataFrame, spec: IntakeSpec) -> pd.DataFrame:
    """Needs and the suggested group for each row of ``parse_intake(spec, …)`` output.

    The rules read the form's fields by role and its answers by named value sets (the form's
    ``rules.toml``), never by field id; a form without them suggests nothing. Education counts
    by the ISCED level the form gives each option (``spec.isced()``); an unclassified or
    missing answer is unknown, never low."""
    n = len(parsed)
    role = spec.roles.get

    def col(name: str) -> pd.Series:
        fid = role(name)
        return parsed[fid] if fid is not None and fid in parsed else pd.Series([None] * n, index=parsed.index)

    def flag(name: str) -> pd.Series:
        return col(name).map(lambda v: v is True)

    def among(name: str, values: str) -> pd.Series:
        wanted = spec.values.get(values, frozenset())
        return col(name).map(
            lambda v: bool(set(v) & wanted) if isinstance(v, tuple) else (v in wanted if v is not None else False)
        )

    levels = spec.isced()
    isced = col("education").map(lambda v: levels.get(v, np.nan))
    months = pd.to_numeric(col("months_since_last_job"), errors="coerce")
    never = flag("never_worked")
    long_unemployed = never | (months >= LONG_TERM_MONTHS)
    employed = flag("currently_employed")
    has_prof = flag("has_profession")
    in_demand = flag("profession_in_demand")
    health = among("constraints", "health_limits")
    low_edu = isced <= 2

    retrain_pairs = [
        ("no_profession", ~has_prof),
        ("profession_not_in_demand", has_prof & ~in_demand),
        ("skills_outdated", ~never & (months >= OUTDATED_MONTHS)),
    ]
    hard_pairs = [
        ("computer_literacy", among("computer_skills", "computer_literacy_needed")),
        ("online_platforms", among("computer_skills", "online_platforms_needed")),
    ]
    soft_pairs = [
        ("soft_skills_communication", among("communication", "communication_support")),
        ("conflict_management", among("communication", "conflict_management_needed")),
        ("stress_management", among("rehabilitation_phase", "stress_phases")),
        ("job_search_skills", long_unemployed),
    ]
    self_emp = among("expectation", "self_employment")

    group4 = employed & flag("seeking_better_job")
    group3 = ~employed & (health | long_unemployed | low_edu)
    group1 = ~employed & ~group3 & has_prof & in_demand & (isced >= 3) & (months < LONG_TERM_MONTHS)
    group2 = ~employed & ~group3 & ~group1
    group = np.select(
        [group4.to_numpy(), group3.to_numpy(), group1.to_numpy(), group2.to_numpy()],
        ["IV", "III", "I", "II"],
        default="",
    )
    group_pairs = [
        ("employed_seeking_better_job", group4),
        ("employed_not_seeking", employed & ~group4),
        ("health_or_disability", group3 & health),
        ("long_term_unemployment", group3 & long_unemployed),
        ("low_education", group3 & low_edu),
        ("profession_in_demand", group1),
        ("recent_experience", group1),
        ("needs_retraining", group2 & (~has_prof | ~in_demand)),
        ("needs_support_to_start", group2),
    ]
    return pd.DataFrame(
        {
            "retraining_need": (retrain_pairs[0][1] | retrain_pairs[1][1] | retrain_pairs[2][1]).to_numpy(),
            "retraining_reasons": _reasons(retrain_pairs, n),
            "hard_skills_needs": _reasons(hard_pairs, n),
            "soft_skills_needs": _reasons(soft_pairs, n),
            "self_employment_interest": self_emp.to_numpy(),
            "job_seeker_group": group,
            "group_reasons": _reasons(group_pairs, n),
        }
    )
