"""One pass over an int8 response matrix → every second-order moment.

Every classical item and scale statistic (α, ω, λ6, item–total correlations,
alpha-if-deleted, split halves, scale intercorrelations, factor analysis) is a
function of the item covariance matrix. ``item_moments`` reads the matrix once,
in row blocks, and accumulates the Gram matrix of ``[x · answered | answered]``
with one BLAS call per block; everything else is 48 × 48 algebra.

Exactness: a block is cast to float32 and the block's sums are exact integers
as long as they stay below 2**24, so the block height is chosen from the
largest possible |answer|; blocks are added up in float64. The result is the
same as R's ``cov(x, use = "pairwise")`` to rounding.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._parse import as_codes
from .._spec import MISSING, InstrumentSpec

_EXACT_FLOAT32 = 2**24
_MAX_BLOCK = 65_536


@dataclass(frozen=True, eq=False)
class ItemMoments:
    """Pairwise moments of the raw (unkeyed) item answers.

    Attributes
    ----------
    n_pair : ndarray (p, p)
        Rows where both items were answered (the diagonal: rows answering the item).
    sum_pair : ndarray (p, p)
        ``sum_pair[j, k]`` = Σ x_j over the rows where j and k were both answered.
    cross : ndarray (p, p)
        Σ x_j x_k over the rows where both were answered.
    counts : ndarray (p, v)
        How many rows gave each of ``values`` to each item.
    values : tuple of int
        The instrument's valid answer codes (columns of ``counts``).
    n_rows : int
        Rows read, answered or not.
    """

    n_pair: np.ndarray
    sum_pair: np.ndarray
    cross: np.ndarray
    counts: np.ndarray
    values: tuple[int, ...]
    n_rows: int

    @property
    def n(self) -> np.ndarray:
        """Answered rows per item."""
        return np.diag(self.n_pair).copy()

    @property
    def means(self) -> np.ndarray:
        """Item means over the rows that answered the item (raw, unkeyed)."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.diag(self.sum_pair) / self.n)

    def covariance(self) -> np.ndarray:
        """Pairwise-complete covariance matrix (denominator n_jk − 1).

        .. math:: c_{jk} = \\frac{\\sum x_j x_k - (\\sum x_j)(\\sum x_k)/n_{jk}}{n_{jk} - 1}

        with all three sums over the n_jk rows answering both items; this is
        R's ``cov(x, use = "pairwise.complete.obs")``.
        """
        s = self.sum_pair
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray((self.cross - s * s.T / self.n_pair) / (self.n_pair - 1))


def block_rows(max_abs: int) -> int:
    """Rows per float32 block whose sums of squares stay exact (< 2**24)."""
    return int(max(256, min(_MAX_BLOCK, _EXACT_FLOAT32 // max(1, max_abs * max_abs))))


def item_moments(spec: InstrumentSpec, responses: np.ndarray, *, validated: bool = False) -> ItemMoments:
    """Accumulate pairwise counts, sums and cross-products in one pass.

    Parameters
    ----------
    spec : InstrumentSpec
        The instrument (gives the valid answer codes).
    responses : ndarray (n, p)
        The engine's encoding: int8 with ``MISSING`` (−128) for a skipped
        item, or float with NaN. Validated with ``scoring.as_codes`` unless
        ``validated`` is true.

    Returns
    -------
    ItemMoments

    Notes
    -----
    Per block, ``Z = [x·a | a]`` (a = answered indicator) and ``ZᵀZ`` holds
    Σx_j x_k, Σ x_j a_k and Σ a_j a_k at once. Without any skipped item the
    cheaper ``[x | 1]`` is used. Response frequencies: with C answer codes,
    C − 3 of them are counted and the other three solved exactly from n, Σx
    and Σx² (a 3 × 3 Vandermonde system; all like/dislike and 1–3 counts come
    free).

    Examples
    --------
    >>> import numpy as np, instruments
    >>> spec = instruments.scoring_spec(instruments.load("vdq"))
    >>> x = np.ones((3, len(spec.items)), dtype=np.int8); x[0, 0] = 4
    >>> round(float(item_moments(spec, x).covariance()[0, 0]), 6)   # var(4, 1, 1)
    3.0
    """
    x = responses if validated else as_codes(spec, responses)
    n, p = x.shape
    values = spec.valid_values
    max_abs = max(abs(v) for v in values)
    step = block_rows(max_abs)
    has_missing = bool((x == MISSING).any()) if n else False
    width = 2 * p if has_missing else p + 1
    gram = np.zeros((width, width), dtype=np.float64)
    counted = values[: max(0, len(values) - 3)]  # the last three counts follow from n, Σx, Σx²
    counts = np.zeros((p, len(counted)), dtype=np.int64)
    z = np.empty((min(step, max(n, 1)), width), dtype=np.float32)
    for start in range(0, n, step):
        block = x[start : start + step]
        rows = len(block)
        zb = z[:rows]
        if has_missing:
            answered = block != MISSING
            np.multiply(block, answered, out=zb[:, :p], casting="unsafe")
            zb[:, p:] = answered
        else:
            zb[:, :p] = block
            zb[:, p] = 1.0
        gram += zb.T @ zb
        for c, v in enumerate(counted):
            counts[:, c] += (block == v).view(np.uint8).sum(axis=0, dtype=np.uint32)
    if has_missing:
        cross, sum_pair, n_pair = gram[:p, :p], gram[:p, p:], gram[p:, p:]
    else:
        cross = gram[:p, :p]
        sum_pair = np.repeat(gram[:p, p][:, None], p, axis=1)
        n_pair = np.full((p, p), float(n))
    counts = _all_counts(values, counts, np.diag(n_pair), np.diag(sum_pair), np.diag(cross))
    return ItemMoments(
        n_pair=np.ascontiguousarray(n_pair),
        sum_pair=np.ascontiguousarray(sum_pair),
        cross=np.ascontiguousarray(cross),
        counts=counts,
        values=tuple(values),
        n_rows=n,
    )


def _all_counts(
    values: tuple[int, ...], counted: np.ndarray, n: np.ndarray, s1: np.ndarray, s2: np.ndarray
) -> np.ndarray:
    """Complete the per-value counts: the last (up to) three from the zeroth, first and second moments."""
    v = np.asarray(values, dtype=np.float64)
    c = len(v)
    m = min(3, c)
    known = counted.astype(np.float64)
    head = v[: c - m]
    rhs = np.stack([n, s1, s2][:m], axis=1) - known @ np.stack([head**0, head, head**2][:m], axis=1)
    tail = v[c - m :]
    vander = np.stack([tail**0, tail, tail**2][:m], axis=0)  # m × m: moments × values
    solved = np.linalg.solve(vander, rhs.T).T
    return np.hstack([counted, np.rint(solved).astype(np.int64)])
