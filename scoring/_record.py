"""The typed, versioned result record: what leaves ``scoring`` for one administration.

One frozen pydantic model per scoring model (decision, holland, bipolar, generic, intake),
told apart by ``model``. Every score carries its raw value, its reported (possibly
prorated) value, the answered and missing counts and its band; codes are tuples of
orderings (never a joined string); flags are a typed set; provenance names the
instrument id, version and content hash, the engine version, the norm table and the
missing-data policy. The database stores ``record.model_dump(mode="json")``; reading
validates it again (``read_record``), so a stored result is either a whole record or
an error, never a dict of strings to re-parse.

``SCHEMA_VERSION`` changes whenever a stored record would no longer validate.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_serializer

SCHEMA_VERSION: Final = 1

Letter = Literal["R", "I", "A", "S", "E", "C"]


class Flag(StrEnum):
    """Validity and interpretation flags (each one explained in the reports)."""

    SCALE_NOT_SCORED = "scale_not_scored"
    PRORATED = "prorated"
    IMPUTED = "imputed"
    LONG_STRING = "long_string"
    NOTHING_ANSWERED = "nothing_answered"
    ALL_LIKE = "all_like"
    ALL_DISLIKE = "all_dislike"
    TOO_FAST = "too_fast"
    CODE_NOT_COMPUTED = "code_not_computed"
    CODE_TIED = "code_tied"
    CODE_UNSTABLE = "code_unstable"
    FLAT_PROFILE = "flat_profile"
    DEPRESSED_PROFILE = "depressed_profile"
    INCONSISTENT = "inconsistent"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Provenance(_Frozen):
    """Everything a score depends on."""

    instrument: str
    version: str
    content_hash: str
    """The definition's full SHA-256 content hash."""
    engine_version: str
    norm_table: str | None = None
    """``id@version`` of the norm table used for norm-referenced scores; None: criterion bands."""
    missing_policy: str | None = None
    """How missing answers were handled, when not the definition's own rule (prorating)."""

    @property
    def ref(self) -> str:
        return f"{self.instrument}@{self.version}"


class ScaleScore(_Frozen):
    id: str
    raw: float | None
    """Keyed sum over the answered items (reversed items as min + max − x); None if nothing answered."""
    score: float | None
    """The reported score: mean of the answered items, or the sum prorated to all items; None if not scored."""
    prorated: bool
    """Scored with some items missing (the score stands for all of the scale's items)."""
    answered: int
    missing: int
    band: str | None
    """The id of the scale's band the score falls in; None if not scored."""
    rank: int | None = None
    """Decision barriers: 1 = strongest (ties share a rank); None for other scales or when not scored."""


class Validity(_Frozen):
    n_missing: int
    """Items skipped or never answered."""
    longest_run: int
    """Longest run of identical consecutive answers."""
    flags: frozenset[Flag] = frozenset()

    @field_serializer("flags")
    def _sorted(self, flags: frozenset[Flag]) -> list[str]:
        """A set, stored and sent in one order (the same record always serializes the same)."""
        return sorted(str(f) for f in flags)


class _Scored(_Frozen):
    schema_version: Literal[1] = SCHEMA_VERSION
    provenance: Provenance
    scales: tuple[ScaleScore, ...]
    validity: Validity

    def scale(self, scale_id: str) -> ScaleScore:
        for s in self.scales:
            if s.id == scale_id:
                return s
        raise KeyError(f"{self.provenance.ref} has no scale {scale_id!r}")

    @property
    def flags(self) -> frozenset[Flag]:
        return self.validity.flags


class GenericRecord(_Scored):
    model: Literal["generic"] = "generic"


DecisionStatus = Literal["decided", "decided_but_blocked", "exploring", "undecided"]


class DecisionRecord(_Scored):
    """Vocational decision: certainty, barriers with level and rank, indecision, status."""

    model: Literal["decision"] = "decision"
    certainty: float | None
    total_indecision: float | None
    status: DecisionStatus | None
    salient: tuple[str, ...]
    """Salient barriers' scale ids, strongest first (ties in scale order)."""
    interventions: tuple[str, ...]
    """Activity ids suggested for the salient barriers, in that order, each once."""


