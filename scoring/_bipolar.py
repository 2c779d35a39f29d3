"""Paired personality inventory: bipolar dimensions, clarity, type, inconsistency.

An answer is −max…−1 (left pole, rated) or 1…max (right pole). A dimension's
score is the keyed sum (negative = its negative pole). Clarity is
|score| / (max · items), banded like the preference-clarity categories of
type inventories (slight, moderate, clear, very clear). Each pair's two poles
belong to one dimension, so these scores are not ipsative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from ._scales import ScaleBlock, band_index
from ._spec import MISSING, InstrumentSpec


@dataclass(frozen=True)
class BipolarScores:
    scores: np.ndarray
    pole: np.ndarray
    """−1 negative pole, +1 positive pole, 0 no preference (score 0), rows × dimensions."""
    clarity: np.ndarray
    clarity_band: np.ndarray
    """Index into the instrument's clarity bands; −1 not scored."""
    reversals: np.ndarray
    """Repeated pairs answered on the same side as the original (poles were swapped)."""
    inconsistency: np.ndarray
    """Σ |original + repeat| over answered repeated pairs (0 = perfectly consistent)."""
    pairs_checked: np.ndarray
    inconsistent: np.ndarray


def score_bipolar(spec: InstrumentSpec, x: np.ndarray, block: ScaleBlock) -> BipolarScores:
    p = spec.params
    dims = spec.scale_index("dimension")
    scores = block.score if dims == list(range(len(spec.scales))) else block.score[:, dims]
    pole = np.sign(np.nan_to_num(scores)).astype(np.int8)
    n_items = np.array([spec.scales[d].n_items for d in dims], dtype=np.float64)
    n = x.shape[0]
    # the per-dimension divisor as a whole rows × dimensions array (no row-by-row broadcasting)
    clarity = np.abs(scores) / np.broadcast_to(spec.max * n_items, (n, len(dims))).copy()
    bands = cast("list[dict[str, float | str]]", p["clarity_bands"])  # checked by the instrument loader
    below = tuple(float(b["below"]) for b in bands[:-1])
    if list(below) == sorted(below):  # band = how many limits are at or below the value
        cband = np.zeros(clarity.shape, dtype=np.int8)
        for limit in below:
            cband += clarity >= limit
        cband[np.isnan(clarity)] = -1
    else:
        cband = (
            np.stack([band_index(clarity[:, k], below) for k in range(len(dims))], axis=1)
            if dims
            else np.empty((n, 0), np.int8)
        )

    reversals = np.zeros(n, dtype=np.int8)
    distance = np.zeros(n, dtype=np.int16)
    checked = np.zeros(n, dtype=np.int8)
    for orig, rep in spec.repeat_pairs:
        a, b = x[:, orig].astype(np.int16), x[:, rep].astype(np.int16)
        both = (a != MISSING) & (b != MISSING)
        checked += both
        reversals += both & ((a > 0) == (b > 0))  # same sign (answers are never 0)
        s = np.abs(a + b)
        s *= both
        distance += s
    inconsistent = reversals > int(p["inconsistency_max"])  # type: ignore[call-overload]
    return BipolarScores(scores, pole, clarity, cband, reversals, distance, checked, inconsistent)


def type_string(spec: InstrumentSpec, pole: np.ndarray, clarity_band: np.ndarray) -> np.ndarray:
    """Four-letter type per row: a slight preference in lower case, no preference as 'x'.

    >>> # e.g. 'EsTJ': extraversion, a slight sensing preference, thinking, judging
    """
    dims = [spec.scales[d] for d in spec.scale_index("dimension")]
    n = pole.shape[0]
    out = np.full(n, "", dtype=object)
    for k, s in enumerate(dims):
        neg, pos = s.poles or ("-", "+")
        letter = np.where(pole[:, k] < 0, neg, np.where(pole[:, k] > 0, pos, "x")).astype(object)
        slight = clarity_band[:, k] == 0
        letter = np.where(slight & (pole[:, k] != 0), np.char.lower(letter.astype(str)), letter)
        letter = np.where(clarity_band[:, k] < 0, "?", letter)
        out = out + letter.astype(object)
    return out
