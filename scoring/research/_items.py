"""Item and scale analysis of a whole instrument from one covariance pass.

``item_analysis`` reads the response matrix once (``item_moments``), keys the
48 × 48 covariance matrix (D C D, D = diag(±1)), and derives every statistic of
every scale from its block: item means, SDs, response frequencies, psych's
raw.r / std.r / r.cor / r.drop, alpha-if-deleted (raw, standardized, G6),
Cronbach's α raw and standardized with Feldt's interval and Duhachek's ase,
Guttman's λ6 (G6(smc)), McDonald's ω total, split halves, SEM, and the scale
intercorrelations (raw and disattenuated).

Missing answers follow two explicit policies, both named in the result:

- ``missing`` (the analysis): ``pairwise`` (psych's default; each covariance
  from the rows answering both items), ``listwise_scale`` (each scale from the
  rows that answered all of its items) or ``listwise`` (only rows that
  answered every scored item of the instrument);
- ``scores`` (the scale scores whose mean and SD are reported): a
  ``scoring.MissingPolicy`` (prorate with a minimum, the default; or impute
  item medians/means as psych's ``scoreItems(impute =)``).

A statistic that is undefined for the data (an item nobody varies on, items
that do not correlate, a scale whose total variance is not positive) is NaN,
with a note naming the scale and the statistic (``ItemAnalysis.notes``; as an
``ItemAnalysisWarning`` too with ``warn=True``); it never raises.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from .._engine import score
from .._missing import MissingPolicy
from .._parse import as_codes
from .._spec import MISSING, InstrumentSpec
from ._coefficients import (
    alpha_ase,
    cov2cor,
    cronbach_alpha,
    feldt_interval,
    omega_total,
    split_halves,
    standard_error_of_measurement,
)
from ._moments import ItemMoments, item_moments

Missing = Literal["pairwise", "listwise_scale", "listwise"]
MISSING_POLICIES: tuple[Missing, ...] = ("pairwise", "listwise_scale", "listwise")
_DESCRIBE = {
    "pairwise": "pairwise: each covariance from the rows that answered both items (psych's default)",
    "listwise_scale": "listwise within scale: each scale from the rows that answered all of its items",
    "listwise": "listwise: only the rows that answered every scored item of the instrument",
}
_BLOCK = 65_536


class ItemAnalysisWarning(UserWarning):
    """A statistic of the item analysis is undefined for these data (it is NaN); the message says which."""


def describe_missing(missing: str) -> str:
    """One sentence naming an analysis missing-data policy.

    >>> describe_missing("listwise_scale")
    'listwise within scale: each scale from the rows that answered all of its items'
    """
    if missing not in _DESCRIBE:
        raise ValueError(f"missing must be one of {', '.join(MISSING_POLICIES)}, got {missing!r}")
    return _DESCRIBE[missing]


@dataclass(frozen=True, eq=False)
class ItemStatistics:
    """Per-item statistics (arrays over the instrument's items, in definition order).

    Means and SDs are on the *scored* metric: a reversed ordinal item counts
    as min + max − x, a reversed paired item as −x. Correlations with the
    total refer to the item's own scale (NaN for an item in no scale).
    """

    ids: tuple[str, ...]
    scale: tuple[str | None, ...]
    keyed: np.ndarray
    n: np.ndarray
    """Rows behind the item's statistics: those answering it (pairwise, listwise), or the rows that
    answered all of its scale's items (listwise_scale)."""
    missing_rate: np.ndarray
    """Share of the analysed rows that skipped the item (whatever the deletion policy)."""
    mean: np.ndarray
    sd: np.ndarray
    frequencies: np.ndarray
    """items × values: share of the answering rows giving each raw (unkeyed) value, as psych's
    ``response.freq`` (columns: ``values``)."""
    values: tuple[int, ...]
    raw_r: np.ndarray
    """Item–total correlation, total including the item (psych raw.r). The total is each row's
    mean of the scale's answered items (the prorated total), correlated with the item over the
    rows that answered it: psych ``alpha()``'s ``cor(rowMeans(x, na.rm = TRUE), x, use = "pairwise")``."""
    std_r: np.ndarray
    """Standardized item–total correlation: Σ_k r_jk / √(1ᵀR1) (psych std.r)."""
    r_cor: np.ndarray
    """Item–total correlation corrected for overlap with smc on the diagonal (psych r.cor)."""
    r_drop: np.ndarray
    """Corrected item–total correlation: item with the sum of the *other* items (psych r.drop)."""
    alpha_if_deleted: np.ndarray
    std_alpha_if_deleted: np.ndarray
    g6_if_deleted: np.ndarray
    average_r_if_deleted: np.ndarray

    @property
    def endorsement(self) -> np.ndarray:
        """Share of answering rows giving the highest code (for like/dislike items: the likes)."""
        return self.frequencies[:, -1]

    def to_frame(self) -> pd.DataFrame:
        cols: dict[str, object] = {
            "item": list(self.ids),
            "scale": [s or "" for s in self.scale],
            "keyed": self.keyed,
            "n": self.n,
            "missing_rate": self.missing_rate,
            "mean": self.mean,
            "sd": self.sd,
        }
        for c, v in enumerate(self.values):
            cols[f"p_{v}"] = self.frequencies[:, c]
        cols.update(
            raw_r=self.raw_r,
            std_r=self.std_r,
            r_cor=self.r_cor,
            r_drop=self.r_drop,
            alpha_if_deleted=self.alpha_if_deleted,
            std_alpha_if_deleted=self.std_alpha_if_deleted,
            g6_if_deleted=self.g6_if_deleted,
            average_r_if_deleted=self.average_r_if_deleted,
        )
        return pd.DataFrame(cols)


@dataclass(frozen=True)
class ScaleReliability:
    """Reliability of one scale.

    ``sd`` and ``sem`` are on the scale's reported metric (the mean of the
    items for a ``mean`` scale, their sum otherwise); ``sem`` = sd·√(1 − α).
    """

    scale: str
    n_items: int
    n: int
    """Rows the scale's estimates use: those that answered at least one of its (varying) items
    (pairwise), all of its items (listwise within scale), or every scored item (listwise). Feldt's
    interval and the ase use it, as psych's ``alpha`` uses the rows of the data it is given (psych
    counts a row that answered none of the scale's items too; here such a row, which says nothing
    about the scale, is not counted — without such rows the two agree)."""
    alpha: float
    alpha_std: float
    alpha_ci: tuple[float, float]
    confidence: float
    ase: float
    average_r: float
    signal_noise: float
    lambda6: float
    """Guttman's λ6 on the correlation matrix with within-scale smc (psych G6(smc))."""
    omega_total: float
    """McDonald's ω total, one-factor minres on correlations (psych omega.tot, nfactors = 1)."""
    split_half: float
    """Odd–even split, Spearman–Brown stepped up."""
    lambda4: float
    """Largest split-half (Guttman λ4) over all splits."""
    beta: float
    """Smallest split-half over all splits (Revelle's β)."""
    mean: float
    """Mean of the scale scores themselves (as scored under the ``scores`` policy, over the rows used)."""
    sd: float
    """SD (n − 1) of the same scale scores."""
    sem: float
    dropped: tuple[str, ...] = ()
    """Items left out of this scale's analysis because nobody varied on them."""
    n_scores: int = 0
    """Scale scores behind ``mean`` and ``sd`` (rows with a score)."""


@dataclass(frozen=True)
class AnalysisNote:
    """One of ``ItemAnalysis.notes`` as data, so that a report can say it in another language.

    ``code`` is ``not_varying`` (``items`` of the scale do not vary or nobody answered them),
    ``too_few_varying`` (fewer than two of its items vary) or ``undefined``: the statistics named in
    ``undefined`` are NaN, each one of ``alpha`` (α, ase and the item–total correlations),
    ``alpha_std`` (standardized α and std.r), ``singular_rows`` (λ6 and r.cor: only ``rows`` rows
    for ``n_items`` items), ``singular_collinear`` (λ6 and r.cor: an item is a linear combination
    of others) and ``r_cor``; ``uncorrelated``: the scale's items do not correlate positively.
    """

    code: Literal["not_varying", "too_few_varying", "undefined"]
    scale: str
    items: tuple[str, ...] = ()
    undefined: tuple[str, ...] = ()
    rows: int = 0
    n_items: int = 0
    uncorrelated: bool = False


@dataclass(frozen=True, eq=False)
class ItemAnalysis:
    """Everything ``item_analysis`` computes for one instrument."""

    instrument: str
    instrument_version: str
    n_rows: int
    missing: str
    """The analysis missing-data policy: pairwise, listwise_scale or listwise (``describe_missing``)."""
    items: ItemStatistics
    scales: tuple[ScaleReliability, ...]
    scale_ids: tuple[str, ...]
    intercorrelations: np.ndarray
    """Scales × scales correlations of the keyed sum scores (from the item covariance)."""
    disattenuated: np.ndarray
    """r_xy / √(α_x α_y): the correlations corrected for unreliability (psych scoreItems' upper triangle)."""
    covariance: np.ndarray
    """The keyed item covariance matrix everything was derived from (under ``listwise_scale``, each
    scale's block from its complete rows, the entries between scales pairwise)."""
    scores: str = ""
    """The scale scores' missing-data policy (``MissingPolicy.describe``)."""
    notes: tuple[str, ...] = ()
    """Every statistic that was undefined for these data (NaN), and why, in order."""
    note_data: tuple[AnalysisNote, ...] = ()
    """The same notes as data (one ``AnalysisNote`` per note, in the same order), for texts in other languages."""

    def scales_frame(self) -> pd.DataFrame:
        rows = []
        for s in self.scales:
            rows.append(
                {
                    "scale": s.scale,
                    "items": s.n_items,
                    "n": s.n,
                    "alpha": s.alpha,
                    "alpha_std": s.alpha_std,
                    "alpha_lo": s.alpha_ci[0],
                    "alpha_hi": s.alpha_ci[1],
                    "ase": s.ase,
                    "average_r": s.average_r,
                    "s_n": s.signal_noise,
                    "lambda6": s.lambda6,
                    "omega_total": s.omega_total,
                    "split_half": s.split_half,
                    "lambda4": s.lambda4,
                    "beta": s.beta,
                    "mean": s.mean,
                    "sd": s.sd,
                    "n_scores": s.n_scores,
                    "sem": s.sem,
                    "dropped": ";".join(s.dropped),
                }
            )
        return pd.DataFrame(rows)

    def intercorrelation_frame(self, disattenuated: bool = False) -> pd.DataFrame:
        m = self.disattenuated if disattenuated else self.intercorrelations
        return pd.DataFrame(m, index=list(self.scale_ids), columns=list(self.scale_ids))


def keyed_covariance(spec: InstrumentSpec, moments: ItemMoments) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keyed covariance, keyed means, key signs) of all items.

    A reversed ordinal/binary item is scored min + max − x, a reversed paired
    item −x: both flip the sign of its covariances (D C D).
    """
    sign = np.array([-1.0 if it.keyed < 0 and it.scale is not None else 1.0 for it in spec.items])
    cov = moments.covariance() * np.outer(sign, sign)
    means = moments.means
    rev = sign < 0
    flipped = -means if spec.kind == "paired" else (spec.min + spec.max) - means
    means = np.where(rev, flipped, means)
    return cov, means, sign


def _scale_items(spec: InstrumentSpec) -> list[np.ndarray]:
    return [
        np.array([j for j, it in enumerate(spec.items) if it.scale == k], dtype=np.intp)
        for k in range(len(spec.scales))
    ]


def _if_deleted(c: np.ndarray, r: np.ndarray) -> dict[str, np.ndarray]:
    """α raw/std, G6(smc) and mean r of the scale without each item, vectorized over items.

    Undefined values (a zero or negative variance left) are NaN, never an error.
    """
    k = c.shape[0]
    out = {name: np.full(k, np.nan) for name in ("alpha", "std_alpha", "g6", "average_r", "r_drop")}
    row_c = c.sum(axis=1)
    total = c.sum()
    v_drop = total - 2 * row_c + np.diag(c)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["r_drop"] = (row_c - np.diag(c)) / np.sqrt(np.diag(c) * v_drop)
        if k < 3:
            # psych: with two items, "dropping" one leaves r_12 as every coefficient
            r12 = r[0, 1]
            for name in ("alpha", "std_alpha", "average_r"):
                out[name] = np.full(k, r12)
            out["g6"] = np.full(k, r12**2)
            return out
        tr_drop = np.trace(c) - np.diag(c)
        m = k - 1
        out["alpha"] = np.where(v_drop > 0, m / (m - 1) * (1 - tr_drop / v_drop), np.nan)
        row_r = r.sum(axis=1)
        sum_r_drop = r.sum() - 2 * row_r + 1.0
        out["std_alpha"] = np.where(sum_r_drop > 0, m / (m - 1) * (1 - m / sum_r_drop), np.nan)
        out["average_r"] = (sum_r_drop - m) / (m * (m - 1))
        if _invertible(r):
            p = np.linalg.inv(r)
            # inverse of R without item i: P_{-i,-i} − P_{-i,i} P_{i,-i} / P_ii (row i = dropped item)
            d = np.diag(p)[None, :] - p**2 / np.diag(p)[:, None]
            np.fill_diagonal(d, 1.0)  # the dropped item itself: no smc
            smc_drop = 1.0 - 1.0 / d
            out["g6"] = np.where(sum_r_drop > 0, 1.0 - (m - smc_drop.sum(axis=1)) / sum_r_drop, np.nan)
        else:  # R singular: each R without one item may still be invertible (a duplicated item dropped)
            for i in range(k):
                keep = np.arange(k) != i
                sub = r[np.ix_(keep, keep)]
                if sum_r_drop[i] > 0 and _invertible(sub):
                    out["g6"][i] = 1.0 - (m - (1.0 - 1.0 / np.diag(np.linalg.inv(sub))).sum()) / sum_r_drop[i]
    return out


def _invertible(r: np.ndarray) -> bool:
    """Whether a correlation matrix is numerically of full rank (its inverse means something)."""
    return bool(np.isfinite(r).all() and np.linalg.matrix_rank(r) == r.shape[0])


def _keyed_block(spec: InstrumentSpec, b: np.ndarray, signs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(keyed float64 values with 0 for skipped, answered mask) of an int8 block of items."""
    a = b != MISSING
    v = b.astype(np.float64)
    rev = signs < 0
    if rev.any():
        v[:, rev] = -v[:, rev] if spec.kind == "paired" else (spec.min + spec.max) - v[:, rev]
    v[~a] = 0.0
    return v, a