class SectionCounts(_Frozen):
    id: str
    counts: dict[Letter, float]


class Congruence(_Frozen):
    """An index's lowest and highest value over every admissible ordering of the code."""

    min: float
    max: float


class Aspired(_Frozen):
    """An occupation the person named as an aspiration, and the three-letter code it was scored with."""

    given: str
    code: str | None


class HollandRecord(_Scored):
    """Holland RIASEC: totals, every admissible ordering of the code, the classic indices."""

    model: Literal["holland"] = "holland"
    totals: dict[Letter, float | None]
    sections: tuple[SectionCounts, ...]
    codes: tuple[str, ...]
    """Every admissible three-letter code (several when scores tie); empty when no code was computed."""
    consistency: tuple[Literal["high", "medium", "low"], ...]
    """The consistency levels the admissible codes have (one when they agree)."""
    differentiation: dict[str, float | None]
    """'iachan', 'range' and any further indices (e.g. 'di1'…'di7')."""
    elevation: float | None
    aspirations: tuple[Aspired, ...] = ()
    """The aspirations given with this administration, in the person's order; one outside the catalogue
    has no code. The congruence is computed against the first one that has a code."""
    congruence: dict[str, Congruence] = Field(default_factory=dict)
    """'m', 'c', 'zs' (and any further index) against the first coded aspiration; empty without one."""
    coherence: Literal["low", "average", "high"] | None = None


class Dimension(_Frozen):
    id: str
    score: float | None
    pole: str | None
    """The preferred pole's letter; None for no preference (score 0) or when not scored."""
    clarity: float | None
    clarity_band: str | None
    environments: str
    """RIASEC letters the preferred pole is known to fit."""


class BipolarRecord(_Scored):
    """Paired personality inventory: bipolar dimensions, type, inconsistency."""

    model: Literal["bipolar"] = "bipolar"
    dimensions: tuple[Dimension, ...]
    type: str
    """Four letters; a slight preference in lower case, 'x' no preference, '?' not scored."""
    environments: str
    inconsistency_reversals: int
    inconsistency: float


FieldValue = str | float | bool | tuple[str, ...] | None


class IntakeRecord(_Frozen):
    """The beneficiary assessment: the form's typed values and what follows from them."""

    schema_version: Literal[1] = SCHEMA_VERSION
    model: Literal["intake"] = "intake"
    provenance: Provenance
    values: dict[str, FieldValue]
    """Field id → value: text or choice (str), several choices or occupations (tuple), number, yes/no."""
    retraining_need: bool
    retraining_reasons: tuple[str, ...]
    hard_skills_needs: tuple[str, ...]
    soft_skills_needs: tuple[str, ...]
    self_employment_interest: bool
    job_seeker_group: Literal["I", "II", "III", "IV"] | None
    group_reasons: tuple[str, ...]

    @property
    def flags(self) -> frozenset[Flag]:
        return frozenset()


ScoreRecord = Annotated[
    DecisionRecord | HollandRecord | BipolarRecord | GenericRecord | IntakeRecord, Field(discriminator="model")
]
"""One administration's result, whatever the instrument's model."""

_ADAPTER: TypeAdapter[Any] = TypeAdapter(ScoreRecord)


def read_record(data: Any) -> DecisionRecord | HollandRecord | BipolarRecord | GenericRecord | IntakeRecord:
    """Validate a stored record (``model_dump(mode="json")`` of one) back into its typed model."""
    return _ADAPTER.validate_python(data)  # type: ignore[no-any-return]


def record_schema() -> dict[str, Any]:
    """The JSON Schema of a stored record (published under ``/v1/schemas/record``)."""
    return _ADAPTER.json_schema()


# -- from the engine's arrays ------------------------------------------------------------------


