"""Scored results (rows of ``ScoreResult.to_frame()``, or the CSV written from it) → ``Profile``.

Rows may come straight from pandas (typed) or from a CSV read as text, so
every value is parsed here and a wrong one is reported with its column.
Texts (scale names, band labels, pole names) come from the instrument
definition the row names (id + version); a row scored with a different
definition than the one shipped now is refused rather than mislabelled.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

import instruments
import scoring
from instruments import Instrument, Occupation, Text
from scoring import ScoreResult, iachan_m

from ._errors import ReportError
from ._matching import MAX_ORDERINGS, education_max_level, match_occupations
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
    Meta,
    NormInfo,
    NormScore,
    Pole,
    Profile,
    Provenance,
    Reliability,
    ReportConfig,
    ScaleScore,
    SectionCounts,
    TypeScore,
    Zone,
)
from ._rules import CLINICAL_BARRIERS, differentiation_level, recommend
from ._strings import LANGS, strings
from ._view import day

if TYPE_CHECKING:
    from scoring.research import NormTable

Row = Mapping[str, object] | ScoreResult | pd.Series
Reliabilities = Mapping[str, Mapping[str, Reliability]]
Z90 = 1.645
_TRUE = {"true", "1", "1.0", "yes", "y", "კი", "დიახ"}
_FALSE = {"false", "0", "0.0", "no", "n", "არა"}
EXPECTED_MODEL = {"intake": "intake", "vdq": "decision", "sds": "holland", "ppi": "bipolar"}
NORM_ALL = "all"
"""The whole norm sample (``scoring.research``'s ``ALL`` group)."""
NORMED = ("vdq", "sds", "ppi")


def software_version() -> str:
    try:
        return metadata.version("proforient")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


# -- reading one row -------------------------------------------------------------------------

class _Row:
    """One scored row with typed accessors that name the column when a value is wrong."""

    def __init__(self, data: Mapping[str, object], what: str) -> None:
        self.data = data
        self.what = what

    def raw(self, col: str) -> object:
        return self.data.get(col)

    def blank(self, col: str) -> bool:
        v = self.data.get(col)
        return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())

    def need(self, col: str) -> object:
        if col not in self.data:
            raise ReportError(f"{self.what}: column {col!r} is missing (is this a scored result?)")
        return self.data[col]

    def num(self, col: str, required: bool = True) -> float:
        if required:
            self.need(col)
        if self.blank(col):
            return math.nan
        v = self.data[col]
        try:
            return float(str(v).replace(",", ".")) if isinstance(v, str) else float(v)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ReportError(f"{self.what}: column {col!r} holds {v!r}, not a number") from None

    def int_(self, col: str, required: bool = True) -> int:
        v = self.num(col, required)
        return 0 if math.isnan(v) else int(round(v))

    def text(self, col: str, required: bool = True) -> str | None:
        if required:
            self.need(col)
        return None if self.blank(col) else str(self.data[col]).strip()

    def items(self, col: str, required: bool = True) -> tuple[str, ...]:
        if required:
            self.need(col)
        v = self.data.get(col)
        if isinstance(v, list | tuple):
            return tuple(str(x).strip() for x in v if str(x).strip())
        if self.blank(col):
            return ()
        return tuple(p.strip() for p in str(v).split(";") if p.strip())

    def flag(self, col: str, required: bool = True) -> bool | None:
        if required:
            self.need(col)
        v = self.data.get(col)
        if isinstance(v, bool):
            return v
        if self.blank(col):
            return None
        s = str(v).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise ReportError(f"{self.what}: column {col!r} holds {v!r}, not yes/no")


