"""Shared data generators for the property tests."""

from __future__ import annotations

import numpy as np

from scoring import MISSING, InstrumentSpec


def random_answers(
    spec: InstrumentSpec, n: int, seed: int, p_missing: float = 0.05, concentrate: float = 0.0
) -> np.ndarray:
    """n × items int8 answers; ``concentrate`` > 0 favours few values (more ties, long strings)."""
    rng = np.random.default_rng(seed)
    values = np.array(spec.valid_values, dtype=np.int8)
    weights = rng.dirichlet(np.full(len(values), 1.0 / (concentrate + 1e-9) if concentrate else 5.0), size=n)
    cum = weights.cumsum(axis=1)
    u = rng.random((n, len(spec.items)))
    idx = (u[:, :, None] > cum[:, None, :]).sum(axis=2)
    x = values[np.minimum(idx, len(values) - 1)]
    miss_rate = rng.random(n) * p_missing * 2
    x[rng.random(x.shape) < miss_rate[:, None]] = MISSING
    return x


def to_answer_lists(x: np.ndarray) -> list[list[int | None]]:
    return [[None if v == MISSING else int(v) for v in row] for row in x]