def _num(v: Any) -> float | None:
    f = float(v)
    return None if f != f else f


def records_of(
    result: Any, aspirations: Any = None
) -> list[DecisionRecord | HollandRecord | BipolarRecord | GenericRecord]:
    """One typed record per row of a ``ScoreResult`` (the service's path: a few rows at a time).

    ``aspirations``: per row, the aspirations as given, each ``(text, code)`` (Holland only)."""
    import numpy as np

    from ._decision import LEVELS, STATUSES
    from ._holland import CANDIDATES, COHERENCE, CONSISTENCY, LETTERS, admissible_codes, hexagon_distance

    spec = result.spec
    n = len(result)
    sc = result.scales
    missing = getattr(result, "missing", None)
    prov = Provenance(
        instrument=spec.id,
        version=spec.version,
        content_hash=spec.content_hash,
        engine_version=result.engine_version,
        missing_policy=missing.describe() if missing is not None else None,
    )
    flags = result.flags
    barrier_cols = spec.scale_index("barrier")
    rank_of = {k: j for j, k in enumerate(barrier_cols)}
    out: list[DecisionRecord | HollandRecord | BipolarRecord | GenericRecord] = []
    adm = admissible_codes(result.holland.pattern) if result.holland is not None else None
    extra_diff: dict[str, Any] = {}
    if result.holland is not None:
        from ._holland_indices import differentiation_indices

        extra_diff = differentiation_indices(result.holland.totals)
    for i in range(n):
        scales = []
        for k, s in enumerate(spec.scales):
            score = _num(sc.score[i, k])
            answered = int(sc.n_answered[i, k])
            rank = None
            if result.decision is not None and k in rank_of:
                r = int(result.decision.rank[i, rank_of[k]])
                rank = r if r > 0 else None
            band = int(sc.band[i, k])
            scales.append(
                ScaleScore(
                    id=s.id,
                    raw=_num(sc.raw[i, k]) if answered else None,
                    score=score,
                    prorated=bool(sc.prorated[i, k]),
                    answered=answered,
                    missing=int(sc.n_missing[i, k]),
                    band=s.band_ids[band] if 0 <= band < len(s.band_ids) else None,
                    rank=rank,
                )
            )
        validity = Validity(
            n_missing=int(sc.n_missing_total[i]),
            longest_run=int(sc.longest_run[i]),
            flags=frozenset(Flag(name) for name, mask in flags.items() if bool(mask[i])),
        )
        common: dict[str, Any] = {"provenance": prov, "scales": tuple(scales), "validity": validity}
        if result.decision is not None:
            d = result.decision
            ks = [j for j in np.argsort(d.rank[i], kind="stable") if d.level[i, j] == LEVELS.index("salient")]
            salient = tuple(spec.scales[barrier_cols[j]].id for j in ks)
            acts: list[str] = []
            for j in ks:
                acts += [a for a in spec.scales[barrier_cols[j]].interventions if a not in acts]
            status = int(d.status[i])
            out.append(
                DecisionRecord(
                    **common,
                    certainty=_num(d.certainty[i]),
                    total_indecision=_num(d.total_indecision[i]),
                    status=STATUSES[status] if status >= 0 else None,
                    salient=salient,
                    interventions=tuple(acts),
                )
            )
        elif result.holland is not None:
            h = result.holland
            codes = tuple(c for c, ok in zip(CANDIDATES, adm[i], strict=True) if ok) if adm is not None else ()
            levels = tuple(CONSISTENCY[d] for d in sorted({hexagon_distance(c[0], c[1]) for c in codes}))
            diff: dict[str, float | None] = {
                "iachan": _num(h.differentiation_iachan[i]),
                "range": _num(h.differentiation_range[i]),
            }
            for name, values in extra_diff.items():
                diff[name.lower()] = _num(values[i])
            cong: dict[str, Congruence] = {}
            for name in ("m", "c", "zs", "hm"):
                lo, hi = getattr(h, f"{name}_min", None), getattr(h, f"{name}_max", None)
                if lo is not None and hi is not None and _num(lo[i]) is not None and _num(hi[i]) is not None:
                    cong[name] = Congruence(min=float(lo[i]), max=float(hi[i]))
            coh = int(h.coherence[i])
            out.append(
                HollandRecord(
                    **common,
                    totals={L: _num(h.totals[i, t]) for t, L in enumerate(LETTERS)},
                    sections=tuple(
                        SectionCounts(
                            id=sec,
                            counts={L: float(h.section_counts[i, si, t]) for t, L in enumerate(LETTERS)},
                        )
                        for si, sec in enumerate(spec.sections)
                    ),
                    codes=codes,
                    consistency=levels,
                    differentiation=diff,
                    elevation=_num(h.elevation[i]),
                    aspirations=tuple(Aspired(given=g, code=c) for g, c in aspirations[i])
                    if aspirations is not None
                    else (),
                    congruence=cong,
                    coherence=COHERENCE[coh] if coh >= 0 else None,
                )
            )
        elif result.bipolar is not None:
            b = result.bipolar
            dims = [spec.scales[k] for k in spec.scale_index("dimension")]
            bands = tuple(str(x["id"]) for x in spec.params["clarity_bands"])
            from ._bipolar import type_string

            tcode = str(type_string(spec, b.pole[i : i + 1], b.clarity_band[i : i + 1])[0])
            dimensions = []
            envs = ""
            for k, s in enumerate(dims):
                p = int(b.pole[i, k])
                neg, pos = s.poles or ("-", "+")
                neg_env, pos_env = s.pole_riasec or ("", "")
                env = neg_env if p < 0 else pos_env if p > 0 else ""
                envs += env
                cb = int(b.clarity_band[i, k])
                dimensions.append(
                    Dimension(
                        id=s.id,
                        score=_num(b.scores[i, k]),
                        pole=neg if p < 0 else pos if p > 0 else None,
                        clarity=_num(b.clarity[i, k]),
                        clarity_band=bands[cb] if 0 <= cb < len(bands) else None,
                        environments=env,
                    )
                )
            out.append(
                BipolarRecord(
                    **common,
                    dimensions=tuple(dimensions),
                    type=tcode,
                    environments="".join(L for L in LETTERS if L in envs),
                    inconsistency_reversals=int(b.reversals[i]),
                    inconsistency=float(b.inconsistency[i]),
                )
            )
        else:
            out.append(GenericRecord(**common))
    return out


