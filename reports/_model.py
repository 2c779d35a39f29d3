"""The typed, language-neutral content of a report (what ``build_profile`` returns).

Everything here is numbers, ids and bilingual ``Text``; words for one
language and one audience are chosen later, when rendering, so the same
profile serves every audience in both languages and nothing hidden from an
audience is ever put into its context.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from instruments import Activity, Instrument, Occupation, Text

from ._matching import Match, MatchResult


@dataclass(frozen=True)
class ReportConfig:
    """Deployment settings a report shows; names of organisations are configuration, not code."""

    fund_name: Text | None = None
    """The fund's full name in ka and en; reports say "the fund" when it is not set."""
    fund_short_name: Text | None = None
    """How the beneficiary's own report names the fund (the full name calls its readers "victims");
    "the fund" when it is not set."""


@dataclass(frozen=True)
class Reliability:
    """A reliability estimate for one scale, from which SEM bands are drawn.

    ``source`` says where r and SD come from; the psychologist's report shows it. A ``Text``
    (ka and en) is shown in the report's language, a plain string as it is.
    """

    r: float
    sd: float
    source: str | Text

    def __post_init__(self) -> None:
        named = bool(self.source.strip()) if isinstance(self.source, str) else isinstance(self.source, Text)
        if not (0 <= self.r < 1) or not self.sd > 0 or not named:
            raise ValueError("Reliability needs 0 ≤ r < 1, sd > 0 and a source")

    @property
    def sem(self) -> float:
        """Standard error of measurement, SD·√(1−r)."""
        return self.sd * math.sqrt(1 - self.r)


@dataclass(frozen=True)
class NormInfo:
    """The norm table a section's scores were referred to, and the sample it describes."""

    norm_id: str
    version: str
    population: str
    n: int
    """Respondents in the comparison group used (the whole sample for ``all``)."""
    collected_from: date
    collected_to: date
    group: str
    """The table's group used: ``all`` or ``variable=level`` (e.g. ``gender=f``)."""
    synthetic: bool = False
    """Fitted to simulated data (only ever allowed in tests; reports then say so loudly)."""

    @property
    def ref(self) -> str:
        return f"{self.norm_id}@{self.version}"


@dataclass(frozen=True)
class NormScore:
    """Norm-referenced score of one scale: mid-point percentile rank, normalized T, stanine."""

    pr: float
    t: float
    stanine: int


@dataclass(frozen=True)
class Provenance:
    """What a result depends on: instrument id, version and checksum, engine, norms."""

    instrument: str
    version: str
    content_hash: str
    engine_version: str
    title: Text
    norm_table: str | None = None
    """Id and version of the norm table used; None: no norm table (criterion bands)."""
    ipsative: bool = False
    norms: NormInfo | None = None
    """The norm table's sample (population, N, dates, group); None without a norm table."""
    reliability: tuple[str | Text, ...] = ()
    """Where the reliabilities behind this section's SEM bands and RCIs come from (distinct sources)."""


@dataclass(frozen=True)
class ScaleScore:
    id: str
    name: Text
    score: float
    band: str | None
    band_label: Text | None
    n_missing: int
    prorated: bool = False
    """Scored with ``n_missing`` items missing: the score stands for all items (said wherever it is shown)."""
    sem_band: tuple[float, float] | None = None
    """90 % band (score ± 1.645·SEM) when a reliability is known; never for ipsative scores."""
    norm: NormScore | None = None
    """PR / T / stanine against the section's norm table; never for ipsative scores."""


@dataclass(frozen=True)
class Barrier(ScaleScore):
    rank: int = 0
    clinical: bool = False
    """Clinical detail (emotional strain): shown to the employment department only with consent."""
    description: Text | None = None
    """The definition's description of the scale: the narrative when the texts have no curated one."""


@dataclass(frozen=True)
class Zone:
    """A band drawn on a chart: scores from ``lo`` to ``hi``."""

    id: str
    lo: float
    hi: float
    label: Text


