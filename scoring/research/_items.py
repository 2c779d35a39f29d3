"""Item and scale analysis of a whole instrument from one covariance pass.

``item_analysis`` reads the response matrix once (``item_moments``), keys the
48 × 48 covariance matrix (D C D, D = diag(±1)), and derives every statistic of
every scale from its block: item means, SDs, response frequencies, psych's
raw.r / std.r / r.cor / r.drop, alpha-if-deleted (raw, standardized, G6),
Cronbach's α raw and standardized with Feldt's interval and Duhachek's ase,
Guttman's λ6 (G6(smc)), McDonald's ω total, split halves, SEM, and the scale
intercorrelations (raw and disattenuated).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

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

Missing = Literal["pairwise", "listwise"]


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
    missing_rate: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    frequencies: np.ndarray
    """items × values: share of the answering rows giving each raw (unkeyed) value, as psych's
    ``response.freq`` (columns: ``values``)."""
    values: tuple[int, ...]
    raw_r: np.ndarray
    """Item–total correlation, total including the item (psych raw.r)."""
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
    """Respondents behind the estimates: the smallest pairwise n among the items (pairwise) or
    the complete rows (listwise); used for Feldt's interval and ase."""
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
    sd: float
    sem: float
    dropped: tuple[str, ...] = ()
    """Items left out of this scale's analysis because nobody varied on them."""


@dataclass(frozen=True, eq=False)
class ItemAnalysis:
    """Everything ``item_analysis`` computes for one instrument."""

    instrument: str
    instrument_version: str
    n_rows: int
    missing: str
    items: ItemStatistics
    scales: tuple[ScaleReliability, ...]
    scale_ids: tuple[str, ...]
    intercorrelations: np.ndarray
    """Scales × scales correlations of the keyed sum scores (from the item covariance)."""
    disattenuated: np.ndarray
    """r_xy / √(α_x α_y): the correlations corrected for unreliability (psych scoreItems' upper triangle)."""
    covariance: np.ndarray
    """The keyed item covariance matrix everything was derived from."""

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
    """α raw/std, G6(smc) and mean r of the scale without each item, vectorized over items."""
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
    out["alpha"] = m / (m - 1) * (1 - tr_drop / v_drop)
    row_r = r.sum(axis=1)
    sum_r_drop = r.sum() - 2 * row_r + 1.0
    out["std_alpha"] = m / (m - 1) * (1 - m / sum_r_drop)
    out["average_r"] = (sum_r_drop - m) / (m * (m - 1))
    try:
        p = np.linalg.inv(r)
        # inverse of R without item i: P_{-i,-i} − P_{-i,i} P_{i,-i} / P_ii (row i = dropped item)
        d = np.diag(p)[None, :] - p**2 / np.diag(p)[:, None]
        np.fill_diagonal(d, 1.0)  # the dropped item itself: no smc
        smc_drop = 1.0 - 1.0 / d
        out["g6"] = 1.0 - (m - smc_drop.sum(axis=1)) / sum_r_drop
    except np.linalg.LinAlgError:
        pass
    return out