def _as_row(value: Row, kind: str, person_id: str) -> _Row:
    if isinstance(value, ScoreResult):
        if len(value) != 1:
            raise ReportError(f"{kind}: a ScoreResult with {len(value)} rows; pass one person's row")
        data: Mapping[str, object] = value.to_frame().iloc[0].to_dict()
    elif isinstance(value, pd.Series):
        data = value.to_dict()
    elif isinstance(value, Mapping):
        data = value
    else:
        raise ReportError(f"{kind}: expected a scored row (mapping), got {type(value).__name__}")
    row = _Row(data, f"{kind} result for {person_id}")
    rid_value = data.get("id")
    if isinstance(rid_value, float) and rid_value.is_integer():
        data = {**data, "id": int(rid_value)}
        row = _Row(data, row.what)
    rid = row.text("id", required=False)
    if rid is not None and rid != person_id:
        raise ReportError(f"{kind}: the row belongs to {rid!r}, not to {person_id!r}")
    return row


def _instrument(row: _Row, kind: str) -> tuple[Instrument, Provenance]:
    iid = row.text("instrument")
    ver = row.text("instrument_version")
    try:
        inst = instruments.load(iid or "", ver)
    except instruments.InstrumentError as exc:
        raise ReportError(f"{row.what}: {iid}@{ver} cannot be loaded: {exc}") from exc
    if inst.model != EXPECTED_MODEL[kind]:
        raise ReportError(f"{row.what}: {inst.ref} is a {inst.model} instrument, not a {kind} result")
    stored = row.text("instrument_hash", required=False)
    if stored and not inst.content_hash.startswith(stored):
        raise ReportError(
            f"{row.what}: scored with another definition of {inst.ref} (checksum {stored}, shipped "
            f"{inst.content_hash[:12]}); score the answers again before reporting"
        )
    engine = row.text("engine_version") or ""
    prov = Provenance(inst.id, inst.version, inst.content_hash[:12], engine, inst.title,
                      norm_table=None, ipsative=inst.ipsative)
    return inst, prov


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


def _flags(row: _Row) -> tuple[str, ...]:
    return row.items("flags")


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


def _norm_scores(row: _Row, inst: Instrument, kind: str,
                 choice: _NormChoice | None) -> tuple[dict[str, NormScore], NormInfo | None]:
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
        raise ReportError(f"the norm table for {kind} must be a NormTable (load one with "
                          f"scoring.research.read_norms), got {type(table).__name__}")
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
        raise ReportError(f"norm table {table.ref} has scales {', '.join(table.scales)}; "
                          f"{inst.ref} has {', '.join(s.id for s in inst.scales)}")
    if choice.group not in table.groups:
        raise ReportError(f"norm table {table.ref} has no group {choice.group!r} "
                          f"(it has {', '.join(table.groups)})")
    raw = np.array([[row.num(sid) for sid in table.scales]], dtype=np.float64)
    try:
        out = table.transform(raw, choice.group)
    except ValueError as exc:
        raise ReportError(f"{row.what}: norm table {table.ref}: {exc}") from exc
    scores = {}
    for k, sid in enumerate(table.scales):
        pr = float(out.percentile[0, k])
        if not math.isnan(pr):
            scores[sid] = NormScore(pr=pr, t=float(out.t[0, k]), stanine=int(out.stanine[0, k]))
    s = table.sample
    info = NormInfo(table.norm_id, table.version, s.population, _group_n(table, choice.group),
                    s.collected_from, s.collected_to, choice.group, bool(s.synthetic))
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


def norm_reliabilities(table: object) -> dict[str, Reliability]:
    """Scale id → ``Reliability`` from the α and SD a norm table carries for its sample (empty when
    it carries none, as tables built from scores alone or older files)."""
    carried = getattr(table, "reliability", None) or {}
    if not carried:
        return {}
    source = _both("ui.sem.from_norms", table=f"{table.instrument}/{table.ref}",  # type: ignore[attr-defined]
                   n=int(table.sample.n))  # type: ignore[attr-defined]
    return {sid: Reliability(r=float(x.alpha), sd=float(x.sd), source=source)
            for sid, x in carried.items() if _usable(float(x.alpha), float(x.sd))}


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