@dataclass(frozen=True)
class DecisionSection:
    provenance: Provenance
    certainty: ScaleScore
    barriers: tuple[Barrier, ...]
    total_indecision: float
    status: str | None
    flags: tuple[str, ...]
    zones: tuple[Zone, ...]
    lo: float
    hi: float

    @property
    def salient(self) -> tuple[Barrier, ...]:
        """Salient barriers, strongest first."""
        return tuple(sorted((b for b in self.barriers if b.band == "salient"), key=lambda b: b.rank))


@dataclass(frozen=True)
class TypeScore:
    letter: str
    name: Text
    description: Text | None
    total: float
    band: str | None
    band_label: Text | None
    n_missing: int
    sem_band: tuple[float, float] | None = None
    norm: NormScore | None = None
    prorated: bool = False


@dataclass(frozen=True)
class SectionCounts:
    id: str
    title: Text
    counts: Mapping[str, float]


@dataclass(frozen=True)
class HollandSection:
    provenance: Provenance
    types: tuple[TypeScore, ...]
    sections: tuple[SectionCounts, ...]
    codes: tuple[str, ...]
    """Every admissible ordering of the summary code (several when scores tie); empty: no code."""
    consistency: tuple[str, ...]
    differentiation_iachan: float
    differentiation_range: float
    differentiation_level: str | None
    elevation: float
    congruence: Mapping[str, tuple[float, float]]
    """'m', 'c', 'zs' → (min, max) over the orderings, against the first aspiration; empty if none."""
    coherence: str | None
    flags: tuple[str, ...]
    max_score: float
    zones: tuple[Zone, ...]
    code_margin: float

    @property
    def code(self) -> str:
        return "/".join(self.codes)

    @property
    def letters(self) -> str:
        """Letters in any admissible ordering, in RIASEC order."""
        seen = {ch for c in self.codes for ch in c}
        return "".join(ch for ch in "RIASEC" if ch in seen)


@dataclass(frozen=True)
class Pole:
    letter: str
    name: Text
    riasec: str


@dataclass(frozen=True)
class Dimension:
    id: str
    name: Text
    description: Text | None
    score: float
    max_score: float
    negative: Pole
    positive: Pole
    preferred: Pole | None
    clarity: float
    clarity_band: str | None
    clarity_label: Text | None
    band: str | None
    sem_band: tuple[float, float] | None = None
    norm: NormScore | None = None
    n_missing: int = 0
    prorated: bool = False


@dataclass(frozen=True)
class BipolarSection:
    provenance: Provenance
    dimensions: tuple[Dimension, ...]
    type_code: str
    reversals: int
    inconsistency: float
    flags: tuple[str, ...]
    clarity_zones: tuple[Zone, ...]

    @property
    def environments(self) -> str:
        """RIASEC letters fitting the preferred poles that are more than slight, in RIASEC order."""
        seen = {
            ch
            for d in self.dimensions
            if d.preferred and d.clarity_band not in (None, "slight")
            for ch in d.preferred.riasec
        }
        return "".join(ch for ch in "RIASEC" if ch in seen)


@dataclass(frozen=True)
class Aspiration:
    """An occupation the person would like, looked up in the catalogue."""

    given: str
    occupation: Occupation | None
    m: int | None = None
    """Best Iachan M against the person's code (None without a code or catalogue entry)."""
    within_reach: bool | None = None
    code: str | None = None
    """Its three-letter code: the catalogue's, or the code given with the SDS (e.g. a RIASEC code typed in)."""


FITS = ("good", "partial", "little")
"""How well an occupation fits the person's interests, in words, from Iachan's M (``fit_of``)."""


def fit_of(m: int | None) -> str | None:
    """Iachan's M (0–28) in words: ``good`` (M ≥ 20: the person's first letter leads the occupation's
    code, or the first two letters are shared), ``partial`` (M ≥ 10: the first letter is second in the
    occupation's code, or the second letters agree), ``little`` (below). A criterion for reading, not
    a norm; None when there is no M (no code, or the occupation is not in the catalogue)."""
    if m is None:
        return None
    return "good" if m >= 20 else "partial" if m >= 10 else "little"


