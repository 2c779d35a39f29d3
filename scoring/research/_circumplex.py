"""Does a correlation matrix follow Holland's hexagon (or any hypothesized order)?

Holland's calculus hypothesis says RIASEC scale correlations fall with the
distance between the types on the hexagon: adjacent (1 step) > alternate
(2) > opposite (3). ``circumplex_test`` reports the mean correlation at each
distance and Hubert & Arabie's (1987) randomization test of the hypothesized
order, as in Rounds, Tracey & Hubert (1992) and Tracey's RANDALL: every pair
of correlations whose distances differ is one prediction (72 for the
hexagon); the correspondence index CI = (met − violated)/predictions; the
p-value is the share of the k! relabellings of the variables whose CI is at
least the observed one (smallest possible p for six scales: 1/720 ≈ .0014).

References
----------
Hubert, L., & Arabie, P. (1987). Evaluating order hypotheses within proximity
matrices. *Psychological Bulletin*, 102, 172–178.
Rounds, J., Tracey, T. J., & Hubert, L. (1992). Methods for evaluating
vocational interest structural hypotheses. *J. Vocational Behavior*, 40,
239–259.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import permutations

import numpy as np
import pandas as pd

from ._coefficients import _square

RIASEC = "RIASEC"


def hexagon_distances(labels: str = RIASEC) -> np.ndarray:
    """Steps between every two of k types placed in this order on a circle (1 … ⌊k/2⌋)."""
    k = len(labels)
    i = np.arange(k)
    d = np.abs(i[:, None] - i[None, :])
    return np.asarray(np.minimum(d, k - d))


def hexagon_correlations(adjacent: float, alternate: float, opposite: float) -> np.ndarray:
    """A 6 × 6 RIASEC correlation matrix with one value per hexagon distance (for simulation)."""
    if not -1 < opposite < 1 or not -1 < alternate < 1 or not -1 < adjacent < 1:
        raise ValueError("correlations must lie strictly between −1 and 1")
    table = np.array([1.0, adjacent, alternate, opposite])
    return np.asarray(table[hexagon_distances()])


@dataclass(frozen=True, eq=False)
class CircumplexTest:
    labels: tuple[str, ...]
    by_distance: dict[int, float]
    """Mean correlation at each distance."""
    predictions: int
    met: int
    tied: int
    violated: int
    correspondence_index: float
    p_value: float
    permutations: int
    exact: bool
    """True when every relabelling was enumerated."""

    def distance_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"distance": list(self.by_distance), "mean_r": list(self.by_distance.values())})


def circumplex_test(
    corr: np.ndarray,
    labels: str | tuple[str, ...] = RIASEC,
    distances: np.ndarray | None = None,
    *,
    max_permutations: int = 50_000,
    seed: int | None = 0,
) -> CircumplexTest:
    """Correlation-by-distance pattern and randomization test of a hypothesized order.

    Parameters
    ----------
    corr : ndarray (k, k)
        Scale intercorrelations, rows in the order of ``labels``.
    labels : str or tuple of str
        Scale names in their hypothesized circular order (default R-I-A-S-E-C).
    distances : ndarray (k, k), optional
        Hypothesized distances; by default steps around the circle.
    max_permutations : int
        All k! relabellings are used while k! ≤ this; otherwise this many
        random ones (plus the identity).

    Examples
    --------
    >>> res = circumplex_test(hexagon_correlations(0.5, 0.3, 0.1))
    >>> res.correspondence_index, round(res.p_value, 4)
    (1.0, 0.0167)
    """
    r = _square(corr, "correlation")
    k = r.shape[0]
    names = tuple(labels)
    if len(names) != k:
        raise ValueError(f"{len(names)} labels for a {k} × {k} correlation matrix")
    d = hexagon_distances("x" * k) if distances is None else np.asarray(distances)
    if d.shape != (k, k):
        raise ValueError(f"distances must be {k} × {k}, got {d.shape}")
    iu, ju = np.triu_indices(k, 1)
    dist = d[iu, ju]
    a_idx, b_idx = np.nonzero(dist[:, None] < dist[None, :])  # pair a predicted above pair b
    if len(a_idx) == 0:
        raise ValueError("the hypothesized distances make no order predictions (all equal)")
    by = {int(v): float(r[iu, ju][dist == v].mean()) for v in np.unique(dist)}
    n_all = math.factorial(k)
    if n_all <= max_permutations:
        perms = np.array(list(permutations(range(k))), dtype=np.intp)
        exact = True
    else:
        rng = np.random.default_rng(seed)
        perms = np.vstack([np.arange(k), np.argsort(rng.random((max_permutations, k)), axis=1)])
        exact = False
    vals = r[perms[:, iu], perms[:, ju]]
    diff = vals[:, a_idx] - vals[:, b_idx]
    met_all = (diff > 0).sum(axis=1)
    viol_all = (diff < 0).sum(axis=1)
    ci_all = (met_all - viol_all) / len(a_idx)
    obs = vals[0]  # permutation 0 is the identity (enumerated first, or put first)
    od = obs[a_idx] - obs[b_idx]
    met, violated = int((od > 0).sum()), int((od < 0).sum())
    ci = (met - violated) / len(a_idx)
    p = float(np.mean(ci_all >= ci - 1e-12))
    return CircumplexTest(
        names,
        by,
        int(len(a_idx)),
        met,
        int(len(a_idx)) - met - violated,
        violated,
        float(ci),
        p,
        int(len(perms)),
        exact,
    )