def _decision(row: _Row, rel: Mapping[str, Reliability],
              choice: _NormChoice | None = None) -> tuple[DecisionSection, Instrument]:
    inst, prov = _instrument(row, "vdq")
    normed, info = _norm_scores(row, inst, "vdq", choice)
    prov = _with_norms(prov, info)
    certainty: ScaleScore | None = None
    barriers: list[Barrier] = []
    for s in inst.scales:
        score = row.num(s.id)
        band = row.text(f"{s.id}_band")
        common = dict(id=s.id, name=s.name, score=score, band=band, band_label=_band(s, band),
                      n_missing=row.int_(f"{s.id}_missing"),
                      sem_band=_sem_band(score, rel.get(s.id), prov.ipsative), norm=normed.get(s.id))
        if s.role == "certainty":
            certainty = ScaleScore(**common)  # type: ignore[arg-type]
        else:
            barriers.append(Barrier(**common, rank=row.int_(f"{s.id}_rank"),  # type: ignore[arg-type]
                                    clinical=s.id in CLINICAL_BARRIERS))
    if certainty is None or not barriers:
        raise ReportError(f"{inst.ref} has no certainty scale or no barriers")
    lo, hi = (float(x) for x in _range(inst))
    first_barrier = next(s for s in inst.scales if s.role == "barrier")
    return DecisionSection(
        provenance=prov,
        certainty=certainty,
        barriers=tuple(barriers),
        total_indecision=row.num("total_indecision"),
        status=row.text("decision_status"),
        flags=_flags(row),
        zones=_zones(first_barrier.bands, lo, hi),
        lo=lo,
        hi=hi,
    ), inst


def _holland(row: _Row, rel: Mapping[str, Reliability],
             choice: _NormChoice | None = None) -> tuple[HollandSection, Instrument]:
    inst, prov = _instrument(row, "sds")
    normed, info = _norm_scores(row, inst, "sds", choice)
    prov = _with_norms(prov, info)
    by_letter = {s.letter: s for s in inst.scales if s.role == "type"}
    if set(by_letter) != set("RIASEC"):
        raise ReportError(f"{inst.ref} does not have one scale for each of R I A S E C")
    types = []
    for L in "RIASEC":
        s = by_letter[L]
        total = row.num(s.id)
        band = row.text(f"{s.id}_band")
        types.append(TypeScore(L, s.name, s.description, total, band, _band(s, band),
                               row.int_(f"{s.id}_missing"), _sem_band(total, rel.get(s.id), prov.ipsative),
                               normed.get(s.id)))
    sections = tuple(
        SectionCounts(sec.id, sec.title, {L: row.num(f"{sec.id}_{L}") for L in "RIASEC"})
        for sec in inst.sections
    )
    code = row.text("code") or ""
    codes = tuple(c for c in code.split("/") if c)
    bad = [c for c in codes if c not in scoring.CANDIDATES]
    if bad:
        raise ReportError(f"{row.what}: code {code!r} is not a RIASEC code")
    congruence = {}
    for name in ("m", "c", "zs"):
        lo_, hi_ = row.num(f"congruence_{name}_min"), row.num(f"congruence_{name}_max")
        if not (math.isnan(lo_) or math.isnan(hi_)):
            congruence[name] = (lo_, hi_)
    margin = float(getattr(inst.params, "code_margin", 0.0))
    max_score = float(max(len(inst.items_of(s.id)) for s in by_letter.values()))
    diff = row.num("differentiation_iachan")
    consistency = row.text("consistency")
    return HollandSection(
        provenance=prov,
        types=tuple(types),
        sections=sections,
        codes=codes,
        consistency=tuple(consistency.split("/")) if consistency else (),
        differentiation_iachan=diff,
        differentiation_range=row.num("differentiation_range"),
        differentiation_level=differentiation_level(diff, margin),
        elevation=row.num("elevation"),
        congruence=congruence,
        coherence=row.text("coherence"),
        flags=_flags(row),
        max_score=max_score,
        zones=_zones(by_letter["R"].bands, 0.0, max_score),
        code_margin=margin,
    ), inst