def _prorated_total_r(spec: InstrumentSpec, x: np.ndarray, idx: np.ndarray, signs: np.ndarray) -> np.ndarray:
    """psych's raw.r with skipped answers: each item's correlation with the row's mean of the scale's
    answered items (the prorated total), over the rows that answered the item. One pass in row blocks."""
    k = len(idx)
    acc = np.zeros((6, k))  # n, Σx, Σx², Σt, Σt², Σxt over the rows answering each item
    for start in range(0, len(x), _BLOCK):
        v, a = _keyed_block(spec, x[start : start + _BLOCK, idx], signs)
        cnt = a.sum(axis=1)
        t = np.divide(v.sum(axis=1), cnt, out=np.zeros(len(v)), where=cnt > 0)
        af = a.astype(np.float64)
        acc[0] += af.sum(axis=0)
        acc[1] += v.sum(axis=0)
        acc[2] += (v * v).sum(axis=0)
        acc[3] += t @ af
        acc[4] += (t * t) @ af
        acc[5] += t @ v
    n, sx, sxx, st, stt, sxt = acc
    with np.errstate(invalid="ignore", divide="ignore"):
        return (n * sxt - sx * st) / np.sqrt((n * sxx - sx * sx) * (n * stt - st * st))


def _score_moments(values: np.ndarray) -> tuple[float, float, int]:
    """(mean, SD with n − 1, n) of the finite scale scores."""
    v = values[np.isfinite(values)]
    if len(v) == 0:
        return float("nan"), float("nan"), 0
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else float("nan"), len(v)


