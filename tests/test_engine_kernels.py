"""The engine's fast kernels against plain, independent computations.

The engine-vs-reference tests cover whole administrations of the shipped
instruments; these cover the kernels at the edges those do not reach: runs that
cross the 16-flag chunks, widths past 255 items, and the fallback when a group
of items is too large for the packed sums.
"""

from __future__ import annotations

import numpy as np
import pytest

import instruments
import scoring
from scoring._scales import grouped_sums, keyed_sums, longest_run, score_scales
from scoring._spec import InstrumentSpec, ItemKey, ScaleSpec
from tests.strategies import random_answers

M = int(scoring.MISSING)


def _plain_longest_run(row: list[int]) -> int:
    best = run = 0
    prev = None
    for v in row:
        if v == M:
            run, prev = 0, None
            continue
        run = run + 1 if v == prev else 1
        prev = v
        best = max(best, run)
    return best


@pytest.mark.parametrize("width", [1, 2, 15, 16, 17, 31, 32, 33, 64, 255, 256, 257, 300])
def test_longest_run_equals_a_plain_loop(width):
    rng = np.random.default_rng(width)
    x = rng.integers(0, 2, size=(300, width)).astype(np.int8)
    x[rng.random(x.shape) < rng.random((300, 1)) * 0.3] = M
    x[:4] = 1  # straight lines, and one broken in the middle
    x[4] = M
    x[5, width // 2] = M
    got = longest_run(x)
    expected = [_plain_longest_run(list(r)) for r in x]
    assert got.tolist() == expected
    assert got[0] == width and got[4] == 0


@pytest.mark.parametrize("iid", ["vdq", "sds", "ppi"])
def test_grouped_sums_equal_the_masked_products(iid):
    spec = instruments.scoring_spec(instruments.load(iid))
    assert spec.group_plan is not None
    x = random_answers(spec, 400, seed=3, p_missing=0.3, concentrate=2.0)
    section, scale, per_scale, answered, total = grouped_sums(spec, x)
    mask = x != scoring.MISSING
    section_raw, counts, total_masked = keyed_sums(spec, x, mask)
    n_sc = len(spec.scales)
    assert np.array_equal(section.reshape(section_raw.shape), section_raw)
    assert np.array_equal(scale, section_raw.sum(axis=1))
    assert np.array_equal(per_scale, counts[:, :n_sc])
    assert np.array_equal(answered, mask.sum(axis=1))
    assert np.array_equal(total, np.where(mask, x, 0).sum(axis=1))
    assert np.array_equal(total, total_masked)


def test_a_group_too_large_to_pack_falls_back_to_the_masked_products():
    # 20 items of 0…10 on one scale: 20 · 10 ≥ 128, so the packed sums could collide
    items = tuple(ItemKey(f"i{j}", "main", 0, -1 if j % 5 == 0 else 1) for j in range(20))
    scale = ScaleSpec("s", "scale", "sum", 20, 16, ("low", "high"), (100.0,))
    spec = InstrumentSpec("t", "1", "h", "scales", "ordinal", 0, 10, items, (scale,), ("main",))
    assert spec.group_plan is None
    rng = np.random.default_rng(1)
    x = rng.integers(0, 11, size=(50, 20)).astype(np.int8)
    x[rng.random(x.shape) < 0.1] = M
    block = score_scales(spec, x)
    keyed = np.where(np.arange(20) % 5 == 0, 10 - x, x)  # reversed: min + max − x
    raw = np.where(x != M, keyed, 0).sum(axis=1)
    answered = (x != M).sum(axis=1)
    assert np.array_equal(block.raw[:, 0], raw)
    assert np.array_equal(block.n_answered[:, 0], answered)
    expected = np.where(answered >= 16, raw * 20 / answered, np.nan)
    assert np.array_equal(block.score[:, 0], expected, equal_nan=True)
