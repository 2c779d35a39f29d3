"""Reliability coefficients from a covariance (or correlation) matrix.

Every function here takes the k × k covariance matrix of one scale's keyed
items (reversed items already reflected, e.g. ``D C D`` with D = diag(±1)) and
returns plain floats or arrays. They are the building blocks of
``item_analysis`` and are usable on their own, e.g. on a published
correlation matrix.

Conventions follow R's psych package (Revelle, 2024) where researchers will
compare: ``alpha()``'s raw_alpha, std.alpha, G6(smc), average_r, S/N, ase,
r.drop and alpha-if-deleted, ``splitHalf()``'s λ4 and β, ``omega()``'s
omega.tot with one factor.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
from scipy import optimize, stats


def _square(c: np.ndarray, name: str = "covariance") -> np.ndarray:
    a = np.asarray(c, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{name} matrix must be square, got shape {a.shape}")
    if a.shape[0] < 2:
        raise ValueError(f"{name} matrix must cover at least 2 items, got {a.shape[0]}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} matrix has missing or infinite entries")
    if not np.allclose(a, a.T, rtol=1e-10, atol=1e-12):
        raise ValueError(f"{name} matrix must be symmetric")
    return a


def cov2cor(c: np.ndarray) -> np.ndarray:
    """Correlation matrix from a covariance matrix: r_jk = c_jk / √(c_jj c_kk)."""
    a = np.asarray(c, dtype=np.float64)
    d = np.sqrt(np.diag(a))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = a / np.outer(d, d)
    np.fill_diagonal(r, 1.0)
    return np.asarray(r)


def cronbach_alpha(c: np.ndarray) -> float:
    """Cronbach's α (raw) of the unit-weighted sum of the items.

    .. math:: \\alpha = \\frac{k}{k-1}\\left(1 - \\frac{\\operatorname{tr} C}{\\mathbf 1^\\top C \\mathbf 1}\\right)

    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of
    tests. *Psychometrika*, 16, 297–334. Given a correlation matrix this is the
    standardized α (psych ``std.alpha``).

    Examples
    --------
    >>> round(cronbach_alpha([[1.0, 0.5], [0.5, 1.0]]), 6)   # psych::alpha: 0.666667
    0.666667
    """
    a = _square(c)
    k = a.shape[0]
    total = a.sum()
    if total <= 0:
        raise ValueError("the items' total variance is not positive; α is undefined")
    return float(k / (k - 1) * (1.0 - np.trace(a) / total))


def alpha_ase(c: np.ndarray, n: int) -> float:
    """Asymptotic standard error of α (Duhachek & Iacobucci, 2004), as psych's ``ase``.

    .. math:: Q = \\frac{2k^2}{(k-1)^2 (\\mathbf 1^\\top C\\mathbf 1)^3}
              \\left[\\mathbf 1^\\top C\\mathbf 1\\,(\\operatorname{tr} C^2 + (\\operatorname{tr} C)^2)
              - 2 \\operatorname{tr} C\\; \\mathbf 1^\\top C^2 \\mathbf 1\\right],\\qquad
              \\mathrm{ase} = \\sqrt{Q/n}

    Duhachek, A., & Iacobucci, D. (2004). Alpha's standard error (ASE).
    *J. Applied Psychology*, 89, 792–808.
    """
    a = _square(c)
    if n < 2:
        raise ValueError(f"n must be at least 2, got {n}")
    k = a.shape[0]
    s = a.sum()
    c2 = a @ a
    q = (2 * k**2 / ((k - 1) ** 2 * s**3)) * (s * (np.trace(c2) + np.trace(a) ** 2) - 2 * np.trace(a) * c2.sum())
    return float(math.sqrt(max(q, 0.0) / n))


def feldt_interval(alpha: float, n: int, k: int, confidence: float = 0.95) -> tuple[float, float]:
    """Feldt's confidence interval for Cronbach's α.

    .. math:: \\bigl[1 - (1-\\hat\\alpha)F_{1-\\gamma/2},\\; 1 - (1-\\hat\\alpha)F_{\\gamma/2}\\bigr],
              \\quad F \\sim F(n-1,\\,(n-1)(k-1)),\\ \\gamma = 1 - \\text{confidence}

    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical
    inference for coefficient alpha. *Applied Psychological Measurement*, 11,
    93–103 (formula 6). Same as psych's ``alpha.ci``.

    Examples
    --------
    >>> lo, hi = feldt_interval(0.79, n=41, k=26, confidence=0.90)
    >>> round(lo, 3), round(hi, 3)
    (0.705, 0.862)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    if n < 2 or k < 2:
        raise ValueError(f"Feldt's interval needs n ≥ 2 respondents and k ≥ 2 items (got n={n}, k={k})")
    g = 1 - confidence
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * stats.f.ppf(1 - g / 2, df1, df2)
    hi = 1 - (1 - alpha) * stats.f.ppf(g / 2, df1, df2)
    return float(lo), float(hi)


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlation of each item with all the others: 1 − 1/(R⁻¹)_jj.

    Guttman (1940); psych's ``smc``. Raises ``ValueError`` for a singular matrix (numerically: rank
    below its order, as with fewer respondents than items or an item that duplicates others), where
    an item's multiple correlation with the others is 1 or undefined and the inverse is noise.

    >>> r = np.array([[1.0, 0.5, 0.5], [0.5, 1.0, 0.5], [0.5, 0.5, 1.0]])
    >>> [round(float(v), 6) for v in smc(r)]   # R² of one item on the two others: 2·.25/(1 + .5)
    [0.333333, 0.333333, 0.333333]
    """
    a = _square(r, "correlation")
    if not np.isfinite(a).all() or np.linalg.matrix_rank(a) < a.shape[0]:
        raise ValueError("the correlation matrix is singular; squared multiple correlations are undefined")
    try:
        inv = np.linalg.inv(a)
    except np.linalg.LinAlgError as exc:
        raise ValueError("the correlation matrix is singular; squared multiple correlations are undefined") from exc
    return 1.0 - 1.0 / np.diag(inv)


def guttman_lambda6(r: np.ndarray) -> float:
    """Guttman's λ6 on the correlation matrix, as psych's ``G6(smc)``.

    .. math:: \\lambda_6 = 1 - \\frac{\\sum_j (1 - \\mathrm{smc}_j)}{\\mathbf 1^\\top R \\mathbf 1}

    with smc_j the squared multiple correlation of item j with the *other
    items of the same scale*. This is the standardized (correlation-matrix)
    variant; Guttman's raw variant replaces R by the covariance matrix and
    1 − smc_j by the residual variance 1/(C⁻¹)_jj.

    Guttman, L. (1945). A basis for analyzing test-retest reliability.
    *Psychometrika*, 10, 255–282.

    Examples
    --------
    >>> round(guttman_lambda6([[1.0, 0.5], [0.5, 1.0]]), 6)   # smc = .25 each
    0.5
    """
    a = _square(r, "correlation")
    return float(1.0 - (a.shape[0] - smc(a).sum()) / a.sum())


def spearman_brown(r: float | np.ndarray, factor: float = 2.0) -> float | np.ndarray:
    """Spearman–Brown prophecy: reliability of a test ``factor`` times as long.

    .. math:: \\rho^* = \\frac{m\\,r}{1 + (m-1) r}

    Spearman (1910); Brown (1910). With m = 2 it steps a half-test correlation
    up to full length.

    >>> round(spearman_brown(0.6), 6)
    0.75
    """
    if factor <= 0:
        raise ValueError(f"the length factor must be positive, got {factor}")
    out = factor * np.asarray(r, dtype=np.float64) / (1 + (factor - 1) * np.asarray(r, dtype=np.float64))
    return float(out) if np.ndim(out) == 0 else out


def standard_error_of_measurement(sd: float | np.ndarray, reliability: float | np.ndarray) -> float | np.ndarray:
    """SEM = SD · √(1 − r_xx) (classical test theory; e.g. Lord & Novick, 1968).

    >>> standard_error_of_measurement(10.0, 0.91)
    3.0
    """
    rel = np.asarray(reliability, dtype=np.float64)
    if np.any((rel > 1) | (rel < -1)):
        raise ValueError("a reliability must lie in [−1, 1]")
    out = np.asarray(sd, dtype=np.float64) * np.sqrt(np.clip(1.0 - rel, 0.0, None))
    return float(np.round(out, 12)) if np.ndim(out) == 0 else out


def split_halves(c: np.ndarray, *, max_splits: int = 10_000, seed: int = 0) -> dict[str, float]:
    """Split-half reliabilities over every split into two halves.

    For each split (A, B) of the k items (sizes ⌊k/2⌋ and ⌈k/2⌉):
    Guttman's λ4 (Flanagan–Rulon) = 4 c_AB / 1ᵀC1, as psych's ``splitHalf``.
    Also the first-half/second-half split by odd and even positions (items
    1, 3, 5, … vs 2, 4, 6, …) stepped up with Spearman–Brown:
    2 r_AB / (1 + r_AB).

    All splits are enumerated while there are at most ``max_splits``;
    otherwise ``max_splits`` random splits are drawn (seeded).

    Returns a dict with ``odd_even_sb``, ``lambda4_max`` (max over splits),
    ``beta`` (min over splits; Revelle's β estimate), ``mean`` and ``n_splits``.

    Guttman (1945); Rulon, P. J. (1939), *Harvard Educational Review*, 9,
    99–103; Revelle, W. (1979), *Multivariate Behavioral Research*, 14, 57–74.
    """
    a = _square(c)
    k = a.shape[0]
    half = k // 2
    total = a.sum()
    n_all = math.comb(k, half) // (2 if k % 2 == 0 else 1)
    if n_all <= max_splits:
        combos = np.array(list(combinations(range(k), half)), dtype=np.intp)
        if k % 2 == 0:
            combos = combos[combos[:, 0] == 0]  # each split once: A holds item 0
        ind = np.zeros((len(combos), k))
        np.put_along_axis(ind, combos, 1.0, axis=1)
    else:
        rng = np.random.default_rng(seed)
        keys = rng.random((max_splits, k))
        order = np.argsort(keys, axis=1)[:, :half]
        ind = np.zeros((max_splits, k))
        np.put_along_axis(ind, order, 1.0, axis=1)
    other = 1.0 - ind
    c_ab = np.einsum("sj,jk,sk->s", ind, a, other)
    lam4 = 4.0 * c_ab / total
    odd = np.zeros(k)
    odd[0::2] = 1.0
    va, vb, cab = odd @ a @ odd, (1 - odd) @ a @ (1 - odd), odd @ a @ (1 - odd)
    r_oe = cab / math.sqrt(va * vb) if va > 0 and vb > 0 else float("nan")
    return {
        "odd_even_sb": float(spearman_brown(r_oe)),
        "lambda4_max": float(lam4.max()),
        "beta": float(lam4.min()),
        "mean": float(lam4.mean()),
        "n_splits": float(len(lam4)),
    }


def minres(r: np.ndarray, n_factors: int = 1, *, lower: float = 0.005) -> tuple[np.ndarray, np.ndarray, bool]:
    """Minimum-residual (unweighted least squares) factor extraction.

    Finds uniquenesses ψ minimizing ½ Σ_{i > m} e_i(R − Ψ)², the squared
    eigenvalues of R − Ψ beyond the first m (equivalently the off-diagonal
    residuals at the optimum), with gradient diag(ΛΛᵀ − (R − Ψ)); loadings are
    the first m eigenvectors of R − Ψ scaled by √eigenvalue. Bounds ψ ∈
    [lower, 1] as psych's ``fa(fm = "minres")``.

    Harman, H. H., & Jones, W. H. (1966). Factor analysis by minimizing
    residuals (minres). *Psychometrika*, 31, 351–368.

    Returns ``(loadings k × m, uniquenesses k, converged)``; each factor's
    sign is chosen so that its loadings sum to a positive number.
    """
    a = _square(r, "correlation")
    k = a.shape[0]
    if not 1 <= n_factors < k:
        raise ValueError(f"n_factors must be between 1 and {k - 1} for {k} items, got {n_factors}")

    def parts(psi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        s = a.copy()
        s[np.diag_indices(k)] = 1.0 - psi
        w, v = np.linalg.eigh(s)
        w, v = w[::-1], v[:, ::-1]
        return s, w, v

    def fun(psi: np.ndarray) -> tuple[float, np.ndarray]:
        s, w, v = parts(psi)
        lam = v[:, :n_factors] * np.sqrt(np.clip(w[:n_factors], 0.0, None))
        model = lam @ lam.T
        resid = s - model
        return 0.5 * float((resid**2).sum()), np.diag(model - s).copy()

    try:
        start = np.clip(1.0 - smc(a), lower, 1.0)
    except ValueError:
        start = np.full(k, 0.5)
    res = optimize.minimize(
        fun,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[(lower, 1.0)] * k,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
    )
    _, w, v = parts(res.x)
    lam = v[:, :n_factors] * np.sqrt(np.clip(w[:n_factors], 0.0, None))
    signs = np.where(lam.sum(axis=0) < 0, -1.0, 1.0)
    lam = lam * signs
    return lam, 1.0 - (lam**2).sum(axis=1), bool(res.success)


def omega_total(r: np.ndarray) -> float:
    """McDonald's ω total from a one-factor minres model on the correlation matrix.

    .. math:: \\omega_t = 1 - \\frac{\\sum_j \\psi_j}{\\mathbf 1^\\top R\\,\\mathbf 1},
              \\qquad \\psi_j = 1 - \\lambda_j^2

    This is psych's ``omega(x, nfactors = 1, fm = "minres")$omega.tot``: the
    standardized variant (items as correlations), with the *observed* total
    variance 1ᵀR1 in the denominator. McDonald, R. P. (1999). *Test theory: A
    unified treatment*, ch. 6; Revelle, W., & Zinbarg, R. E. (2009).
    *Psychometrika*, 74, 145–154.

    Examples
    --------
    >>> r = np.full((4, 4), 0.49); np.fill_diagonal(r, 1.0)   # λ = .7 everywhere
    >>> round(omega_total(r), 6)    # (2.8² ) / (2.8² + 4·.51) = 0.793522
    0.793522
    """
    a = _square(r, "correlation")
    lam, psi, _ = minres(a, 1)
    return float(1.0 - psi.sum() / a.sum())