def _scale_reliability(
    spec: InstrumentSpec,
    k_scale: int,
    idx: np.ndarray,
    names: tuple[str, ...],
    cov: np.ndarray,
    means: np.ndarray,
    n_pair: np.ndarray,
    confidence: float,
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
    total_var = float(cov[np.ix_(idx, idx)].sum())
    k_all = len(idx)
    div = k_all if s.score == "mean" else 1
    mean_total = float(np.nansum(means[idx])) / div
    sd = math.sqrt(max(total_var, 0.0)) / div
    if len(live) < 2:
        rel = ScaleReliability(
            s.id,
            k_all,
            int(n_pair[np.ix_(idx, idx)].min()) if k_all else 0,
            nan,
            nan,
            (nan, nan),
            confidence,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            nan,
            mean_total,
            sd,
            nan,
            dropped,
        )
        return rel, per_item, live
    c = cov[np.ix_(live, live)]
    r = cov2cor(c)
    k = len(live)
    n = int(n_pair[np.ix_(live, live)].min())
    alpha = cronbach_alpha(c)
    alpha_std = cronbach_alpha(r)
    sum_r = r.sum()
    av_r = (sum_r - k) / (k * (k - 1))
    try:
        inv = np.linalg.inv(r)
        smc_r = 1.0 - 1.0 / np.diag(inv)
        g6 = float(1.0 - (k - smc_r.sum()) / sum_r)
    except np.linalg.LinAlgError:
        smc_r = np.full(k, np.nan)
        g6 = nan
    try:
        omega = omega_total(r) if k >= 3 else alpha_std
    except (ValueError, np.linalg.LinAlgError):
        omega = nan
    halves = split_halves(c)
    ci = feldt_interval(alpha, n, k, confidence) if n >= 2 else (nan, nan)
    rel = ScaleReliability(
        scale=s.id,
        n_items=k_all,
        n=n,
        alpha=alpha,
        alpha_std=alpha_std,
        alpha_ci=ci,
        confidence=confidence,
        ase=alpha_ase(c, n) if n >= 2 else nan,
        average_r=float(av_r),
        signal_noise=float(k * av_r / (1 - av_r)),
        lambda6=g6,
        omega_total=float(omega),
        split_half=halves["odd_even_sb"],
        lambda4=halves["lambda4_max"],
        beta=halves["beta"],
        mean=mean_total,
        sd=sd,
        sem=float(standard_error_of_measurement(sd, alpha)) if alpha <= 1 else nan,
        dropped=dropped,
    )
    row_c = c.sum(axis=1)
    row_r = r.sum(axis=1)
    rc = r.copy()
    np.fill_diagonal(rc, smc_r)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_item["raw_r"] = row_c / np.sqrt(np.diag(c) * c.sum())
        per_item["std_r"] = row_r / math.sqrt(sum_r)
        per_item["r_cor"] = rc.sum(axis=1) / math.sqrt(rc.sum())
    per_item.update(_if_deleted(c, r))
    return rel, per_item, live


def item_analysis(
    spec: InstrumentSpec,
    responses: np.ndarray,
    *,
    missing: Missing = "pairwise",
    confidence: float = 0.95,
) -> ItemAnalysis:
    """Full classical item analysis of every scale of an instrument.

    Parameters
    ----------
    spec : InstrumentSpec
        From ``instruments.scoring_spec``; item keys and reversals come from it
        (never inferred from the data).
    responses : ndarray (n, items)
        int8 in the engine's encoding (``MISSING`` = skipped) or float with NaN.
    missing : {"pairwise", "listwise"}
        ``pairwise`` (psych's default): each covariance from the rows answering
        both items. ``listwise``: only rows answering every scored item.
    confidence : float
        Level of Feldt's interval for α.

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
    item-by-scale matrix K. Items with zero variance in a scale are left out
    of that scale's coefficients (psych's ``alpha`` drops them too) and listed
    in ``dropped``.

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
    if missing not in ("pairwise", "listwise"):
        raise ValueError(f"missing must be 'pairwise' or 'listwise', got {missing!r}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    x = as_codes(spec, responses)
    if missing == "listwise":
        scored = np.array([it.scale is not None for it in spec.items])
        x = x[(x[:, scored] != MISSING).all(axis=1)]
    mom = item_moments(spec, x, validated=True)
    cov, means, sign = keyed_covariance(spec, mom)
    names = spec.item_ids
    p = len(names)
    n_items = mom.n
    with np.errstate(invalid="ignore", divide="ignore"):
        freq = mom.counts / n_items[:, None]
        sd = np.sqrt(np.diag(cov))
    fields = ("raw_r", "std_r", "r_cor", "r_drop", "alpha", "std_alpha", "g6", "average_r")
    per = {f: np.full(p, np.nan) for f in fields}
    scales = []
    groups = _scale_items(spec)
    for k_scale, idx in enumerate(groups):
        rel, stats_, live = _scale_reliability(spec, k_scale, idx, names, cov, means, mom.n_pair, confidence)
        scales.append(rel)
        for f in fields:
            per[f][live] = stats_[f]
    # scale intercorrelations: K^T C K with K the keyed membership (signs are already in cov)
    member = np.zeros((p, len(spec.scales)))
    for k_scale, idx in enumerate(groups):
        member[idx, k_scale] = 1.0
    scov = member.T @ np.nan_to_num(cov) @ member
    inter = cov2cor(scov)
    alphas = np.array([s.alpha for s in scales])
    with np.errstate(invalid="ignore"):
        dis = inter / np.sqrt(np.outer(alphas, alphas))
    np.fill_diagonal(dis, 1.0)
    items = ItemStatistics(
        ids=names,
        scale=tuple(spec.scales[it.scale].id if it.scale is not None else None for it in spec.items),
        keyed=np.array([it.keyed for it in spec.items], dtype=np.int8),
        n=n_items.astype(np.int64),
        missing_rate=1.0 - n_items / max(mom.n_rows, 1),
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
        n_rows=mom.n_rows,
        missing=missing,
        items=items,
        scales=tuple(scales),
        scale_ids=tuple(s.id for s in spec.scales),
        intercorrelations=inter,
        disattenuated=dis,
        covariance=cov,
    )