def intake_records(spec: Any, parsed: Any, scored: Any, engine_version: str) -> list[IntakeRecord]:
    """One ``IntakeRecord`` per row of ``parse_intake`` (typed values) and ``score_intake`` output."""
    prov = Provenance(
        instrument=spec.id, version=spec.version, content_hash=spec.content_hash, engine_version=engine_version
    )
    out = []
    for (_, values), (_, sc) in zip(parsed.iterrows(), scored.iterrows(), strict=True):
        typed: dict[str, FieldValue] = {}
        for f in spec.fields:
            v = values.get(f.id)
            if v is None or (isinstance(v, float) and v != v):
                typed[f.id] = None
            elif isinstance(v, tuple | list):
                typed[f.id] = tuple(str(x) for x in v)
            elif isinstance(v, bool):
                typed[f.id] = v
            elif f.type == "number":
                typed[f.id] = float(v)
            else:
                typed[f.id] = str(v)
        group = str(sc["job_seeker_group"]) or None
        out.append(
            IntakeRecord(
                provenance=prov,
                values=typed,
                retraining_need=bool(sc["retraining_need"]),
                retraining_reasons=tuple(sc["retraining_reasons"]),
                hard_skills_needs=tuple(sc["hard_skills_needs"]),
                soft_skills_needs=tuple(sc["soft_skills_needs"]),
                self_employment_interest=bool(sc["self_employment_interest"]),
                job_seeker_group=group,
                group_reasons=tuple(sc["group_reasons"]),
            )
        )
    return out
