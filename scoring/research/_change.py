"""Test–retest reliability and the Jacobson–Truax reliable change index.

References
----------
Jacobson, N. S., & Truax, P. (1991). Clinical significance: a statistical
approach to defining meaningful change in psychotherapy research. *J.
Consulting and Clinical Psychology*, 59, 12–19.
McGraw, K. O., & Wong, S. P. (1996). Forming inferences about some intraclass
correlation coefficients. *Psychological Methods*, 1, 30–46.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True, eq=False)
class RetestReliability:
    """Per scale (arrays over ``scales``): agreement of two administrations of the same people."""

    scales: tuple[str, ...]
    n: np.ndarray
    """People with both scores."""
    r: np.ndarray
    """Pearson correlation between the two administrations (the test–retest coefficient)."""
    r_ci: np.ndarray
    """scales × 2 Fisher-z confidence interval of r."""
    icc: np.ndarray
    """ICC(A,1): two-way, absolute agreement, single measurement (McGraw & Wong, 1996)."""
    mean_change: np.ndarray
    sd_change: np.ndarray
    confidence: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "scale": list(self.scales),
                "n": self.n,
                "r": self.r,
                "r_lo": self.r_ci[:, 0],
                "r_hi": self.r_ci[:, 1],
                "icc_a1": self.icc,
                "mean_change": self.mean_change,
                "sd_change": self.sd_change,
            }
        )


def _pair(first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    if a.ndim == 1:
        a, b = a[:, None], b[:, None] if b.ndim == 1 else b
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(
            f"the two administrations must have the same shape (rows × scales), got {a.shape} and {b.shape}"
        )
    return a, b


def test_retest(
    first: np.ndarray, second: np.ndarray, scales: Sequence[str] | None = None, *, confidence: float = 0.95
) -> RetestReliability:
    """Test–retest reliability of each scale.

    Parameters
    ----------
    first, second : ndarray (people, scales)
        Scores of the same people (same row order) at two administrations; NaN = not scored.

    Notes
    -----
    r is Pearson's correlation over the people with both scores, its interval
    tanh(atanh r ± z/√(n − 3)). ICC(A,1) from the two-way ANOVA mean squares
    of the n × 2 table: (MS_R − MS_E) / (MS_R + MS_E + 2(MS_C − MS_E)/n).

    Examples
    --------
    >>> t1 = np.array([10.0, 12, 15, 20, 22]); t2 = t1 + 1
    >>> res = test_retest(t1, t2)
    >>> float(res.r[0]), round(float(res.icc[0]), 4), float(res.mean_change[0])
    (1.0, 0.9813, 1.0)
    """
    a, b = _pair(first, second)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    m = a.shape[1]
    names = tuple(scales) if scales is not None else tuple(f"scale{k + 1}" for k in range(m))
    if len(names) != m:
        raise ValueError(f"{len(names)} scale names for {m} columns")
    z = stats.norm.ppf(0.5 + confidence / 2)
    n_out, r_out, ci_out, icc_out, mc, sc = (np.full(m, np.nan) for _ in range(6))
    ci_out = np.full((m, 2), np.nan)
    for k in range(m):
        ok = np.isfinite(a[:, k]) & np.isfinite(b[:, k])
        x, y = a[ok, k], b[ok, k]
        n = len(x)
        n_out[k] = n
        if n < 3:
            continue
        r = float(np.corrcoef(x, y)[0, 1]) if x.std() > 0 and y.std() > 0 else float("nan")
        r_out[k] = r
        if n > 3 and np.isfinite(r) and abs(r) < 1:
            zr = math.atanh(r)
            ci_out[k] = [math.tanh(zr - z / math.sqrt(n - 3)), math.tanh(zr + z / math.sqrt(n - 3))]
        elif np.isfinite(r):
            ci_out[k] = [r, r]
        data = np.column_stack([x, y])
        grand = data.mean()
        ms_r = 2 * ((data.mean(axis=1) - grand) ** 2).sum() / (n - 1)
        ms_c = n * ((data.mean(axis=0) - grand) ** 2).sum() / 1
        resid = data - data.mean(axis=1, keepdims=True) - data.mean(axis=0, keepdims=True) + grand
        ms_e = (resid**2).sum() / (n - 1)
        denom = ms_r + ms_e + 2 * (ms_c - ms_e) / n
        icc_out[k] = (ms_r - ms_e) / denom if denom > 0 else float("nan")
        d = y - x
        mc[k], sc[k] = d.mean(), d.std(ddof=1)
    return RetestReliability(names, n_out.astype(np.int64), r_out, ci_out, icc_out, mc, sc, confidence)


test_retest.__test__ = False  # type: ignore[attr-defined]  # keep pytest from collecting it


@dataclass(frozen=True, eq=False)
class ReliableChange:
    """Jacobson–Truax reliable change of each person (and scale)."""

    rci: np.ndarray
    s_diff: np.ndarray
    critical: float
    direction: np.ndarray
    """+1 reliable increase, −1 reliable decrease, 0 no reliable change, and 0 where a score is missing."""


def reliable_change(
    before: np.ndarray,
    after: np.ndarray,
    *,
    sd: float | np.ndarray,
    reliability: float | np.ndarray,
    confidence: float = 0.95,
) -> ReliableChange:
    """Jacobson & Truax's (1991) reliable change index.

    .. math:: SE = SD_1\\sqrt{1 - r_{xx}},\\quad S_{diff} = \\sqrt{2 SE^2},\\quad
              RC = \\frac{x_2 - x_1}{S_{diff}}

    A change is reliable when |RC| exceeds z_{(1+confidence)/2} (1.96 at 95 %).
    ``sd`` and ``reliability`` are those of the norm or reference sample
    (per scale when arrays; broadcast against the scores).

    >>> res = reliable_change(np.array([20.0]), np.array([30.0]), sd=5.0, reliability=0.8)
    >>> round(float(res.rci[0]), 3), int(res.direction[0])
    (3.162, 1)
    """
    x1, x2 = np.asarray(before, dtype=np.float64), np.asarray(after, dtype=np.float64)
    if x1.shape != x2.shape:
        raise ValueError(f"before and after must have the same shape, got {x1.shape} and {x2.shape}")
    s = np.asarray(sd, dtype=np.float64)
    rel = np.asarray(reliability, dtype=np.float64)
    if np.any(s <= 0) or not np.all(np.isfinite(s)):
        raise ValueError("sd must be positive and finite")
    if np.any((rel < 0) | (rel >= 1)) or not np.all(np.isfinite(rel)):
        raise ValueError("reliability must lie in [0, 1): with r = 1 every change would be 'reliable'")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    se = s * np.sqrt(1.0 - rel)
    s_diff = np.sqrt(2.0) * se
    rci = (x2 - x1) / s_diff
    crit = float(stats.norm.ppf(0.5 + confidence / 2))
    direction = np.where(np.isfinite(rci) & (np.abs(rci) > crit), np.sign(rci), 0).astype(np.int8)
    return ReliableChange(rci, np.broadcast_to(s_diff, rci.shape).copy(), crit, direction)
