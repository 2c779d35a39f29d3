"""Typed result records (``scoring.ScoreRecord``) → ``Profile``.

A report reads the records the engine made, never a dict of strings: every section is
built from the record of its model (decision, holland, bipolar, intake), with the texts of
the definition the record names (id + version; a record scored with another definition of
that version than the one shipped is refused rather than mislabelled). Sections key on the
instrument's model, so a new instrument or version needs data, not code.

One source for a person's profile: the aspirations every section uses (congruence,
matching, summary) are the ones given with the SDS when there are any, otherwise the
intake's; education and what the person cannot do come from the intake, by role.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from functools import lru_cache
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

import instruments
import scoring
from instruments import Instrument, Occupation, Text
from scoring import (
    BipolarRecord,
    DecisionRecord,
    GenericRecord,
    HollandRecord,
    IntakeRecord,
    ScoreRecord,
    brown_gore_c,
    iachan_m,
    zener_schnuelle,
)

from ._errors import ReportError
from ._matching import (
    MAX_ORDERINGS,
    RETRAINING_MAX_LEVEL,
    Match,
    agreement,
    blocked_by,
    match_occupations,
    max_training_level,
    suggestible,
)
from ._model import (
    Aspiration,
    Barrier,
    BipolarSection,
    ChangeRow,
    ChangeSection,
    DecisionSection,
    Dimension,
    HollandSection,
    IntakeSection,
    ItemChange,
    Meta,
    NormInfo,
    NormScore,
    PersonStart,
    Pole,
    Profile,
    Provenance,
    Reliability,
    ReportConfig,
    ResultNote,
    ScaleScore,
    SectionCounts,
    Trade,
    TypeScore,
    Wish,
    Zone,
)
from ._rules import differentiation_level, recommend
from ._strings import LANGS, strings
from ._view import day

if TYPE_CHECKING:
    from scoring.research import NormTable

ScoredRecord = DecisionRecord | HollandRecord | BipolarRecord
Reliabilities = Mapping[str, Mapping[str, Reliability]]
Z90 = 1.645
NORM_ALL = "all"
"""The whole norm sample (``scoring.research``'s ``ALL`` group)."""
SECTIONS = ("intake", "decision", "holland", "bipolar")
"""The models a report has a section for, in the order sections appear."""
NORMED = ("decision", "holland", "bipolar")


def software_version() -> str:
    try:
        return metadata.version("proforient")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


@lru_cache(maxsize=128)
def definition(instrument: str, version: str) -> Instrument:
    """A shipped definition by id and version, loaded once (definitions are immutable files)."""
    try:
        return instruments.load(instrument, version)
    except instruments.InstrumentError as exc:
        raise ReportError(
            f"{instrument}@{version} cannot be loaded: {exc} (a definition that is not shipped is given to "
            "build_profile with definitions=[...])"
        ) from exc


Definitions = Mapping[tuple[str, str], Instrument]
"""Definitions given to ``build_profile`` (not shipped), by (id, version)."""


def _given(definitions: Sequence[Instrument]) -> dict[tuple[str, str], Instrument]:
    out: dict[tuple[str, str], Instrument] = {}
    for inst in definitions:
        if not isinstance(inst, Instrument):
            raise ReportError(f"definitions must be instrument definitions (got {type(inst).__name__})")
        key = (inst.id, inst.version)
        if key in out and out[key].content_hash != inst.content_hash:
            raise ReportError(f"two different definitions of {inst.ref} were given")
        out[key] = inst
    return out


def resolve(instrument: str, version: str, given: Definitions | None = None) -> Instrument:
    """The definition ``instrument@version``: one given to ``build_profile``, else the shipped one."""
    found = (given or {}).get((instrument, version))
    return found if found is not None else definition(instrument, version)


def _definition(rec: ScoreRecord | IntakeRecord, given: Definitions | None = None) -> tuple[Instrument, Provenance]:
    """The definition a record was scored with (given, else shipped), checked, and the section's provenance."""
    p = rec.provenance
    inst = resolve(p.instrument, p.version, given)
    if inst.model != rec.model:
        raise ReportError(f"{inst.ref} is a {inst.model} instrument, but the record is a {rec.model} result")
    if inst.content_hash != p.content_hash:
        raise ReportError(
            f"a {inst.ref} result was scored with another definition of {inst.ref} (checksum {p.content_hash[:12]}, "
            f"the definition here is {inst.content_hash[:12]}); score its answers again before reporting"
        )
    prov = Provenance(
        inst.id,
        inst.version,
        inst.content_hash[:12],
        p.engine_version,
        inst.title,
        norm_table=p.norm_table,
        ipsative=inst.ipsative,
    )
    return inst, prov


def _score(rec: ScoredRecord, scale_id: str) -> float:
    v = rec.scale(scale_id).score
    return math.nan if v is None else float(v)


def _nan(v: float | None) -> float:
    return math.nan if v is None else float(v)


def _band(scale: object, band_id: str | None) -> Text | None:
    """The label of one of a scale's bands (None when not scored)."""
    for b in getattr(scale, "bands", []):
        if b.id == band_id:
            return b.label  # type: ignore[no-any-return]
    return None


def _range(inst: Instrument) -> tuple[int, int]:
    if inst.response is None:
        raise ReportError(f"{inst.ref} has no response format")
    return inst.response.min, inst.response.max


def _sem_band(score: float, rel: Reliability | None, ipsative: bool) -> tuple[float, float] | None:
    """score ± 1.645·SEM; never for ipsative scores (their SEM has no meaning per scale)."""
    if rel is None or ipsative or math.isnan(score):
        return None
    half = Z90 * rel.sem
    return (score - half, score + half)


def _zones(bands: Sequence[object], lo: float, hi: float) -> tuple[Zone, ...]:
    out, start = [], lo
    for b in bands:
        end = float(b.below) if getattr(b, "below", None) is not None else hi  # type: ignore[attr-defined]
        out.append(Zone(b.id, start, end, b.label))  # type: ignore[attr-defined]
        start = end
    return tuple(out)


def _flags(rec: ScoredRecord) -> tuple[str, ...]:
    return tuple(sorted(str(f) for f in rec.flags))


# -- norms ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _NormChoice:
    """The norm table chosen for one section, the group to compare with, and the test switch."""

    table: NormTable
    group: str
    allow_synthetic: bool


def _group_n(table: NormTable, group: str) -> int:
    """Respondents in ``group`` (the whole sample for ``all``), from the table's sample description."""
    if group == NORM_ALL:
        return int(table.sample.n)
    var, _, level = group.partition("=")
    counted = table.sample.groups.get(var, {}).get(level)
    if counted is not None:
        return int(counted)
    rows = table.table[table.table["group"] == group]
    return int(rows["n"].max()) if len(rows) else 0


def _norm_scores(
    rec: ScoredRecord, inst: Instrument, kind: str, choice: _NormChoice | None
) -> tuple[dict[str, NormScore], NormInfo | None]:
    """PR / T / stanine of every scale of ``row`` against the chosen table (nothing without one).

    Refused: an ipsative instrument (its scale scores depend on each other, so a rank
    against other people means nothing), a table of another instrument, version or
    definition, a table fitted to simulated data (unless ``allow_synthetic``, for
    tests), a group the table does not have, and a score outside the table.
    """
    if choice is None:
        return {}, None
    from scoring.research import NormTable

    table = choice.table
    if not isinstance(table, NormTable):
        raise ReportError(
            f"the norm table for {kind} must be a NormTable (load one with "
            f"scoring.research.read_norms), got {type(table).__name__}"
        )
    if inst.ipsative:
        raise ReportError(
            f"{inst.ref} is scored ipsatively (forced choices between scales): its scale scores depend on "
            f"each other, so reports never show percentile norms for them; leave out norm table {table.ref}"
        )
    if (table.instrument, table.instrument_version) != (inst.id, inst.version):
        raise ReportError(
            f"norm table {table.ref} was built for {table.instrument}@{table.instrument_version}, "
            f"but the {kind} result is {inst.ref}; use a table of {inst.ref}"
        )
    if table.instrument_hash and table.instrument_hash != inst.content_hash:
        raise ReportError(
            f"norm table {table.ref} was built from another definition of {inst.ref} (checksum "
            f"{table.instrument_hash[:12]}, shipped {inst.content_hash[:12]}); build the norms again"
        )
    if table.sample.synthetic and not choice.allow_synthetic:
        raise ReportError(
            f"norm table {table.ref} was fitted to simulated data: an invented norm is never presented "
            "as real (allow_synthetic=True exists for tests only)"
        )
    known = {s.id for s in inst.scales}
    if set(table.scales) != known:
        raise ReportError(
            f"norm table {table.ref} has scales {', '.join(table.scales)}; "
            f"{inst.ref} has {', '.join(s.id for s in inst.scales)}"
        )
    if choice.group not in table.groups:
        raise ReportError(f"norm table {table.ref} has no group {choice.group!r} (it has {', '.join(table.groups)})")
    raw = np.array([[_score(rec, sid) for sid in table.scales]], dtype=np.float64)
    try:
        out = table.transform(raw, choice.group)
    except ValueError as exc:
        raise ReportError(f"{inst.ref}: norm table {table.ref}: {exc}") from exc
    scores = {}
    for k, sid in enumerate(table.scales):
        pr = float(out.percentile[0, k])
        if not math.isnan(pr):
            scores[sid] = NormScore(pr=pr, t=float(out.t[0, k]), stanine=int(out.stanine[0, k]))
    s = table.sample
    info = NormInfo(
        table.norm_id,
        table.version,
        s.population,
        _group_n(table, choice.group),
        s.collected_from,
        s.collected_to,
        choice.group,
        bool(s.synthetic),
    )
    return scores, info


def _with_norms(prov: Provenance, info: NormInfo | None) -> Provenance:
    return prov if info is None else replace(prov, norm_table=info.ref, norms=info)


# -- reliabilities -------------------------------------------------------------------------


def _both(key: str, **values: object) -> Text:
    """One report text in ka and en (dates in each language's own form)."""
    out = {}
    for lang in LANGS:
        vals = {k: day(v, lang) if isinstance(v, date) else v for k, v in values.items()}
        out[lang] = strings(lang).get(key, **vals)
    return Text(**out)


def stored_reliability_source(n: int, as_of: date) -> Text:
    """The source of a reliability estimated from the answers a service holds: Cronbach's α
    from ``n`` administrations stored there, as of ``as_of`` (ka and en, for ``Reliability.source``)."""
    return _both("ui.sem.from_service", n=int(n), date=as_of)


def _usable(r: float, sd: float) -> bool:
    """α must be defined and positive (α ≤ 0 says the items do not measure one thing) and SD positive."""
    return math.isfinite(r) and 0 < r < 1 and math.isfinite(sd) and sd > 0


def norm_reliabilities(table: Any) -> dict[str, Reliability]:
    """Scale id → ``Reliability`` from the α and SD a norm table carries for its sample (empty when
    it carries none, as tables built from scores alone or older files)."""
    carried = getattr(table, "reliability", None) or {}
    if not carried:
        return {}
    source = _both(
        "ui.sem.from_norms",
        table=f"{table.instrument}/{table.ref}",
        n=int(table.sample.n),
    )
    return {
        sid: Reliability(r=float(x.alpha), sd=float(x.sd), source=source)
        for sid, x in carried.items()
        if _usable(float(x.alpha), float(x.sd))
    }


def _with_sources(section: Any, inst: Instrument, rel: Mapping[str, Reliability]) -> Any:
    """Name in the section's provenance where its reliabilities come from (never for ipsative scores)."""
    if inst.ipsative:
        return section
    sources: list[str | Text] = []
    for s in inst.scales:
        r = rel.get(s.id)
        if r is not None and r.source not in sources:
            sources.append(r.source)
    if not sources:
        return section
    return replace(section, provenance=replace(section.provenance, reliability=tuple(sources)))


# -- sections ------------------------------------------------------------------------------


def _scale(
    s: Any, rec: ScoredRecord, rel: Mapping[str, Reliability], ipsative: bool, normed: Mapping[str, NormScore]
) -> dict[str, Any]:
    """The fields every scale section shares, from the definition's scale and the record's score."""
    v = rec.scale(s.id)
    score = _nan(v.score)
    return {
        "id": s.id,
        "name": s.name,
        "score": score,
        "band": v.band,
        "band_label": _band(s, v.band),
        "n_missing": v.missing,
        "prorated": v.prorated,
        "sem_band": _sem_band(score, rel.get(s.id), ipsative),
        "norm": normed.get(s.id),
    }


def _missing_scale(inst: Instrument, rec: ScoredRecord, scale_id: str) -> ReportError:
    return ReportError(f"the {inst.ref} result has no score for its scale {scale_id!r}; score its answers again")


def _decision(
    rec: DecisionRecord,
    rel: Mapping[str, Reliability],
    choice: _NormChoice | None = None,
    given: Definitions | None = None,
) -> tuple[DecisionSection, Instrument]:
    inst, prov = _definition(rec, given)
    normed, info = _norm_scores(rec, inst, "decision", choice)
    prov = _with_norms(prov, info)
    certainty: ScaleScore | None = None
    barriers: list[Barrier] = []
    present = {s.id for s in rec.scales}
    for s in inst.scales:
        if s.id not in present:
            if s.clinical:  # withheld from this addressee (a record filtered for a packet without clinical detail)
                continue
            raise _missing_scale(inst, rec, s.id)
        common = _scale(s, rec, rel, prov.ipsative, normed)
        if s.role == "certainty":
            certainty = ScaleScore(**common)
        else:
            barriers.append(
                Barrier(
                    **common,
                    rank=rec.scale(s.id).rank or 0,
                    clinical=s.clinical,
                    description=s.description or s.name,
                )
            )
    if certainty is None:
        raise ReportError(f"{inst.ref} has no certainty scale")
    lo, hi = (float(x) for x in _range(inst))
    first_barrier = next(s for s in inst.scales if s.role == "barrier")
    return DecisionSection(
        provenance=prov,
        certainty=certainty,
        barriers=tuple(barriers),
        total_indecision=_nan(rec.total_indecision),
        status=rec.status,
        flags=_flags(rec),
        zones=_zones(first_barrier.bands, lo, hi),
        lo=lo,
        hi=hi,
    ), inst


def _holland(
    rec: HollandRecord,
    rel: Mapping[str, Reliability],
    choice: _NormChoice | None = None,
    given: Definitions | None = None,
) -> tuple[HollandSection, Instrument]:
    inst, prov = _definition(rec, given)
    normed, info = _norm_scores(rec, inst, "holland", choice)
    prov = _with_norms(prov, info)
    by_letter = {str(s.letter): s for s in inst.scales if s.role == "type"}
    if set(by_letter) != set("RIASEC"):
        raise ReportError(f"{inst.ref} does not have one scale for each of R I A S E C")
    present = {s.id for s in rec.scales}
    for s in by_letter.values():
        if s.id not in present:
            raise _missing_scale(inst, rec, s.id)
    bad = [c for c in rec.codes if c not in scoring.CANDIDATES]
    if bad:
        raise ReportError(
            f"the {inst.ref} result has the code {', '.join(bad)}, which is not three distinct RIASEC letters; "
            "score its answers again"
        )
    types = []
    for L in "RIASEC":
        s = by_letter[L]
        c = _scale(s, rec, rel, prov.ipsative, normed)
        types.append(
            TypeScore(
                L,
                s.name,
                s.description,
                c["score"],
                c["band"],
                c["band_label"],
                c["n_missing"],
                c["sem_band"],
                c["norm"],
                c["prorated"],
            )
        )
    titles = {sec.id: sec.title for sec in inst.sections}
    sections = tuple(
        SectionCounts(sec.id, titles[sec.id], {L: float(sec.counts[L]) for L in "RIASEC"})  # type: ignore[index]
        for sec in rec.sections
        if sec.id in titles
    )
    margin = float(getattr(inst.params, "code_margin", 0.0))
    max_score = float(max(len(inst.items_of(s.id)) for s in by_letter.values()))
    diff = _nan(rec.differentiation.get("iachan"))
    return HollandSection(
        provenance=prov,
        types=tuple(types),
        sections=sections,
        codes=tuple(rec.codes),
        consistency=tuple(rec.consistency),
        differentiation_iachan=diff,
        differentiation_range=_nan(rec.differentiation.get("range")),
        differentiation_level=differentiation_level(diff, margin),
        elevation=_nan(rec.elevation),
        congruence={},  # set from the aspirations the whole profile uses
        coherence=None,
        flags=_flags(rec),
        max_score=max_score,
        zones=_zones(by_letter["R"].bands, 0.0, max_score),
        code_margin=margin,
    ), inst


def _bipolar(
    rec: BipolarRecord,
    rel: Mapping[str, Reliability],
    choice: _NormChoice | None = None,
    given: Definitions | None = None,
) -> tuple[BipolarSection, Instrument]:
    inst, prov = _definition(rec, given)
    normed, info = _norm_scores(rec, inst, "bipolar", choice)
    prov = _with_norms(prov, info)
    top = _range(inst)[1]
    scored_dims = {d.id: d for d in rec.dimensions}
    clarity_bands = getattr(inst.params, "clarity_bands", [])
    dims = []
    for s in inst.scales:
        if s.role != "dimension" or s.negative_pole is None or s.positive_pole is None or s.id not in scored_dims:
            continue
        d = scored_dims[s.id]
        scored = next((x for x in rec.scales if x.id == s.id), None)
        neg = Pole(
            s.negative_pole.letter, Text(ka=s.negative_pole.ka, en=s.negative_pole.en), "".join(s.negative_pole.riasec)
        )
        pos = Pole(
            s.positive_pole.letter, Text(ka=s.positive_pole.ka, en=s.positive_pole.en), "".join(s.positive_pole.riasec)
        )
        preferred = neg if d.pole == neg.letter else pos if d.pole == pos.letter else None
        score = _nan(d.score)
        dims.append(
            Dimension(
                id=s.id,
                name=s.name,
                description=s.description,
                score=score,
                max_score=float(top * len(inst.items_of(s.id))),
                negative=neg,
                positive=pos,
                preferred=preferred,
                clarity=_nan(d.clarity),
                clarity_band=d.clarity_band,
                clarity_label=next((b.label for b in clarity_bands if b.id == d.clarity_band), None),
                band=scored.band if scored is not None else None,
                sem_band=_sem_band(score, rel.get(s.id), prov.ipsative),
                norm=normed.get(s.id),
                n_missing=scored.missing if scored is not None else 0,
                prorated=scored.prorated if scored is not None else False,
            )
        )
    if not dims:
        raise ReportError(f"{inst.ref} has no bipolar dimensions")
    return BipolarSection(
        provenance=prov,
        dimensions=tuple(dims),
        type_code=rec.type,
        reversals=rec.inconsistency_reversals,
        inconsistency=rec.inconsistency,
        flags=_flags(rec),
        clarity_zones=_zones(clarity_bands, 0.0, 1.0),
    ), inst


def _lookup(given: str, catalogue: Sequence[Occupation] | None) -> Occupation | None:
    return instruments.find_occupation(given, tuple(catalogue) if catalogue else None)


def _intake(
    rec: IntakeRecord, catalogue: Sequence[Occupation] | None, given: Definitions | None = None
) -> IntakeSection:
    inst, prov = _definition(rec, given)
    known = {f.id: f for f in inst.fields}
    for fid, v in rec.values.items():
        f = known.get(fid)
        if f is None:
            raise ReportError(f"{inst.ref} has no field {fid!r}")
        allowed = {o.value for o in f.options}
        if f.type == "choice" and v is not None and v not in allowed:
            raise ReportError(f"{inst.ref}: {fid} = {v!r} is not one of {', '.join(sorted(allowed))}")
        if f.type in ("multi", "occupations") and v is not None and not isinstance(v, tuple):
            raise ReportError(f"{inst.ref}: {fid} holds several answers, but the record has {v!r}")
        if f.type == "multi" and isinstance(v, tuple) and set(v) - allowed:
            raise ReportError(f"{inst.ref}: {fid} has unknown choice(s) {sorted(set(v) - allowed)}")
    field = inst.role("aspirations")
    named = rec.values.get(field.id) if field is not None else None
    aspirations = tuple(Aspiration(g, _lookup(g, catalogue)) for g in (named if isinstance(named, tuple) else ()))
    return IntakeSection(
        provenance=prov,
        instrument=inst,
        values=dict(rec.values),
        retraining_need=rec.retraining_need,
        retraining_reasons=rec.retraining_reasons,
        hard_needs=rec.hard_skills_needs,
        soft_needs=rec.soft_skills_needs,
        self_employment=rec.self_employment_interest,
        group=rec.job_seeker_group,
        group_reasons=rec.group_reasons,
        aspirations=tuple(replace(a, code=a.occupation.riasec) if a.occupation else a for a in aspirations),
    )


# -- one source for the aspirations ---------------------------------------------------------

CONGRUENCE = {"m": iachan_m, "c": brown_gore_c, "zs": zener_schnuelle}


def _aspirations(
    holland: HollandRecord | None, intake: IntakeSection | None, catalogue: Sequence[Occupation] | None
) -> tuple[tuple[Aspiration, ...], str | None]:
    """The aspirations the whole profile uses: those given with the SDS, else the intake's."""
    if holland is not None and holland.aspirations:
        out = []
        for a in holland.aspirations:
            occ = _lookup(a.given, catalogue)
            out.append(Aspiration(a.given, occ, code=a.code or (occ.riasec if occ else None)))
        return tuple(out), "holland"
    if intake is not None and intake.aspirations:
        return intake.aspirations, "intake"
    return (), None


def _fit(
    aspirations: tuple[Aspiration, ...], codes: tuple[str, ...], intake: IntakeSection | None
) -> tuple[Aspiration, ...]:
    """Each aspiration's best agreement with the person's code and whether training can reach it."""
    max_level = max_training_level(intake.isced) if intake is not None else None
    out = []
    for a in aspirations:
        m = max(iachan_m(c, a.code) for c in codes) if codes and a.code else None
        occ = a.occupation
        reach = None if max_level is None or occ is None else occ.training_level <= max_level
        out.append(replace(a, m=m, within_reach=reach))
    return tuple(out)


def _congruence(codes: tuple[str, ...], aspirations: tuple[Aspiration, ...]) -> dict[str, tuple[float, float]]:
    """Each index's lowest and highest value over the code's admissible orderings, against the first
    aspiration that has a code (none: no congruence)."""
    first = next((a.code for a in aspirations if a.code), None)
    if first is None or not codes:
        return {}
    return {
        name: (float(min(fn(c, first) for c in codes)), float(max(fn(c, first) for c in codes)))
        for name, fn in CONGRUENCE.items()
    }


def _coherence(aspirations: tuple[Aspiration, ...]) -> str | None:
    """High / average / low: how many of the other two of the first three share the first one's letter."""
    coded = [a.code for a in aspirations[:3]]
    if len(coded) < 3 or any(c is None for c in coded):
        return None
    same = sum(c[0] == coded[0][0] for c in coded[1:])  # type: ignore[index]
    return scoring.COHERENCE[same]


def _change(
    model: str,
    current: Instrument,
    before: ScoredRecord,
    after: ScoredRecord,
    rel: Mapping[str, Reliability],
    before_date: date | None,
    after_date: date | None,
    given: Definitions | None = None,
) -> ChangeSection:
    """Before → after, scale by scale. Two versions of one instrument are compared where their scales
    match; each scale names the items that changed between the versions (their changes.md), and no
    reliable change index is given for a scale whose items changed (the scores are not strictly
    comparable). Different instruments are refused."""
    old, _ = _definition(before, given)
    if old.id != current.id or old.model != current.model:
        raise ReportError(f"cannot compare results of different instruments ({old.ref} and {current.ref})")
    diff = instruments.version_changes(old, current)
    rows = []
    low, top = _range(current)
    if model == "decision":
        scales = list(current.scales)
        lo, hi = float(low), float(top)
    elif model == "holland":
        scales = sorted((s for s in current.scales if s.role == "type"), key=lambda s: "RIASEC".index(s.letter or "R"))
        lo, hi = 0.0, float(max(len(current.items_of(s.id)) for s in scales))
    else:
        scales = [s for s in current.scales if s.role == "dimension"]
        hi = float(max(top * len(current.items_of(s.id)) for s in scales))
        lo = -hi
    old_ids = {s.id for s in old.scales}
    present = {s.id for s in before.scales} & {s.id for s in after.scales} & old_ids
    item_changes = []
    for s in scales:
        if s.id not in present:
            continue
        items = dict.fromkeys([*(i.id for i in old.items_of(s.id)), *(i.id for i in current.items_of(s.id))])
        changed = diff.items_of(items)
        b, a = _score(before, s.id), _score(after, s.id)
        r = rel.get(s.id)
        rci = None
        if r is not None and not current.ipsative and not changed and not (math.isnan(a) or math.isnan(b)):
            rci = (a - b) / (math.sqrt(2) * r.sem)
        name = s.name
        if s.negative_pole is not None and s.positive_pole is not None:
            neg, pos = s.negative_pole, s.positive_pole
            name = Text(ka=f"{neg.ka} – {pos.ka}", en=f"{neg.en} – {pos.en}")
        ids = tuple(c.key or "" for c in changed)
        rows.append(
            ChangeRow(
                s.id,
                name,
                b,
                a,
                rci,
                s.clinical,
                changed=ids,
                not_comparable=tuple(c.key or "" for c in changed if not c.comparable),
            )
        )
        item_changes += [ItemChange(c.key or "", s.id, c.old, c.new, c.comparable, c.why) for c in changed]
    left_out = tuple(sorted({x.id for x in current.scales} ^ old_ids))
    return ChangeSection(
        model,
        current.title,
        before_date,
        after_date,
        tuple(rows),
        lo,
        hi,
        before_version=old.version,
        after_version=current.version,
        documented=diff.documented,
        item_changes=tuple(item_changes),
        scales_left_out=left_out,
    )


# -- matching that starts from the person ---------------------------------------------------

RELATED_LIMIT = 4
"""At most this many occupations close to the person's trade and wishes."""


def _weighed(
    given: str,
    occ: Occupation | None,
    codes: tuple[str, ...],
    max_level: int | None,
    limits: tuple[str, ...],
    code: str | None = None,
) -> Wish:
    """One named occupation against the person: Iachan M over every admissible ordering of the code,
    reach with the completed education, and the limits that rule it out."""
    code = code or (occ.riasec if occ is not None else None)
    m_range = None
    if codes and code:
        ms = [iachan_m(c, code) for c in codes]
        m_range = (min(ms), max(ms))
    reach = None if max_level is None or occ is None else occ.training_level <= max_level
    blocked = blocked_by(occ, limits) if occ is not None else ()
    return Wish(given, occ, m_range, reach, blocked, code)


def _related(
    named: Sequence[Occupation],
    codes: tuple[str, ...],
    max_level: int | None,
    limits: tuple[str, ...],
    catalogue: Sequence[Occupation] | None,
) -> tuple[Match, ...]:
    """Catalogue occupations in the ISCO-08 unit group of the trade or of a wish (a trained cook: the
    other cooks), that the fund suggests, the limits allow and the education (or retraining) reaches;
    best agreement with the code first, then the training level closest to the person's."""
    groups = {o.isco for o in named}
    taken = set(named)
    cat = catalogue if catalogue is not None else instruments.occupations()
    ranked = []
    for occ in cat:
        if occ.isco not in groups or occ in taken or not suggestible(occ) or blocked_by(occ, limits):
            continue
        reach = max_level is None or occ.training_level <= max_level
        if not reach and occ.training_level > RETRAINING_MAX_LEVEL:
            continue
        if codes:
            m, c, mean, best = agreement(codes, occ)
        else:
            m, c, mean, best = 0, 0, 0.0, ""
        if max_level is None:
            closeness = occ.training_level
        else:
            closeness = abs(max_level - occ.training_level) if reach else occ.training_level
        ranked.append(((not reach, -m, -c, closeness, occ.isco, occ.name.en), Match(occ, m, c, mean, best, reach)))
    ranked.sort(key=lambda kv: kv[0])
    return tuple(mt for _, mt in ranked[:RELATED_LIMIT])


def _start(
    intake: IntakeSection | None,
    wishes: tuple[Aspiration, ...],
    codes: tuple[str, ...],
    catalogue: Sequence[Occupation] | None,
) -> PersonStart | None:
    """The person's own trade and wishes first (issue: a trained cook who wants to cook is offered
    cooking before anything the interests alone suggest). None when neither is known."""
    trade_given = intake.trade if intake is not None else None
    if trade_given is None and not wishes:
        return None
    max_level = max_training_level(intake.isced) if intake is not None else None
    limits = intake.limits if intake is not None else ()
    weighed = tuple(_weighed(a.given, a.occupation, codes, max_level, limits, a.code) for a in wishes)
    trade = None
    if trade_given is not None:
        occ = _lookup(trade_given, catalogue)
        w = _weighed(trade_given, occ, codes, max_level, limits)
        demand = intake.value("profession_in_demand") if intake is not None else None
        years = intake.value("experience_years") if intake is not None else None
        wished = occ is not None and any(x.occupation == occ for x in weighed)
        trade = Trade(
            **{f: getattr(w, f) for f in ("given", "occupation", "m_range", "within_reach", "blocked", "code")},
            in_demand=demand if isinstance(demand, bool) else None,
            years=float(years) if isinstance(years, int | float) and not isinstance(years, bool) else None,
            wished=wished,
        )
    named = [w.occupation for w in (*((trade,) if trade else ()), *weighed) if w.occupation is not None]
    related = _related(named, codes, max_level, limits, catalogue)
    return PersonStart(trade=trade, wishes=weighed, related=related)


# -- the profile ---------------------------------------------------------------------------


def _by_model(records: Sequence[ScoreRecord], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for r in records:
        if isinstance(r, GenericRecord):
            raise ReportError(f"{r.provenance.ref} is a generic instrument: reports have no section for it")
        if r.model in out:
            raise ReportError(f"two {r.model} results given as {what}; a report takes one of each")
        out[r.model] = r
    return out


def build_profile(
    person_id: str,
    records: Sequence[ScoreRecord] = (),
    *,
    previous: Sequence[ScoreRecord] = (),
    previous_date: date | None = None,
    previous_dates: Mapping[str, date] | None = None,
    name: str | None = None,
    administrator: str = "",
    administered: date | None = None,
    report_date: date | None = None,
    config: ReportConfig | None = None,
    reliabilities: Mapping[str, Mapping[str, Reliability]] | None = None,
    catalogue: Sequence[Occupation] | None = None,
    limit: int = 10,
    norms: Mapping[str, NormTable] | None = None,
    norm_group: str = NORM_ALL,
    allow_synthetic: bool = False,
    definitions: Sequence[Instrument] = (),
    history: Sequence[ResultNote] = (),
) -> Profile:
    """Combine whatever results exist for one person into a report's content.

    ``records``: typed result records (``scoring.ScoreRecord``: one per model at most, e.g.
    from ``ScoreResult.records()`` or a stored result). ``previous``: earlier records of the
    same models, for the change section. ``reliabilities``: model (``decision``, ``holland``,
    ``bipolar``) → scale id → ``Reliability``; without them no SEM band is drawn (and reports
    say so). ``previous_dates``: model → the date of its previous record, where the previous
    records were given on different days (``previous_date`` for the models not named). A chosen
    norm table that carries its sample's α and SD supplies them for its
    model; ``reliabilities`` given here override it scale by scale. ``norms``: model →
    ``scoring.research.NormTable``; each scale then gets its mid-point percentile rank,
    normalized T and stanine in ``norm_group`` (``all`` or e.g. ``gender=f``), and the
    section's provenance names the table. A table of another instrument, version or
    definition, one for an ipsative instrument, and one fitted to simulated data are refused;
    ``allow_synthetic=True`` lifts the last refusal, for tests only. ``definitions``: instrument
    definitions that are not shipped (e.g. ``instruments.load_path`` of a new instrument or
    version); a record naming one of them (id + version, checked by its content hash) is
    reported with it, every other record with the shipped definition it names. ``history``: how
    the results came to be when they were corrected or scored again (``ResultNote``, oldest
    first); the psychologist's version says so under the administration's date.
    """
    person_id = str(person_id).strip()
    if not person_id:
        raise ReportError("a report needs the person's id (pseudonymous code)")
    given = _given(definitions)
    recs = _by_model(records, "results")
    if not recs:
        raise ReportError(f"no results for {person_id}: give at least one result record")
    choices: dict[str, _NormChoice] = {}
    for model, table in (norms or {}).items():
        if model not in NORMED:
            raise ReportError(f"norm tables can be given for {', '.join(NORMED)} results (got {model!r})")
        if model not in recs:
            raise ReportError(
                f"a norm table ({getattr(table, 'ref', table)!r}) was given for {model} but there is no {model} result"
            )
        choices[model] = _NormChoice(table, str(norm_group), allow_synthetic)
    rel: dict[str, Mapping[str, Reliability]] = {k: norm_reliabilities(c.table) for k, c in choices.items()}
    for model, chosen in (reliabilities or {}).items():
        rel[model] = {**rel.get(model, {}), **chosen}
    insts: dict[str, Instrument] = {}
    decision = holland = bipolar = None
    if "decision" in recs:
        decision, insts["decision"] = _decision(
            recs["decision"], rel.get("decision", {}), choices.get("decision"), given
        )
        decision = _with_sources(decision, insts["decision"], rel.get("decision", {}))
    if "holland" in recs:
        holland, insts["holland"] = _holland(recs["holland"], rel.get("holland", {}), choices.get("holland"), given)
        holland = _with_sources(holland, insts["holland"], rel.get("holland", {}))
    if "bipolar" in recs:
        bipolar, insts["bipolar"] = _bipolar(recs["bipolar"], rel.get("bipolar", {}), choices.get("bipolar"), given)
        bipolar = _with_sources(bipolar, insts["bipolar"], rel.get("bipolar", {}))
    intake_s = _intake(recs["intake"], catalogue, given) if "intake" in recs else None

    codes = holland.codes if holland is not None else ()
    used, source = _aspirations(recs.get("holland"), intake_s, catalogue)
    used = _fit(used, codes, intake_s)
    if intake_s is not None:
        intake_s = replace(intake_s, aspirations=_fit(intake_s.aspirations, codes, intake_s))
    if holland is not None:
        holland = replace(holland, congruence=_congruence(codes, used), coherence=_coherence(used))

    readable = codes if 0 < len(codes) <= MAX_ORDERINGS else ()
    start = _start(intake_s, used, readable, catalogue)
    notes: list[str] = []
    matches = None
    if holland is None:
        notes.append("ui.note.no_sds")
    elif not holland.codes:
        notes.append("ui.note.no_code")
    elif len(holland.codes) > MAX_ORDERINGS:
        notes.append("ui.note.code_undetermined")
    else:
        matches = match_occupations(
            holland.codes,
            isced=intake_s.isced if intake_s else None,
            limits=intake_s.limits if intake_s else (),
            limit=limit,
            catalogue=catalogue,
            leave_out=start.occupations if start is not None else (),
        )
        if intake_s is None:  # occupations were matched without knowing education, trade or limits
            notes.append("ui.note.no_intake")

    changes = []
    for model, before in _by_model(previous, "previous results").items():
        if model == "intake":
            continue
        if model not in recs:
            raise ReportError(f"a previous {model} result was given but no current one to compare with")
        changes.append(
            _change(
                model,
                insts[model],
                before,
                recs[model],
                rel.get(model, {}),
                (previous_dates or {}).get(model, previous_date),
                administered,
                given,
            )
        )

    interventions = {}
    if "decision" in insts:
        interventions = {s.id: tuple(s.interventions) for s in insts["decision"].scales}
    activities = recommend(decision, holland, intake_s, interventions)
    meta = Meta(
        person_id=person_id,
        name=name.strip() if name and name.strip() else None,
        administered=administered,
        report_date=report_date or date.today(),
        administrator=administrator.strip(),
        config=config or ReportConfig(),
        software_version=software_version(),
        history=tuple(history),
    )
    return Profile(
        meta=meta,
        intake=intake_s,
        decision=decision,
        holland=holland,
        bipolar=bipolar,
        matches=matches,
        activities=activities,
        changes=tuple(changes),
        reliabilities_known=any(rel.get(k) for k in recs),
        notes=tuple(notes),
        aspirations=used,
        aspirations_source=source,
        start=start,
    )
