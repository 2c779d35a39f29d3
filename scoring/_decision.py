"""Vocational decision questionnaire: certainty, barriers, indecision, status.

Decision status crosses certainty with total indecision (the mean of the
barrier means), the two-way split used in career-indecision work
(e.g. Osipow's Career Decision Scale: certainty vs indecision):

================  =================  ==================
                  indecision low     indecision high
================  =================  ==================
certainty high    decided            decided_but_blocked
certainty low     exploring          undecided
================  =================  ==================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._scales import ScaleBlock
from ._spec import InstrumentSpec

STATUSES = ("decided", "decided_but_blocked", "exploring", "undecided")
LEVELS = ("none", "moderate", "salient")
SALIENT = 2


@dataclass(frozen=True)
class DecisionScores:
    certainty: np.ndarray
    barriers: np.ndarray
    """Barrier means (rows × barriers), NaN where not scored."""
    level: np.ndarray
    """0 none, 1 moderate, 2 salient, −1 not scored."""
    rank: np.ndarray
    """1 = strongest barrier; tied barriers share a rank; 0 = not scored."""
    total_indecision: np.ndarray
    status: np.ndarray
    """Index into ``STATUSES``; −1 where certainty or indecision is missing."""


def score_decision(spec: InstrumentSpec, block: ScaleBlock) -> DecisionScores:
    p = spec.params
    (c,) = spec.scale_index("certainty")
    b = spec.scale_index("barrier")
    certainty = block.score[:, c]
    bt = np.ascontiguousarray(block.score.T[b])  # barriers × rows, each barrier contiguous
    missing = np.isnan(bt)
    # rank = 1 + number of barriers strictly stronger; NaN compares False, so
    # unscored barriers neither get a rank nor push others down.
    # [k, j] compares barrier j with barrier k, all pairs in one operation
    rank = np.add.reduce(bt[None, :, :] > bt[:, None, :], axis=1, dtype=np.int8)
    rank += np.int8(1)
    rank[missing] = 0
    n_scored = np.add.reduce(~missing, axis=0, dtype=np.int64)
    # Summed barrier by barrier in scale order so the result is reproducible
    # to the last bit (numpy's pairwise nansum is not).
    filled = np.nan_to_num(bt, nan=0.0)
    acc = np.zeros(bt.shape[1])
    for k in range(len(b)):
        acc += filled[k]
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = acc / n_scored
    total = np.where(n_scored >= int(p["min_barriers_scored"]), mean, np.nan)  # type: ignore[call-overload]
    high_c = certainty >= float(p["certainty_cut"])  # type: ignore[arg-type]
    high_i = total >= float(p["indecision_cut"])  # type: ignore[arg-type]
    status = np.where(high_c, np.where(high_i, 1, 0), np.where(high_i, 3, 2))
    status = np.where(np.isnan(certainty) | np.isnan(total), -1, status).astype(np.int8)
    return DecisionScores(certainty, bt.T, block.band[:, b], rank.T, total, status)