def _bipolar(row: _Row, rel: Mapping[str, Reliability],
             choice: _NormChoice | None = None) -> tuple[BipolarSection, Instrument]:
    inst, prov = _instrument(row, "ppi")
    normed, info = _norm_scores(row, inst, "ppi", choice)
    prov = _with_norms(prov, info)
    top = _range(inst)[1]
    dims = []
    for s in inst.scales:
        if s.role != "dimension" or s.negative_pole is None or s.positive_pole is None:
            continue
        neg = Pole(s.negative_pole.letter, Text(ka=s.negative_pole.ka, en=s.negative_pole.en),
                   "".join(s.negative_pole.riasec))
        pos = Pole(s.positive_pole.letter, Text(ka=s.positive_pole.ka, en=s.positive_pole.en),
                   "".join(s.positive_pole.riasec))
        letter = row.text(f"{s.id}_pole")
        preferred = neg if letter == neg.letter else pos if letter == pos.letter else None
        cband = row.text(f"{s.id}_clarity_band")
        clarity_bands = getattr(inst.params, "clarity_bands", [])
        score = row.num(s.id)
        dims.append(Dimension(
            id=s.id, name=s.name, description=s.description, score=score,
            max_score=float(top * len(inst.items_of(s.id))),
            negative=neg, positive=pos, preferred=preferred,
            clarity=row.num(f"{s.id}_clarity"), clarity_band=cband,
            clarity_label=next((b.label for b in clarity_bands if b.id == cband), None),
            band=row.text(f"{s.id}_band"),
            sem_band=_sem_band(score, rel.get(s.id), prov.ipsative),
            norm=normed.get(s.id),
        ))
    if not dims:
        raise ReportError(f"{inst.ref} has no bipolar dimensions")
    return BipolarSection(
        provenance=prov,
        dimensions=tuple(dims),
        type_code=row.text("type") or "",
        reversals=row.int_("inconsistency_reversals"),
        inconsistency=row.num("inconsistency"),
        flags=_flags(row),
        clarity_zones=_zones(getattr(inst.params, "clarity_bands", []), 0.0, 1.0),
    ), inst


def _intake(row: _Row, catalogue: Sequence[Occupation] | None) -> IntakeSection:
    inst, prov = _instrument(row, "intake")
    values: dict[str, object] = {}
    for f in inst.fields:
        if f.type in ("choice", "text"):
            v = row.text(f.id, required=False)
            if f.type == "choice" and v is not None and v not in {o.value for o in f.options}:
                raise ReportError(f"{row.what}: {f.id} = {v!r} is not one of "
                                  f"{', '.join(o.value for o in f.options)}")
            values[f.id] = v
        elif f.type in ("multi", "occupations"):
            vs = row.items(f.id, required=False)
            allowed = {o.value for o in f.options}
            if f.type == "multi" and set(vs) - allowed:
                raise ReportError(f"{row.what}: {f.id} has unknown choice(s) {sorted(set(vs) - allowed)}")
            values[f.id] = vs
        elif f.type == "bool":
            values[f.id] = row.flag(f.id, required=False)
        else:
            n = row.num(f.id, required=False)
            values[f.id] = None if math.isnan(n) else n
    group = row.text("job_seeker_group")
    if group is not None and group not in scoring.GROUPS:
        raise ReportError(f"{row.what}: job_seeker_group {group!r} is not one of {', '.join(scoring.GROUPS)}")
    aspirations = tuple(
        Aspiration(given, instruments.find_occupation(given, tuple(catalogue) if catalogue else None))
        for given in values.get("aspired_occupations") or ()  # type: ignore[attr-defined]
    )
    return IntakeSection(
        provenance=prov,
        instrument=inst,
        values=values,
        retraining_need=bool(row.flag("retraining_need")),
        retraining_reasons=row.items("retraining_reasons"),
        hard_needs=row.items("hard_skills_needs"),
        soft_needs=row.items("soft_skills_needs"),
        self_employment=bool(row.flag("self_employment_interest")),
        group=group,
        group_reasons=row.items("group_reasons"),
        aspirations=aspirations,
    )