@dataclass(frozen=True)
class Wish:
    """An occupation the person names (a wish) or already has (their trade), weighed against their interests."""

    given: str
    occupation: Occupation | None
    m_range: tuple[int, int] | None = None
    """Iachan M against every admissible ordering of the person's code: (lowest, highest); None
    without a code or without the occupation's code."""
    within_reach: bool | None = None
    """The training level is reachable with the completed education (None: education unknown)."""
    blocked: tuple[str, ...] = ()
    """The person's limits (``LIMIT_RULES``: night work, driving) that rule this occupation out."""
    code: str | None = None

    @property
    def fit(self) -> str | None:
        """The fit in words at the best ordering (``fit_of``)."""
        return None if self.m_range is None else fit_of(self.m_range[1])

    @property
    def fit_depends_on_order(self) -> bool:
        """The tied orderings of the person's code give different words for the fit."""
        return self.m_range is not None and fit_of(self.m_range[0]) != fit_of(self.m_range[1])

    @property
    def excluded(self) -> bool:
        occ = self.occupation
        return occ is not None and (occ.excluded or "night" in occ.tags)


@dataclass(frozen=True)
class Trade(Wish):
    """The profession or trade the person already has (the intake form's answer)."""

    in_demand: bool | None = None
    """In demand locally, as the social worker judged it in the form (None: not answered)."""
    years: float | None = None
    """Total work experience in years, as given in the form (None: not answered)."""
    wished: bool = False
    """The person also names it among their wishes."""


@dataclass(frozen=True)
class PersonStart:
    """Matching that starts from the person: their own trade, their wishes, and the catalogue's
    occupations closest to both (same ISCO-08 unit group), before the occupations matched to
    the interests alone (``Profile.matches``, which leaves these out)."""

    trade: Trade | None
    wishes: tuple[Wish, ...]
    related: tuple[Match, ...]
    """Reachable catalogue occupations in the unit group of the trade or of a wish, best fit first."""

    @property
    def occupations(self) -> tuple[Occupation, ...]:
        """Every catalogue occupation this section names (matching leaves them out of its own list)."""
        out = [w.occupation for w in (*((self.trade,) if self.trade else ()), *self.wishes) if w.occupation]
        out += [m.occupation for m in self.related]
        return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class IntakeSection:
    provenance: Provenance
    instrument: Instrument
    values: Mapping[str, object]
    """Field id → value: str (choice, text), tuple (multi), bool, float (number); None if blank."""
    retraining_need: bool
    retraining_reasons: tuple[str, ...]
    hard_needs: tuple[str, ...]
    soft_needs: tuple[str, ...]
    self_employment: bool
    group: str | None
    group_reasons: tuple[str, ...]
    aspirations: tuple[Aspiration, ...]
    """The occupations named in the form (its aspirations role), looked up in the catalogue."""

    def value(self, role: str) -> object:
        """The answer of the field that plays ``role`` in this form (None when the form has no such field)."""
        f = self.instrument.role(role)
        return None if f is None else self.values.get(f.id)

    @property
    def isced(self) -> int | None:
        """The ISCED level of the education answer (the form's data); None when unknown."""
        f = self.instrument.role("education")
        answer = self.value("education")
        if f is None or answer is None:
            return None
        return next((o.isced for o in f.options if o.value == answer), None)

    @property
    def trade(self) -> str | None:
        """The profession or trade the person has, as written in the form (None: none given)."""
        if self.value("has_profession") is False:
            return None
        given = self.value("profession")
        return given.strip() if isinstance(given, str) and given.strip() else None

    @property
    def limits(self) -> tuple[str, ...]:
        """What the person cannot do, for matching: ``night_work`` (a constraint in the form's
        ``night_work_limits``), ``driving`` (no driving licence)."""
        out = []
        constraints = self.value("constraints")  # a multiple choice: a tuple of option values
        chosen = set(constraints) if isinstance(constraints, list | tuple | set | frozenset) else set()
        if chosen & self.instrument.value_set("night_work_limits"):
            out.append("night_work")
        if self.value("driving_licence") is False:
            out.append("driving")
        return tuple(out)


