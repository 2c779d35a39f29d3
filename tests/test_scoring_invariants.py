"""Properties every scoring must keep, whatever the data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import instruments
import scoring
from tests.strategies import random_answers

IDS = ("vdq", "sds", "ppi")


def spec(iid):
    return instruments.scoring_spec(instruments.load(iid))


def frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True)


@pytest.mark.parametrize("iid", IDS)
@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_permuting_rows_permutes_scores(iid, seed):
    s = spec(iid)
    x = random_answers(s, 60, seed, p_missing=0.1)
    perm = np.random.default_rng(seed).permutation(len(x))
    a = scoring.score(s, x).to_frame().drop(columns="id")
    b = scoring.score(s, x[perm]).to_frame().drop(columns="id")
    frames_equal(a.iloc[perm], b)


@pytest.mark.parametrize("iid", IDS)
def test_one_row_alone_equals_that_row_in_a_batch(iid):
    s = spec(iid)
    x = random_answers(s, 50, 11, p_missing=0.1)
    batch = scoring.score(s, x).to_frame().drop(columns="id")
    for r in (0, 17, 49):
        frames_equal(scoring.score(s, x[r : r + 1]).to_frame().drop(columns="id"), batch.iloc[[r]])


@pytest.mark.parametrize("iid", IDS)
def test_a_result_keeps_its_values_while_the_engine_scores_others(iid):
    # few rows are scored in one block whose results are handed back uncopied, while the block's
    # scratch arrays go back to a pool for the next call: no result may be a view of them
    s = spec(iid)
    seconds = np.array([400.0, 3.0])
    asp = scoring.aspiration_indices(np.array([["SAE", "RIA", ""], ["", "", ""]], dtype=object))
    extra = {"aspirations": asp} if s.model == "holland" else {}
    first = scoring.score(s, random_answers(s, 2, 1, p_missing=0.2), seconds=seconds, **extra)
    kept = first.to_frame()
    for seed in (2, 3, 4):
        scoring.score(s, random_answers(s, 2, seed, p_missing=0.5, concentrate=3.0), seconds=seconds[::-1], **extra)
        scoring.score(s, random_answers(s, 700, seed), block_rows=97)
    frames_equal(first.to_frame(), kept)


@pytest.mark.parametrize("iid", IDS)
def test_blocks_and_threads_do_not_change_results(iid):
    s = spec(iid)
    x = random_answers(s, 500, 5, p_missing=0.1)
    a = scoring.score(s, x, block_rows=7, workers=2).to_frame()
    b = scoring.score(s, x, block_rows=100_000, workers=1).to_frame()
    frames_equal(a, b)


@pytest.mark.parametrize("iid", IDS)
def test_scores_stay_in_the_declared_range(iid):
    s = spec(iid)
    f = scoring.score(s, random_answers(s, 400, 3, p_missing=0.15)).to_frame()
    for sc in s.scales:
        v = f[sc.id].dropna()
        if sc.score == "mean":
            lo, hi = (s.min, s.max) if s.kind != "paired" else (-s.max, s.max)
        else:
            lo, hi = (
                (s.min * sc.n_items, s.max * sc.n_items)
                if s.kind != "paired"
                else (-s.max * sc.n_items, s.max * sc.n_items)
            )
        assert v.between(lo, hi).all(), sc.id


def test_reversed_item_counts_min_plus_max_minus_x():
    vdq = instruments.load("vdq")
    s = instruments.scoring_spec(vdq)
    rev = next(i for i in vdq.items if i.keyed == -1)
    others = [i for i in vdq.items if i.scale == rev.scale and i.id != rev.id]
    x = np.full((4, len(vdq.items)), 2, dtype=np.int8)
    for r, v in enumerate((1, 2, 3, 4)):
        x[r, vdq.item_ids.index(rev.id)] = v
    f = scoring.score(s, x).to_frame()
    n = len(others) + 1
    for r, v in enumerate((1, 2, 3, 4)):
        assert f[rev.scale][r] == pytest.approx((2 * len(others) + (5 - v)) / n)


def test_reversing_twice_is_identity():
    s = spec("vdq")
    x = random_answers(s, 100, 2, p_missing=0.0)
    twice = (s.min + s.max) - ((s.min + s.max) - x.astype(int))
    assert (twice == x).all()
    frames_equal(scoring.score(s, x).to_frame(), scoring.score(s, twice.astype(np.int8)).to_frame())


@pytest.mark.parametrize("iid", IDS)
def test_proration_threshold(iid):
    """A scale is prorated with at most 20 % of its items missing, otherwise not scored."""
    inst = instruments.load(iid)
    s = instruments.scoring_spec(inst)
    sc = s.scales[0]
    cols = [j for j, it in enumerate(inst.items) if it.scale == sc.id]
    allowed = sc.n_items * 20 // 100
    x = random_answers(s, 1, 9, p_missing=0.0).repeat(2, axis=0)
    x[0, cols[:allowed]] = scoring.MISSING
    x[1, cols[: allowed + 1]] = scoring.MISSING
    f = scoring.score(s, x).to_frame()
    assert not math.isnan(f[sc.id][0]) and f[f"{sc.id}_missing"][0] == allowed
    assert math.isnan(f[sc.id][1]) and "scale_not_scored" in f["flags"][1]


def test_a_skipped_item_is_missing_never_dislike():
    sds = instruments.load("sds")
    s = instruments.scoring_spec(sds)
    x = np.ones((3, len(sds.items)), dtype=np.int8)
    j = 0
    x[1, j] = scoring.MISSING
    x[2, j] = 0
    f = scoring.score(s, x).to_frame()
    L = sds.scale(sds.items[j].scale).letter
    assert f[L][0] == 22
    assert f[L][1] == 22  # prorated: 21 likes of 21 answered → 22 of 22
    assert f[L][2] == 21  # a real "dislike"
    assert f["n_missing"][1] == 1 and f["n_missing"][2] == 0


def test_validity_flags():
    sds = spec("sds")
    f = scoring.score(sds, np.ones((1, len(sds.items)), dtype=np.int8)).to_frame()
    assert "all_like" in f["flags"][0] and "long_string" in f["flags"][0]
    vdq = spec("vdq")
    x = random_answers(vdq, 2, 4, p_missing=0.0)
    f = scoring.score(vdq, x, seconds=np.array([len(vdq.items) * 1.0, len(vdq.items) * 10.0])).to_frame()
    assert "too_fast" in f["flags"][0] and "too_fast" not in f["flags"][1]
    none = scoring.score(vdq, np.full((1, len(vdq.items)), scoring.MISSING, np.int8)).to_frame()
    assert "nothing_answered" in none["flags"][0] and none["decision_status"][0] == ""


def test_ppi_inconsistency():
    ppi = instruments.load("ppi")
    s = instruments.scoring_spec(ppi)
    x = np.full((2, len(ppi.items)), 2, dtype=np.int8)
    for j, it in enumerate(ppi.items):
        if it.repeat_of:
            o = ppi.item_ids.index(it.repeat_of)
            x[0, j] = -x[0, o]  # poles swapped → the consistent answer flips sign
            x[1, j] = x[1, o]  # same side again → a reversal
    f = scoring.score(s, x).to_frame()
    assert f["inconsistency_reversals"][0] == 0 and "inconsistent" not in f["flags"][0]
    assert f["inconsistency_reversals"][1] == 4 and f["inconsistency"][1] == 16
    assert "inconsistent" in f["flags"][1]


def test_vdq_status_ranks_and_interventions():
    vdq = instruments.load("vdq")
    s = instruments.scoring_spec(vdq)
    x = np.empty((1, len(vdq.items)), dtype=np.int8)
    for j, it in enumerate(vdq.items):
        want = {"certainty": 4, "practical": 4, "confidence": 3}.get(it.scale, 1)
        x[0, j] = want if it.keyed == 1 else 5 - want
    f = scoring.score(s, x).to_frame().iloc[0]
    assert f["certainty"] == 4 and f["practical"] == 4 and f["confidence"] == 3
    assert f["practical_rank"] == 1 and f["confidence_rank"] == 2 and f["readiness_rank"] == 3
    assert f["salient_barriers"] == "practical;confidence"
    assert f["interventions"].split(";")[: len(vdq.scale("practical").interventions)] == list(
        vdq.scale("practical").interventions
    )
    assert f["total_indecision"] == pytest.approx((4 + 3 + 8 * 1) / 10)
    assert f["decision_status"] == "decided"  # certainty 4 ≥ 2.5, indecision 1.5 < 2.25


def test_every_output_names_its_versions():
    for iid in IDS:
        s = spec(iid)
        f = scoring.score(s, random_answers(s, 2, 1)).to_frame()
        assert (f["instrument"] == iid).all()
        assert (f["instrument_version"] == s.version).all()
        assert (f["engine_version"] == scoring.ENGINE_VERSION).all()
        assert (f["instrument_hash"] == s.content_hash[:12]).all()


def test_engine_rejects_wrong_shapes_and_values():
    s = spec("vdq")
    with pytest.raises(scoring.ScoringError, match="56 items"):
        scoring.score(s, np.ones((2, 3), dtype=np.int8))
    with pytest.raises(scoring.ResponseValidationError, match="VDQ02"):
        scoring.score(s, np.array([[1, 7] + [1] * 54], dtype=np.int8))
    bad = np.ones((1, 56))
    bad[0, 3] = 2.5
    with pytest.raises(scoring.ResponseValidationError, match="whole number"):
        scoring.score(s, bad)
    f = scoring.score(s, np.where(np.eye(1, 56, 2) == 1, np.nan, 2.0)).to_frame()
    assert f["n_missing"][0] == 1