def _with_aspiration_fit(intake: IntakeSection, codes: tuple[str, ...]) -> IntakeSection:
    level = intake.values.get("education_level")
    max_level = education_max_level(level, intake.instrument) if isinstance(level, str) else None
    out = []
    for a in intake.aspirations:
        occ = a.occupation
        if occ is None:
            out.append(a)
            continue
        m = max(iachan_m(c, occ.riasec) for c in codes) if codes else None
        reach = None if max_level is None else occ.training_level <= max_level
        out.append(Aspiration(a.given, occ, m, reach))
    return replace(intake, aspirations=tuple(out))


def _change(kind: str, current_inst: Instrument, before: _Row, after: _Row,
            rel: Mapping[str, Reliability], before_date: date | None, after_date: date | None) -> ChangeSection:
    inst, _ = _instrument(before, kind)
    if inst.ref != current_inst.ref:
        raise ReportError(f"cannot compare {kind} results of different versions ({inst.ref} and {current_inst.ref})")
    rows = []
    low, top = _range(inst)
    if kind == "vdq":
        scales = list(inst.scales)
        lo, hi = float(low), float(top)
    elif kind == "sds":
        scales = sorted((s for s in inst.scales if s.role == "type"), key=lambda s: "RIASEC".index(s.letter or "R"))
        lo, hi = 0.0, float(max(len(inst.items_of(s.id)) for s in scales))
    else:
        scales = [s for s in inst.scales if s.role == "dimension"]
        hi = float(max(top * len(inst.items_of(s.id)) for s in scales))
        lo = -hi
    for s in scales:
        b, a = before.num(s.id), after.num(s.id)
        r = rel.get(s.id)
        rci = None
        if r is not None and not inst.ipsative and not (math.isnan(a) or math.isnan(b)):
            rci = (a - b) / (math.sqrt(2) * r.sem)
        name = s.name
        if s.negative_pole is not None and s.positive_pole is not None:
            neg, pos = s.negative_pole, s.positive_pole
            name = Text(ka=f"{neg.ka} – {pos.ka}", en=f"{neg.en} – {pos.en}")
        rows.append(ChangeRow(s.id, name, b, a, rci, s.id in CLINICAL_BARRIERS))
    return ChangeSection(kind, inst.title, before_date, after_date, tuple(rows), lo, hi)


# -- the profile ---------------------------------------------------------------------------