@dataclass(frozen=True)
class Reason:
    """Why an activity is recommended: a text key, the barrier it answers, whether it is clinical."""

    key: str
    barrier: str | None = None
    clinical: bool = False


@dataclass(frozen=True)
class Recommendation:
    activity: Activity
    reasons: tuple[Reason, ...]
    clinical: bool
    """Psychological support and stress management: shown to employment only with consent."""


@dataclass(frozen=True)
class ItemChange:
    """An item that changed between the versions of a comparison (from the newer version's changes.md)."""

    item: str
    scale: str
    old: str
    new: str
    comparable: bool
    why: str


@dataclass(frozen=True)
class ChangeRow:
    id: str
    label: Text
    before: float
    after: float
    rci: float | None = None
    """Jacobson–Truax reliable change index, (after − before) / (√2·SEM); None without a reliability."""
    clinical: bool = False
    changed: tuple[str, ...] = ()
    """Items of this scale whose text or answers changed between the two versions (their changes.md)."""
    not_comparable: tuple[str, ...] = ()
    """Of ``changed``, those the changes.md marks as not comparable."""


@dataclass(frozen=True)
class ChangeSection:
    instrument: str
    title: Text
    before_date: date | None
    after_date: date | None
    rows: tuple[ChangeRow, ...]
    lo: float
    hi: float
    before_version: str = ""
    after_version: str = ""
    documented: bool = True
    """False when the versions differ and no changes.md says what changed between them."""
    item_changes: tuple[ItemChange, ...] = ()
    """The changed items of the scales compared: id, scale, old and new Georgian text, comparable."""
    scales_left_out: tuple[str, ...] = ()
    """Scales of either version the other does not have (not compared)."""

    @property
    def versions_differ(self) -> bool:
        return self.before_version != self.after_version


@dataclass(frozen=True)
class ResultNote:
    """One step in a result's line (for the psychologist's version): the result was scored again
    (``rescored``) or its answers were corrected (``corrected``) on ``on`` by ``by``."""

    kind: str
    """``corrected`` or ``rescored``."""
    on: date
    by: str = ""
    reason: str | None = None
    changes: tuple[tuple[str, str | None, str | None], ...] = ()
    """The answers corrected: item id, old value, new value (None: skipped)."""


@dataclass(frozen=True)
class Meta:
    person_id: str
    name: str | None
    administered: date | None
    report_date: date
    administrator: str
    config: ReportConfig
    software_version: str
    history: tuple[ResultNote, ...] = ()
    """How the results reported came to be, when not scored once (oldest first)."""


@dataclass(frozen=True)
class Profile:
    """The primary career-orientation profile (or a single-instrument report), language-neutral."""

    meta: Meta
    intake: IntakeSection | None = None
    decision: DecisionSection | None = None
    holland: HollandSection | None = None
    bipolar: BipolarSection | None = None
    matches: MatchResult | None = None
    activities: tuple[Recommendation, ...] = ()
    changes: tuple[ChangeSection, ...] = ()
    reliabilities_known: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Text keys of remarks on what could not be done (e.g. no code, so no matching)."""
    aspirations: tuple[Aspiration, ...] = ()
    """The aspirations every section uses (congruence, matching, summary): the ones given with the SDS
    when there are any, else the intake's."""
    aspirations_source: str | None = None
    """The model whose record gave them: 'holland' (the SDS's own) or 'intake' (None: none was given)."""
    start: PersonStart | None = None
    """The person's own trade and wishes, weighed against their interests (None: neither was given)."""

    @property
    def provenance(self) -> tuple[Provenance, ...]:
        return tuple(s.provenance for s in (self.intake, self.decision, self.holland, self.bipolar) if s is not None)
