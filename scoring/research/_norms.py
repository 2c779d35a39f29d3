"""Norm tables: mid-point percentile ranks, normalized T-scores and stanines, per group.

``build_norms`` fits a table to raw scale scores (as ``scoring.score``
reports them) and describes its sample; ``NormTable.transform`` maps new raw
scores to PR / T / stanine. Given the sample's item answers too, ``build_norms``
stores each scale's Cronbach's α and score SD in that sample
(``NormTable.reliability``), from which reports draw SEM bands and the reliable
change index. Tables are data: ``write_norms`` (in
``scoring.research``'s dataset functions) stores them as versioned files only
when asked, and a table fitted to simulated data is marked ``synthetic`` so it
can never pass for a real norm. Ipsative scores (forced choices between
scales) are refused: their scale scores are not independent, so a rank
against other people is not meaningful (Hicks, 1970).

References
----------
Crocker, L., & Algina, J. (1986). *Introduction to classical and modern test
theory*, ch. 19 (mid-point percentile ranks, normalized scores).
Angoff, W. H. (1984). *Scales, norms, and equivalent scores*. ETS.
Hicks, L. E. (1970). Some properties of ipsative, normative, and forced-choice
normative measures. *Psychological Bulletin*, 74, 167–184.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .._spec import ENGINE_VERSION, InstrumentSpec
from ._items import item_analysis

ALL = "all"
STANINE_CUTS = (4.0, 11.0, 23.0, 40.0, 60.0, 77.0, 89.0, 96.0)
"""Cumulative percentages bounding stanines 1…9 (4-7-12-17-20-17-12-7-4 %)."""
PR_CLIP = (0.1, 99.9)
"""Percentile ranks are kept inside this range before the normal quantile, so T stays finite (19.1…80.9)."""


@dataclass(frozen=True)
class NormSample:
    """Who the norms describe. ``n`` and ``groups`` are counted from the data, never typed in."""

    population: str
    collected_from: dt.date
    collected_to: dt.date
    n: int
    groups: dict[str, dict[str, int]] = field(default_factory=dict)
    """Grouping variable → level → respondents."""
    description: str = ""
    synthetic: bool = False
    """True when the scores were simulated; such a table must never be presented as real norms."""

    def __post_init__(self) -> None:
        if not self.population.strip():
            raise ValueError("describe the norm sample's population (e.g. 'beneficiaries of the State Fund, 2025')")
        if self.collected_to < self.collected_from:
            raise ValueError(f"collection ended ({self.collected_to}) before it began ({self.collected_from})")


@dataclass(frozen=True)
class NormReliability:
    """One scale's reliability in the norm sample: Cronbach's α of its items and the SD of its score.

    ``n``: respondents behind α (pairwise: the rows that answered at least one of the scale's items).
    """

    alpha: float
    sd: float
    n: int


@dataclass(frozen=True, eq=False)
class NormScores:
    """Norm-referenced scores (rows × scales); NaN / 0 where the raw score was missing."""

    percentile: np.ndarray
    t: np.ndarray
    stanine: np.ndarray
    table: str
    group: str


@dataclass(frozen=True, eq=False)
class NormTable:
    """A fitted norm table: one row per (group, scale, raw score) with freq, PR, T and stanine."""

    norm_id: str
    version: str
    instrument: str
    instrument_version: str
    instrument_hash: str
    engine_version: str
    scales: tuple[str, ...]
    sample: NormSample
    table: pd.DataFrame
    created: dt.date
    min_group_n: int
    reliability: Mapping[str, NormReliability] = field(default_factory=dict)
    """Scale id → α and SD in the whole norm sample; empty when the table was built from
    scores alone (or read from a file written before tables carried reliabilities)."""
    scores_policy: str = ""
    """How the scale scores behind the table treated skipped items (``MissingPolicy.describe``);
    empty for tables written before this was recorded."""

    @property
    def ref(self) -> str:
        return f"{self.norm_id}@{self.version}"

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(pd.unique(self.table["group"]))

    def transform(self, scores: np.ndarray, group: str = ALL) -> NormScores:
        """Percentile rank, T and stanine of raw ``scores`` (rows × scales, NaN = not scored).

        A raw score between two tabulated values (a prorated score) gets the
        linearly interpolated percentile rank; T and the stanine follow from it.
        """
        x = np.asarray(scores, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2 or x.shape[1] != len(self.scales):
            raise ValueError(
                f"scores must be rows × {len(self.scales)} scales ({', '.join(self.scales)}), got {x.shape}"
            )
        if group not in self.groups:
            raise ValueError(f"norm table {self.ref} has no group {group!r} (groups: {', '.join(self.groups)})")
        pr = np.full(x.shape, np.nan)
        sub = self.table[self.table["group"] == group]
        for k, s in enumerate(self.scales):
            rows = sub[sub["scale"] == s]
            grid = rows["raw"].to_numpy(dtype=np.float64)
            col = x[:, k]
            ok = np.isfinite(col)
            outside = ok & ((col < grid[0] - 1e-9) | (col > grid[-1] + 1e-9))
            if outside.any():
                bad = col[outside][0]
                raise ValueError(f"scale {s}: raw score {bad} lies outside the table's range {grid[0]}…{grid[-1]}")
            pr[ok, k] = np.interp(col[ok], grid, rows["pr"].to_numpy(dtype=np.float64))
        t = t_from_pr(pr)
        return NormScores(pr, t, stanine_from_pr(pr), self.ref, group)


def t_from_pr(pr: np.ndarray) -> np.ndarray:
    """Normalized T = 50 + 10 Φ⁻¹(PR/100), PR clipped to [0.1, 99.9] (so T ∈ [19.1, 80.9]).

    >>> t_from_pr(np.array([50.0, 84.134])).round(1).tolist()
    [50.0, 60.0]
    """
    p = np.clip(np.asarray(pr, dtype=np.float64), *PR_CLIP) / 100.0
    return np.asarray(50.0 + 10.0 * stats.norm.ppf(p), dtype=np.float64)


def stanine_from_pr(pr: np.ndarray) -> np.ndarray:
    """Stanine 1…9 from a percentile rank (cuts 4, 11, 23, 40, 60, 77, 89, 96); 0 where PR is NaN.

    >>> stanine_from_pr(np.array([3.9, 4.0, 50.0, 96.0])).tolist()
    [1, 2, 5, 9]
    """
    p = np.asarray(pr, dtype=np.float64)
    out = np.searchsorted(np.asarray(STANINE_CUTS), np.nan_to_num(p, nan=-1.0), side="right") + 1
    return np.where(np.isnan(p), 0, out).astype(np.int8)


def midpoint_percentile_ranks(sample: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frequency, mid-point PR) of each grid value: PR = 100 (cf_below + f/2)/N.

    ``cf_below`` counts sample values below the grid value; ``f`` those equal
    to it (within 1e-9). Off-grid values (prorated scores) count as below the
    next grid value.

    >>> midpoint_percentile_ranks(np.array([1.0, 2, 2, 3]), np.array([1.0, 2, 3]))[1].tolist()
    [12.5, 50.0, 87.5]
    """
    s = np.sort(np.asarray(sample, dtype=np.float64))
    lo = np.searchsorted(s, grid - 1e-9, side="left")
    hi = np.searchsorted(s, grid + 1e-9, side="right")
    f = hi - lo
    return f, 100.0 * (lo + 0.5 * f) / len(s)


def score_grid(spec: InstrumentSpec, k: int) -> np.ndarray:
    """Every score scale k can take when all its items are answered."""
    s = spec.scales[k]
    n = s.n_items
    if spec.kind == "paired":
        sums = np.arange(-spec.max * n, spec.max * n + 1, dtype=np.float64)
    else:
        sums = np.arange(spec.min * n, spec.max * n + 1, dtype=np.float64)
    return sums / n if s.score == "mean" else sums


def table_grid(grid: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """The raw scores a norm table lists: every attainable complete score, plus every other score
    the sample holds (a prorated score such as 8.75 between 8 and 9), so that the table's
    frequencies add up to its n.

    >>> table_grid(np.array([0.0, 1, 2]), np.array([1.0, 1.5, 1.5000000001])).tolist()
    [0.0, 1.0, 1.5, 2.0]
    """
    off = np.asarray(sample, dtype=np.float64)
    near = np.abs(off[:, None] - grid[None, :]).min(axis=1) <= 1e-9
    extra = np.unique(np.round(off[~near], 9))
    return np.union1d(grid, extra) if len(extra) else grid


def sample_reliability(spec: InstrumentSpec, scores: np.ndarray, responses: np.ndarray) -> dict[str, NormReliability]:
    """Cronbach's α (``item_analysis``, pairwise) and score SD (n − 1) of every scale in a sample.

    Scales whose α is undefined (fewer than two items that vary) or whose scores do
    not vary are left out. Ipsative instruments are refused by ``item_analysis``.
    """
    x = np.asarray(scores, dtype=np.float64)
    ia = item_analysis(spec, responses)  # a scale whose α is undefined is simply left out (see above)
    out = {}
    for k, rel in enumerate(ia.scales):
        col = x[:, k]
        col = col[np.isfinite(col)]
        sd = float(np.std(col, ddof=1)) if len(col) >= 2 else float("nan")
        if np.isfinite(rel.alpha) and np.isfinite(sd) and sd > 0:
            out[rel.scale] = NormReliability(alpha=float(rel.alpha), sd=sd, n=int(rel.n))
    return out


def build_norms(
    spec: InstrumentSpec,
    scores: np.ndarray,
    *,
    responses: np.ndarray | None = None,
    norm_id: str,
    version: str,
    population: str,
    collected_from: dt.date,
    collected_to: dt.date,
    groups: Mapping[str, Sequence[object] | np.ndarray] | None = None,
    description: str = "",
    synthetic: bool = False,
    min_group_n: int = 100,
    created: dt.date | None = None,
    scores_policy: str = "",
) -> NormTable:
    """Fit a norm table to raw scale scores.

    Parameters
    ----------
    spec : InstrumentSpec
        The instrument the scores come from; refused when ipsative.
    scores : ndarray (rows, scales)
        Raw scale scores as ``scoring.score(...).scales.score`` reports them
        (NaN = scale not scored; such rows are left out for that scale).
    responses : ndarray (rows, items), optional
        The same rows' item answers (engine encoding, as scored). When given, the
        table carries each scale's Cronbach's α and score SD in the sample
        (``reliability``), so reports can show SEM bands and reliable change.
    norm_id, version : str
        The table's name and version (both stored with every norm-referenced result).
    population, collected_from, collected_to, description
        The sample description.
    groups : mapping, optional
        Grouping variables, each one label per row (e.g. ``{"gender": [...],
        "age_band": [...]}``). A table is fitted for everybody (``all``) and
        for each level ``variable=level`` with at least ``min_group_n`` rows.
    synthetic : bool
        Scores were simulated (the table is then marked and cannot be written as real norms).
    scores_policy : str
        How the scores treated skipped items (``MissingPolicy.describe()``), stored with the table.

    Notes
    -----
    For each raw value x of the scale's grid (every attainable complete
    score, and every other score in the sample, e.g. a prorated one, so that
    the frequencies add up to N): PR(x) = 100·(cf_below(x) + f(x)/2)/N
    (mid-point percentile rank),
    T = 50 + 10Φ⁻¹(PR/100) with PR clipped to [0.1, 99.9], stanine from PR
    with the cuts 4, 11, 23, 40, 60, 77, 89, 96 %.

    Examples
    --------
    >>> import datetime as dt, instruments
    >>> spec = instruments.scoring_spec(instruments.load("ppi"))
    >>> spec.ipsative
    False
    """
    if spec.ipsative:
        raise ValueError(
            f"{spec.ref} is scored ipsatively (forced choices between scales): its scale scores "
            "depend on each other and cannot be normed against other people"
        )
    if not norm_id.strip() or not version.strip():
        raise ValueError("a norm table needs a non-empty norm_id and version")
    if min_group_n < 1:
        raise ValueError(f"min_group_n must be positive, got {min_group_n}")
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != len(spec.scales):
        raise ValueError(f"scores must be rows × {len(spec.scales)} scales of {spec.ref}, got shape {x.shape}")
    n = x.shape[0]
    if n == 0:
        raise ValueError("no scores to norm")
    reliability: dict[str, NormReliability] = {}
    if responses is not None:
        if len(responses) != n:
            raise ValueError(f"responses have {len(responses)} rows but scores have {n}")
        if n >= 2:
            reliability = sample_reliability(spec, x, responses)
    masks: dict[str, np.ndarray] = {ALL: np.ones(n, dtype=bool)}
    group_counts: dict[str, dict[str, int]] = {}
    for var, labels in (groups or {}).items():
        lab = np.asarray(labels, dtype=object)
        if lab.shape != (n,):
            raise ValueError(f"group variable {var!r} has {lab.shape[0]} labels for {n} rows")
        counts: dict[str, int] = {}
        for level in pd.unique(lab):
            if level is None or (isinstance(level, float) and np.isnan(level)) or str(level).strip() == "":
                continue
            m = lab == level
            counts[str(level)] = int(m.sum())
            if m.sum() >= min_group_n:
                masks[f"{var}={level}"] = m
        group_counts[var] = counts
    frames = []
    for g, m in masks.items():
        for k, s in enumerate(spec.scales):
            col = x[m, k]
            col = col[np.isfinite(col)]
            if len(col) == 0:
                continue
            grid = score_grid(spec, k)
            if col.min() < grid[0] - 1e-9 or col.max() > grid[-1] + 1e-9:
                raise ValueError(
                    f"scale {s.id}: scores outside {grid[0]}…{grid[-1]}; are these raw scores of {spec.ref}?"
                )
            grid = table_grid(grid, col)
            f, pr = midpoint_percentile_ranks(col, grid)
            frames.append(
                pd.DataFrame(
                    {
                        "group": g,
                        "scale": s.id,
                        "raw": grid,
                        "freq": f,
                        "cum_freq": np.cumsum(f),
                        "n": len(col),
                        "pr": pr,
                        "t": t_from_pr(pr),
                        "stanine": stanine_from_pr(pr),
                    }
                )
            )
    table = pd.concat(frames, ignore_index=True)
    sample = NormSample(
        population=population,
        collected_from=collected_from,
        collected_to=collected_to,
        n=n,
        groups=group_counts,
        description=description,
        synthetic=synthetic,
    )
    return NormTable(
        norm_id=norm_id,
        version=version,
        instrument=spec.id,
        instrument_version=spec.version,
        instrument_hash=spec.content_hash,
        engine_version=ENGINE_VERSION,
        scales=tuple(s.id for s in spec.scales),
        sample=sample,
        table=table,
        created=created or dt.date.today(),
        min_group_n=min_group_n,
        reliability=reliability,
        scores_policy=scores_policy,
    )