def build_profile(
    person_id: str,
    *,
    intake: Row | None = None,
    vdq: Row | None = None,
    sds: Row | None = None,
    ppi: Row | None = None,
    previous: Mapping[str, Row] | None = None,
    previous_date: date | None = None,
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
) -> Profile:
    """Combine whatever results exist for one person into a report's content.

    ``intake``, ``vdq``, ``sds``, ``ppi``: one scored row each (a mapping such
    as a row of ``ScoreResult.to_frame()``, a ``pandas.Series``, or a
    one-row ``ScoreResult``); the intake row holds the form's fields and
    ``score_intake``'s columns. ``previous``: earlier rows by instrument id,
    for the change section. ``reliabilities``: instrument id → scale id →
    ``Reliability``; without them no SEM band is drawn (and reports say so). A chosen norm
    table that carries its sample's α and SD (``NormTable.reliability``) supplies them for
    its instrument; ``reliabilities`` given here override it scale by scale.
    ``norms``: instrument id (``vdq``, ``sds``, ``ppi``) → ``scoring.research.NormTable``
    (e.g. from ``read_norms``); each scale of that instrument then gets its mid-point
    percentile rank, normalized T and stanine in ``norm_group`` (``all`` or a group such
    as ``gender=f``), and the section's provenance names the table. Instruments without a
    table keep criterion bands (and reports say so). A table of another instrument,
    version or definition, a table for an ipsative instrument, and a table fitted to
    simulated data are refused; ``allow_synthetic=True`` lifts the last refusal, for tests only.
    """
    person_id = str(person_id).strip()
    if not person_id:
        raise ReportError("a report needs the person's id (pseudonymous code)")
    if all(x is None for x in (intake, vdq, sds, ppi)):
        raise ReportError(f"no results for {person_id}: give at least one of intake, vdq, sds, ppi")
    rows = {k: _as_row(v, k, person_id) for k, v in
            (("intake", intake), ("vdq", vdq), ("sds", sds), ("ppi", ppi)) if v is not None}
    choices: dict[str, _NormChoice] = {}
    for kind, table in (norms or {}).items():
        if kind not in NORMED:
            raise ReportError(f"norm tables can be given for {', '.join(NORMED)} (got {kind!r})")
        if kind not in rows:
            raise ReportError(f"a norm table ({getattr(table, 'ref', table)!r}) was given for {kind} "
                              f"but there is no {kind} result")
        choices[kind] = _NormChoice(table, str(norm_group), allow_synthetic)
    rel: dict[str, Mapping[str, Reliability]] = {k: norm_reliabilities(c.table) for k, c in choices.items()}
    for kind, given in (reliabilities or {}).items():
        rel[kind] = {**rel.get(kind, {}), **given}
    insts: dict[str, Instrument] = {}
    decision = holland = bipolar = None
    if "vdq" in rows:
        decision, insts["vdq"] = _decision(rows["vdq"], rel.get("vdq", {}), choices.get("vdq"))
    if "sds" in rows:
        holland, insts["sds"] = _holland(rows["sds"], rel.get("sds", {}), choices.get("sds"))
    if "ppi" in rows:
        bipolar, insts["ppi"] = _bipolar(rows["ppi"], rel.get("ppi", {}), choices.get("ppi"))
    if decision is not None:
        decision = _with_sources(decision, insts["vdq"], rel.get("vdq", {}))
    if holland is not None:
        holland = _with_sources(holland, insts["sds"], rel.get("sds", {}))
    if bipolar is not None:
        bipolar = _with_sources(bipolar, insts["ppi"], rel.get("ppi", {}))
    intake_s = _intake(rows["intake"], catalogue) if "intake" in rows else None

    notes: list[str] = []
    matches = None
    if holland is None:
        notes.append("ui.note.no_sds")
    elif not holland.codes:
        notes.append("ui.note.no_code")
    elif len(holland.codes) > MAX_ORDERINGS:
        notes.append("ui.note.code_undetermined")
    else:
        education = intake_s.values.get("education_level") if intake_s else None
        matches = match_occupations(
            holland.codes,
            education=education if isinstance(education, str) else None,
            constraints=intake_s.constraints if intake_s else (),
            limit=limit,
            catalogue=catalogue,
            intake=intake_s.instrument if intake_s else None,
        )
    if intake_s is not None:
        intake_s = _with_aspiration_fit(intake_s, holland.codes if holland else ())

    changes = []
    for kind, before in (previous or {}).items():
        if kind not in ("vdq", "sds", "ppi"):
            raise ReportError(f"previous results can be given for vdq, sds or ppi (got {kind!r})")
        if kind not in rows:
            raise ReportError(f"a previous {kind} result was given but no current one to compare with")
        changes.append(_change(kind, insts[kind], _as_row(before, f"previous {kind}", person_id),
                               rows[kind], rel.get(kind, {}), previous_date, administered))

    interventions = {}
    if "vdq" in insts:
        interventions = {s.id: tuple(s.interventions) for s in insts["vdq"].scales}
    activities = recommend(decision, holland, intake_s, interventions)
    meta = Meta(
        person_id=person_id,
        name=name.strip() if name and name.strip() else None,
        administered=administered,
        report_date=report_date or date.today(),
        administrator=administrator.strip(),
        config=config or ReportConfig(),
        software_version=software_version(),
    )
    return Profile(
        meta=meta, intake=intake_s, decision=decision, holland=holland, bipolar=bipolar,
        matches=matches, activities=activities, changes=tuple(changes),
        reliabilities_known=any(rel.get(k) for k in rows), notes=tuple(notes),
    )