class _Notes:
    """Collects the notes on undefined statistics; with ``warn``, also emits each as an ``ItemAnalysisWarning``."""

    def __init__(self, spec: InstrumentSpec, warn: bool) -> None:
        self.spec = spec
        self.warn = warn
        self.items: list[str] = []
        self.data: list[AnalysisNote] = []

    def add(self, message: str, note: AnalysisNote) -> None:
        text = f"{self.spec.ref}: {message}"
        self.items.append(text)
        self.data.append(note)
        if self.warn:
            warnings.warn(ItemAnalysisWarning(text), stacklevel=4)


def _scale_reliability(
    spec: InstrumentSpec,
    k_scale: int,
    idx: np.ndarray,
    names: tuple[str, ...],
    cov: np.ndarray,
    means: np.ndarray,
    confidence: float,
    rows_used: int,
    score_moments: tuple[float, float, int],
    notes: _Notes,
) -> tuple[ScaleReliability, dict[str, np.ndarray], np.ndarray]:
    s = spec.scales[k_scale]
    var = np.diag(cov)[idx]
    live = idx[var > 0]
    dropped = tuple(names[j] for j in idx[~(var > 0)])
    nan = float("nan")
    per_item = {
        name: np.full(len(live), np.nan)
        for name in ("raw_r", "std_r", "r_cor", "r_drop", "alpha", "std_alpha", "g6", "average_r")
    }
    mean_total, sd, n_scores = score_moments
    if dropped:
        notes.add(
            f"scale {s.id}: item(s) {', '.join(dropped)} do not vary in these data (or nobody answered them); "
            "they are left out of the scale's coefficients and their item-total statistics are NaN",
            AnalysisNote("not_varying", s.id, items=dropped),
        )
    if len(live) < 2:
        notes.add(
            f"scale {s.id}: fewer than two of its items vary; its reliability coefficients are NaN",
            AnalysisNote("too_few_varying", s.id),
        )
        rel = ScaleReliability(
            s.id, len(idx), rows_used, nan, nan, (nan, nan), confidence, nan, nan, nan, nan, nan, nan, nan, nan,
            mean_total, sd, nan, dropped, n_scores,
        )  # fmt: skip
        return rel, per_item, live
    c = cov[np.ix_(live, live)]
    r = cov2cor(c)
    k = len(live)
    n = rows_used
    total_c, sum_r = float(c.sum()), float(r.sum())
    undefined: list[str] = []
    codes: list[str] = []
    alpha = cronbach_alpha(c) if total_c > 0 else nan
    alpha_std = cronbach_alpha(r) if sum_r > 0 else nan
    if not total_c > 0:
        undefined.append("α, ase and the item–total correlations (the items' total variance is not positive)")
        codes.append("alpha")
    if not sum_r > 0:
        undefined.append("standardized α and std.r (the correlations sum to zero or less)")
        codes.append("alpha_std")
    av_r = (sum_r - k) / (k * (k - 1))
    if _invertible(r):
        smc_r = 1.0 - 1.0 / np.diag(np.linalg.inv(r))
        g6 = float(1.0 - (k - smc_r.sum()) / sum_r) if sum_r > 0 else nan
    else:
        smc_r = np.full(k, np.nan)
        g6 = nan
        why = f"only {n} rows for {k} items" if n <= k else "an item is a linear combination of others"
        undefined.append(f"λ6 and r.cor (the items' correlation matrix is singular: {why})")
        codes.append("singular_rows" if n <= k else "singular_collinear")
    try:
        omega = (omega_total(r) if k >= 3 else alpha_std) if sum_r > 0 else nan
    except (ValueError, np.linalg.LinAlgError):
        omega = nan
    halves = split_halves(c) if total_c > 0 else {"odd_even_sb": nan, "lambda4_max": nan, "beta": nan}
    ci = feldt_interval(alpha, n, k, confidence) if n >= 2 and math.isfinite(alpha) else (nan, nan)
    rel = ScaleReliability(
        scale=s.id,
        n_items=len(idx),
        n=n,
        alpha=alpha,
        alpha_std=alpha_std,
        alpha_ci=ci,
        confidence=confidence,
        ase=alpha_ase(c, n) if n >= 2 and total_c > 0 else nan,
        average_r=float(av_r),
        signal_noise=float(k * av_r / (1 - av_r)) if av_r != 1 else nan,
        lambda6=g6,
        omega_total=float(omega),
        split_half=halves["odd_even_sb"],
        lambda4=halves["lambda4_max"],
        beta=halves["beta"],
        mean=mean_total,
        sd=sd,
        sem=float(standard_error_of_measurement(sd, alpha)) if -1 <= alpha <= 1 and math.isfinite(sd) else nan,
        dropped=dropped,
        n_scores=n_scores,
    )
    rc = r.copy()
    np.fill_diagonal(rc, smc_r)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_item["raw_r"] = c.sum(axis=1) / np.sqrt(np.diag(c) * total_c) if total_c > 0 else np.full(k, nan)
        per_item["std_r"] = r.sum(axis=1) / math.sqrt(sum_r) if sum_r > 0 else np.full(k, nan)
        sum_rc = float(rc.sum())
        per_item["r_cor"] = rc.sum(axis=1) / math.sqrt(sum_rc) if sum_rc > 0 else np.full(k, nan)
    if not sum_rc > 0 and np.isfinite(sum_rc):
        undefined.append("r.cor (the correlations with smc on the diagonal sum to zero or less)")
        codes.append("r_cor")
    per_item.update(_if_deleted(c, r))
    if undefined:
        uncorrelated = not (total_c > 0 and sum_r > 0 and sum_rc > 0)
        why = "its items do not correlate positively; " if uncorrelated else ""
        notes.add(
            f"scale {s.id}: {why}undefined for these data, so NaN: {'; '.join(undefined)}",
            AnalysisNote("undefined", s.id, undefined=tuple(codes), rows=n, n_items=k, uncorrelated=uncorrelated),
        )
    return rel, per_item, live


