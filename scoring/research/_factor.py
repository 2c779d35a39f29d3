"""Exploratory factor analysis with Horn's parallel analysis.

The number of factors is suggested by comparing the eigenvalues of the item
correlation matrix with those of correlation matrices of uncorrelated normal
data of the same size (Horn, 1965), using the 95th percentile of the random
eigenvalues (Glorfeld, 1995). Random correlation matrices are drawn from the
Wishart distribution of n − 1 degrees of freedom (Bartlett decomposition), so
the cost does not grow with the number of respondents. Factors are extracted
by minres and rotated by varimax or promax, as R's ``stats::varimax`` and
``stats::promax``.

References
----------
Horn, J. L. (1965). A rationale and test for the number of factors in factor
analysis. *Psychometrika*, 30, 179–185.
Glorfeld, L. W. (1995). An improvement on Horn's parallel analysis
methodology. *Educational and Psychological Measurement*, 55, 377–393.
Kaiser, H. F. (1958). The varimax criterion for analytic rotation in factor
analysis. *Psychometrika*, 23, 187–200.
Hendrickson, A. E., & White, P. O. (1964). Promax: a quick method for rotation
to oblique simple structure. *British J. Statistical Psychology*, 17, 65–70.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from ._coefficients import _square, minres

Rotation = Literal["promax", "varimax", "none"]


@dataclass(frozen=True, eq=False)
class ParallelAnalysis:
    """Observed and random eigenvalues (principal components of the correlation matrix)."""

    observed: np.ndarray
    random_mean: np.ndarray
    random_quantile: np.ndarray
    quantile: float
    n_obs: int
    n_iter: int
    suggested: int
    """Leading observed eigenvalues above the random quantile, counted until the first that is not."""

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "component": np.arange(1, len(self.observed) + 1),
                "observed": self.observed,
                "random_mean": self.random_mean,
                f"random_p{round(self.quantile * 100)}": self.random_quantile,
            }
        )


@dataclass(frozen=True, eq=False)
class FactorSolution:
    """A rotated factor solution. For promax, ``loadings`` is the pattern matrix and ``phi`` the
    factor correlations; for an orthogonal solution ``phi`` is the identity."""

    items: tuple[str, ...]
    loadings: np.ndarray
    uniquenesses: np.ndarray
    phi: np.ndarray
    rotation: str
    converged: bool

    @property
    def communalities(self) -> np.ndarray:
        return 1.0 - self.uniquenesses

    @property
    def n_factors(self) -> int:
        return int(self.loadings.shape[1])

    def to_frame(self) -> pd.DataFrame:
        cols = {"item": list(self.items)}
        for f in range(self.n_factors):
            cols[f"F{f + 1}"] = self.loadings[:, f]  # type: ignore[assignment]
        cols["h2"] = self.communalities  # type: ignore[assignment]
        return pd.DataFrame(cols)


def parallel_analysis(
    corr: np.ndarray, n_obs: int, *, n_iter: int = 100, quantile: float = 0.95, seed: int | None = 0
) -> ParallelAnalysis:
    """Horn's parallel analysis on principal-component eigenvalues.

    Parameters
    ----------
    corr : ndarray (p, p)
        Item correlation matrix.
    n_obs : int
        Respondents behind it.
    n_iter : int
        Random correlation matrices to draw.
    quantile : float
        Which quantile of the random eigenvalues an observed one must exceed
        (0.95 after Glorfeld, 1995; 0.5 is close to Horn's mean criterion).

    Notes
    -----
    A random p × p sample covariance of n iid N(0, I) rows is W/(n − 1) with
    W ~ Wishart(n − 1, I); its correlation matrix is W scaled by its
    diagonal, so drawing W directly (Bartlett decomposition) gives the same
    reference distribution as simulating n × p data, at O(p³) cost.

    Examples
    --------
    >>> r = np.eye(6); r[:3, :3] = r[3:, 3:] = 0.5; np.fill_diagonal(r, 1.0)
    >>> parallel_analysis(r, n_obs=500).suggested
    2
    """
    r = _square(corr, "correlation")
    p = r.shape[0]
    if n_obs <= p:
        raise ValueError(f"parallel analysis needs more respondents ({n_obs}) than items ({p})")
    if n_iter < 10:
        raise ValueError(f"n_iter must be at least 10, got {n_iter}")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must lie strictly between 0 and 1, got {quantile}")
    observed = np.sort(np.linalg.eigvalsh(r))[::-1]
    w = stats.wishart(df=n_obs - 1, scale=np.eye(p)).rvs(size=n_iter, random_state=seed)
    w = np.asarray(w).reshape(n_iter, p, p)
    d = np.sqrt(np.einsum("sii->si", w))
    rr = w / (d[:, :, None] * d[:, None, :])
    ev = np.sort(np.linalg.eigvalsh(rr), axis=1)[:, ::-1]
    q = np.quantile(ev, quantile, axis=0)
    above = observed > q
    suggested = int(np.argmin(above)) if not above.all() else p
    return ParallelAnalysis(observed, ev.mean(axis=0), q, quantile, int(n_obs), n_iter, suggested)


def varimax(
    loadings: np.ndarray, *, normalize: bool = True, eps: float = 1e-5, max_iter: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Kaiser's varimax rotation, as R's ``stats::varimax``: returns (rotated loadings, rotation matrix).

    Maximizes Σ_f [Σ_j λ_jf⁴ − (Σ_j λ_jf²)²/p] over orthogonal T by the SVD
    iteration of Neudecker (1981); rows are Kaiser-normalized first when
    ``normalize``.
    """
    x = np.asarray(loadings, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"loadings must be a 2-D array (items × factors), got {x.ndim}-D")
    p, m = x.shape
    if m < 2:
        return x.copy(), np.eye(m)
    sc = np.sqrt((x**2).sum(axis=1)) if normalize else np.ones(p)
    if np.any(sc == 0):
        raise ValueError("an item has all-zero loadings; it cannot be Kaiser-normalized")
    xn = x / sc[:, None]
    t = np.eye(m)
    d = 0.0
    for _ in range(max_iter):
        z = xn @ t
        b = xn.T @ (z**3 - z @ np.diag((z**2).sum(axis=0)) / p)
        u, s, vt = np.linalg.svd(b)
        t = u @ vt
        d_past, d = d, float(s.sum())
        if d < d_past * (1 + eps):
            break
    return (xn @ t) * sc[:, None], t


def promax(loadings: np.ndarray, power: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Promax rotation, as R's ``stats::promax``: (pattern loadings, rotation matrix U, factor correlations Φ).

    Varimax first, then the least-squares fit U of the loadings to the target
    λ|λ|^(power−1), columns rescaled so diag((UᵀU)⁻¹) = 1; Φ = (UᵀU)⁻¹ for the
    total rotation U.
    """
    x = np.asarray(loadings, dtype=np.float64)
    if power < 2:
        raise ValueError(f"the promax power must be at least 2, got {power}")
    m = x.shape[1]
    if m < 2:
        return x.copy(), np.eye(m), np.eye(m)
    v, t = varimax(x)
    target = v * np.abs(v) ** (power - 1)
    u = np.linalg.lstsq(v, target, rcond=None)[0]
    d = np.diag(np.linalg.inv(u.T @ u))
    u = u @ np.diag(np.sqrt(d))
    pattern = v @ u
    total = t @ u
    phi = np.linalg.inv(total.T @ total)
    return pattern, total, phi


def exploratory_factor_analysis(
    corr: np.ndarray, n_factors: int, *, rotation: Rotation = "promax", items: tuple[str, ...] | None = None
) -> FactorSolution:
    """Minres extraction of ``n_factors`` and a varimax/promax rotation.

    Factors are ordered by the variance they account for (Σ_j λ_jf² of the
    pattern) and each is signed so its loadings sum to a positive number.
    """
    r = _square(corr, "correlation")
    if rotation not in ("promax", "varimax", "none"):
        raise ValueError(f"rotation must be promax, varimax or none, got {rotation!r}")
    names = items if items is not None else tuple(f"V{j + 1}" for j in range(r.shape[0]))
    if len(names) != r.shape[0]:
        raise ValueError(f"{len(names)} item names for a {r.shape[0]} × {r.shape[0]} matrix")
    lam, psi, ok = minres(r, n_factors)
    phi = np.eye(n_factors)
    if rotation == "varimax":
        lam, _ = varimax(lam)
    elif rotation == "promax":
        lam, _, phi = promax(lam)
    order = np.argsort(-(lam**2).sum(axis=0), kind="stable")
    lam, phi = lam[:, order], phi[np.ix_(order, order)]
    sign = np.where(lam.sum(axis=0) < 0, -1.0, 1.0)
    lam = lam * sign
    phi = phi * np.outer(sign, sign)
    return FactorSolution(names, lam, psi, phi, rotation, ok)