def item_analysis(
    spec: InstrumentSpec,
    responses: np.ndarray,
    *,
    missing: Missing = "pairwise",
    confidence: float = 0.95,
    scores: MissingPolicy | None = None,
    warn: bool = False,
) -> ItemAnalysis:
    """Full classical item analysis of every scale of an instrument.

    Parameters
    ----------
    spec : InstrumentSpec
        From ``instruments.scoring_spec``; item keys and reversals come from it
        (never inferred from the data).
    responses : ndarray (n, items)
        int8 in the engine's encoding (``MISSING`` = skipped) or float with NaN.
    missing : {"pairwise", "listwise_scale", "listwise"}
        ``pairwise`` (psych's default): each covariance from the rows answering
        both items. ``listwise_scale``: each scale from the rows that answered
        all of its items. ``listwise``: only rows answering every scored item.
    confidence : float
        Level of Feldt's interval for α.
    scores : scoring.MissingPolicy, optional
        How the scale scores whose mean and SD are reported (and the SEM built
        on that SD) treat skipped items; default: each scale's own rule
        (prorate with the definition's minimum).
    warn : bool
        Also emit every note on an undefined statistic (``ItemAnalysis.notes``)
        as an ``ItemAnalysisWarning``. The notes are in the result either way;
        ``proforient analyze`` prints them as warnings and the technical
        report lists them.

    Returns
    -------
    ItemAnalysis

    Notes
    -----
    One pass over the data gives the item covariance C (``item_moments``);
    with D = diag(key signs) the keyed covariance is D C D, and for a scale
    with items S every statistic is algebra on C_SS: α = k/(k−1)(1 − tr C/1ᵀC1)
    (Cronbach, 1951), r.drop_j = (c_j·1 − c_jj)/√(c_jj (1ᵀC1 − 2 c_j·1 + c_jj)),
    alpha-if-deleted from the same sums, λ6 and r.cor from R⁻¹ (Guttman, 1945),
    G6 if deleted via the inverse of R with one row and column removed
    (P_{−i,−i} − P_{−i,i}P_{i,−i}/P_ii), ω from a one-factor minres fit
    (McDonald, 1999). Scale intercorrelations are KᵀCK for the keyed
    item-by-scale matrix K (under ``listwise_scale``: the correlation of the
    scale sums over the rows complete on both scales). Items with zero
    variance in a scale are left out of that scale's coefficients (psych's
    ``alpha`` drops them too) and listed in ``dropped``.

    With skipped answers (pairwise), psych's raw.r correlates each item with
    the row's mean of the answered items of its scale, which is a second pass
    over the rows of that scale; without gaps it equals the covariance formula
    c_j·1/√(c_jj 1ᵀC1). Feldt's interval and the ase use the rows the scale's
    estimates rest on (``ScaleReliability.n``); the scale mean and SD are
    those of the actual scale scores.

    Forced-choice items between two scales (ipsative formats) violate the
    independence classical reliability assumes; such instruments are refused.

    Examples
    --------
    >>> import instruments
    >>> from scoring.research import simulate
    >>> spec = instruments.scoring_spec(instruments.load("vdq"))
    >>> sim = simulate(spec, 2000, seed=1)
    >>> res = item_analysis(spec, sim.responses)
    >>> 0 < res.scales[0].alpha < 1
    True
    """
    if spec.ipsative:
        raise ValueError(
            f"{spec.ref} has forced choices between scales (ipsative); classical item analysis "
            "assumes each item scores one scale and is not meaningful for it"
        )
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {', '.join(MISSING_POLICIES)}, got {missing!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    policy = scores or MissingPolicy()
    x = as_codes(spec, responses)
    scored_items = np.array([it.scale is not None for it in spec.items])
    if missing == "listwise":
        x = x[(x[:, scored_items] != MISSING).all(axis=1)]
    mom = item_moments(spec, x, validated=True)
    cov, means, sign = keyed_covariance(spec, mom)
    counts = mom.counts.astype(np.float64)
    n_items = mom.n.astype(np.float64)
    groups = _scale_items(spec)
    names = spec.item_ids
    p = len(names)
    n_rows = mom.n_rows
    answered_n = np.diag(mom.n_pair)  # rows answering each item: a gap anywhere shows here, for free
    gaps = bool((answered_n[scored_items] < n_rows).any())
    rows_of: list[np.ndarray | None] = [None] * len(groups)  # listwise_scale: each scale's complete rows
    if missing == "listwise_scale" and gaps:
        for k_scale, idx in enumerate(groups):
            rows = (x[:, idx] != MISSING).all(axis=1)
            rows_of[k_scale] = rows
            sub = item_moments(spec, np.ascontiguousarray(x[rows][:, idx]), validated=True)
            block = sub.covariance() * np.outer(sign[idx], sign[idx])
            cov[np.ix_(idx, idx)] = block
            raw_means = sub.means
            rev = sign[idx] < 0
            flipped = -raw_means if spec.kind == "paired" else (spec.min + spec.max) - raw_means
            means[idx] = np.where(rev, flipped, raw_means)
            counts[idx] = sub.counts
            n_items[idx] = sub.n
    answered = x != MISSING if gaps else None
    engine_scores: np.ndarray | None = None
    notes = _Notes(spec, warn)
    with np.errstate(invalid="ignore", divide="ignore"):
        freq = counts / n_items[:, None]
        sd = np.sqrt(np.diag(cov))
    fields = ("raw_r", "std_r", "r_cor", "r_drop", "alpha", "std_alpha", "g6", "average_r")
    per = {f: np.full(p, np.nan) for f in fields}
    scales = []
    for k_scale, idx in enumerate(groups):
        s = spec.scales[k_scale]
        live = idx[np.diag(cov)[idx] > 0]
        scale_gaps = gaps and bool((answered_n[idx] < n_rows).any())
        if missing == "listwise_scale" and rows_of[k_scale] is not None:
            rows_used = int(rows_of[k_scale].sum())  # type: ignore[union-attr]
        elif missing == "pairwise" and scale_gaps:
            rows_used = int(answered[:, live].any(axis=1).sum()) if len(live) and answered is not None else 0
        else:
            rows_used = n_rows
        if missing == "pairwise" and scale_gaps:  # the scale's actual scores under the scores policy
            if engine_scores is None:
                engine_scores = score(spec, x, missing=policy).scales.score
            moments = _score_moments(engine_scores[:, k_scale])
        else:  # every row used answered every item: the scores' moments follow from the block exactly
            div = len(idx) if s.score == "mean" else 1
            total_var = float(cov[np.ix_(idx, idx)].sum())
            moments = (
                float(np.sum(means[idx])) / div,
                math.sqrt(max(total_var, 0.0)) / div if rows_used > 1 else float("nan"),
                rows_used,
            )
        rel, stats_, live = _scale_reliability(
            spec, k_scale, idx, names, cov, means, confidence, rows_used, moments, notes
        )
        if missing == "pairwise" and scale_gaps and len(live) >= 2 and np.isfinite(rel.alpha):
            stats_["raw_r"] = _prorated_total_r(spec, x, live, sign[live])
        scales.append(rel)
        for f in fields:
            per[f][live] = stats_[f]
    # scale intercorrelations: K^T C K with K the keyed membership (signs are already in cov)
    member = np.zeros((p, len(spec.scales)))
    for k_scale, idx in enumerate(groups):
        member[idx, k_scale] = 1.0
    if missing == "listwise_scale" and gaps:
        inter = _complete_sum_correlations(spec, x, groups, sign, rows_of)
    else:
        inter = cov2cor(member.T @ np.nan_to_num(cov) @ member)
    alphas = np.array([s.alpha for s in scales])
    with np.errstate(invalid="ignore", divide="ignore"):
        dis = inter / np.sqrt(np.outer(alphas, alphas))
    np.fill_diagonal(dis, 1.0)
    items = ItemStatistics(
        ids=names,
        scale=tuple(spec.scales[it.scale].id if it.scale is not None else None for it in spec.items),
        keyed=np.array([it.keyed for it in spec.items], dtype=np.int8),
        n=n_items.astype(np.int64),
        missing_rate=1.0 - answered_n / max(n_rows, 1),
        mean=means,
        sd=sd,
        frequencies=freq,
        values=mom.values,
        raw_r=per["raw_r"],
        std_r=per["std_r"],
        r_cor=per["r_cor"],
        r_drop=per["r_drop"],
        alpha_if_deleted=per["alpha"],
        std_alpha_if_deleted=per["std_alpha"],
        g6_if_deleted=per["g6"],
        average_r_if_deleted=per["average_r"],
    )
    return ItemAnalysis(
        instrument=spec.id,
        instrument_version=spec.version,
        n_rows=n_rows,
        missing=missing,
        items=items,
        scales=tuple(scales),
        scale_ids=tuple(s.id for s in spec.scales),
        intercorrelations=inter,
        disattenuated=dis,
        covariance=cov,
        scores=policy.describe(),
        notes=tuple(notes.items),
        note_data=tuple(notes.data),
    )


def _complete_sum_correlations(
    spec: InstrumentSpec,
    x: np.ndarray,
    groups: list[np.ndarray],
    sign: np.ndarray,
    rows_of: list[np.ndarray | None],
) -> np.ndarray:
    """Correlations of the keyed scale sums, each pair over the rows complete on both scales."""
    m = len(groups)
    sums = np.full((len(x), m), np.nan)
    for k, idx in enumerate(groups):
        for start in range(0, len(x), _BLOCK):
            v, _ = _keyed_block(spec, x[start : start + _BLOCK, idx], sign[idx])
            sums[start : start + _BLOCK, k] = v.sum(axis=1)
        rows = rows_of[k]
        if rows is not None:
            sums[~rows, k] = np.nan
    out = np.eye(m)
    for a in range(m):
        for b in range(a + 1, m):
            both = np.isfinite(sums[:, a]) & np.isfinite(sums[:, b])
            if both.sum() > 2:
                with np.errstate(invalid="ignore", divide="ignore"):
                    r = np.corrcoef(sums[both, a], sums[both, b])[0, 1]
            else:
                r = np.nan
            out[a, b] = out[b, a] = r
    return out
