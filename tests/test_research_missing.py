"""Missing answers in the item analysis and in scale scores (issue 15, item 1).

Expected values come from slow, literal reimplementations written here (loops over
rows, numpy's corrcoef/cov on explicitly selected rows), following psych's
documented formulas where psych is the reference: ``alpha()`` (raw.r against the
row means of the answered items; ase and Feldt's interval with the rows used)
and ``scoreItems(impute = "median" | "mean")``. No R is installed here, so
these slow versions stand in for new R output; the R output stored in
``tests/reference_r`` is checked in ``test_research_reliability.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import scoring
from scoring import MISSING, InstrumentSpec, ItemKey, MissingPolicy, ScaleSpec
from scoring import research as rs


def two_scale_spec(score: str = "sum", min_answered: int = 3) -> InstrumentSpec:
    """Scales A (a1–a4, a3 reversed) and B (b1–b4), answers 1–5."""
    items = tuple(ItemKey(f"a{j}", "s", 0, -1 if j == 3 else 1) for j in range(1, 5)) + tuple(
        ItemKey(f"b{j}", "s", 1, 1) for j in range(1, 5)
    )
    scales = tuple(ScaleSpec(sid, "scale", score, 4, min_answered, (), ()) for sid in ("A", "B"))  # type: ignore[arg-type]
    return InstrumentSpec("two", "1", "h", "generic", "ordinal", 1, 5, items, scales, ("s",))


def gappy(n: int = 300, p_missing: float = 0.12, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.normal(size=(n, 2)) @ np.array([[1.0, 0.4], [0.0, 0.9]])
    load = np.repeat(t, 4, axis=1) + rng.normal(scale=0.9, size=(n, 8))
    x = np.clip(np.round(3 + load), 1, 5)
    x[:, 2] = 6 - x[:, 2]  # a3 is worded the other way
    x[rng.random(x.shape) < p_missing] = np.nan
    x[:7, :4] = np.nan  # seven rows answered nothing of scale A
    return x


def keyed(x: np.ndarray) -> np.ndarray:
    k = x.copy()
    k[:, 2] = 6 - k[:, 2]
    return k


# -- slow references -------------------------------------------------------------------------------


def slow_alpha(block: np.ndarray) -> float:
    c = np.cov(block.T)
    k = block.shape[1]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


def slow_prorated_scores(x: np.ndarray, cols: list[int], minimum: int, mean: bool) -> list[float]:
    out = []
    for row in keyed(x):
        vals = [row[j] for j in cols if not math.isnan(row[j])]
        if len(vals) < minimum:
            out.append(math.nan)
        else:
            avg = sum(vals) / len(vals)
            out.append(avg if mean else avg * len(cols))
    return out


def slow_psych_raw_r(x: np.ndarray, cols: list[int]) -> list[float]:
    """psych alpha(): cor(rowMeans(x, na.rm = TRUE), x, use = "pairwise")."""
    k = keyed(x)[:, cols]
    totals = np.array([np.nan if np.isnan(r).all() else np.nanmean(r) for r in k])
    out = []
    for j in range(len(cols)):
        both = ~np.isnan(k[:, j]) & ~np.isnan(totals)
        out.append(float(np.corrcoef(k[both, j], totals[both])[0, 1]))
    return out


# -- pairwise (default) ----------------------------------------------------------------------------


def test_pairwise_with_gaps_rows_used_raw_r_and_actual_score_moments():
    spec, x = two_scale_spec(), gappy()
    res = rs.item_analysis(spec, x)
    assert res.missing == "pairwise" and res.scores.startswith("prorate")
    a = res.scales[0]
    answered_a = int((~np.isnan(x[:, :4])).any(axis=1).sum())
    assert a.n == answered_a == 293  # not the smallest pairwise n, not all 300 rows
    lo, hi = rs.feldt_interval(a.alpha, 293, 4, 0.95)
    assert (a.alpha_ci[0], a.alpha_ci[1]) == (lo, hi)
    assert math.isclose(a.ase, rs.alpha_ase(res.covariance[:4, :4], 293), rel_tol=1e-12)
    # raw.r as psych computes it
    assert np.allclose(res.items.raw_r[:4], slow_psych_raw_r(x, [0, 1, 2, 3]), atol=1e-12)
    assert np.allclose(res.items.raw_r[4:], slow_psych_raw_r(x, [4, 5, 6, 7]), atol=1e-12)
    # the scale mean and SD are those of the actual (prorated, ≥ 3 answered) scale scores
    for k, cols in ((0, [0, 1, 2, 3]), (1, [4, 5, 6, 7])):
        scores = np.array(slow_prorated_scores(x, cols, 3, mean=False))
        got = scores[~np.isnan(scores)]
        s = res.scales[k]
        assert s.n_scores == len(got)
        assert math.isclose(s.mean, got.mean(), rel_tol=1e-12) and math.isclose(s.sd, got.std(ddof=1), rel_tol=1e-12)
        assert math.isclose(s.sem, s.sd * math.sqrt(1 - s.alpha), rel_tol=1e-12)
    # the same policy object as the engine: a different minimum changes the scores behind mean and SD
    loose = rs.item_analysis(spec, x, scores=MissingPolicy(min_answered=1)).scales[0]
    scores = np.array(slow_prorated_scores(x, [0, 1, 2, 3], 1, mean=False))
    assert loose.n_scores == int(np.isfinite(scores).sum()) == 293
    assert math.isclose(loose.mean, float(np.nanmean(scores)), rel_tol=1e-12)
    assert loose.alpha == a.alpha  # the coefficients do not depend on how scores are made


def test_listwise_within_scale_by_hand():
    spec, x = two_scale_spec(), gappy()
    res = rs.item_analysis(spec, x, missing="listwise_scale")
    assert res.missing == "listwise_scale"
    k = keyed(x)
    full = {}
    for s, cols in ((0, [0, 1, 2, 3]), (1, [4, 5, 6, 7])):
        rows = ~np.isnan(x[:, cols]).any(axis=1)
        full[s] = rows
        block = k[rows][:, cols]
        got = res.scales[s]
        assert got.n == got.n_scores == int(rows.sum())
        assert math.isclose(got.alpha, slow_alpha(block), rel_tol=1e-12)
        total = block.sum(axis=1)
        assert math.isclose(got.mean, total.mean(), rel_tol=1e-12)
        assert math.isclose(got.sd, total.std(ddof=1), rel_tol=1e-12)
        for j, c in enumerate(cols):  # item statistics come from the same complete rows
            assert math.isclose(res.items.mean[c], block[:, j].mean(), rel_tol=1e-12)
            assert res.items.n[c] == int(rows.sum())
            assert math.isclose(res.items.missing_rate[c], float(np.isnan(x[:, c]).mean()), rel_tol=1e-12)
            rest = np.delete(block, j, axis=1).sum(axis=1)
            assert math.isclose(res.items.r_drop[c], np.corrcoef(block[:, j], rest)[0, 1], rel_tol=1e-10)
            assert math.isclose(res.items.raw_r[c], np.corrcoef(block[:, j], total)[0, 1], rel_tol=1e-10)
    both = full[0] & full[1]
    sums = [k[both][:, c].sum(axis=1) for c in ([0, 1, 2, 3], [4, 5, 6, 7])]
    assert math.isclose(res.intercorrelations[0, 1], np.corrcoef(*sums)[0, 1], rel_tol=1e-12)


def test_listwise_over_the_instrument_by_hand():
    spec, x = two_scale_spec(), gappy()
    res = rs.item_analysis(spec, x, missing="listwise")
    rows = ~np.isnan(x).any(axis=1)
    block = keyed(x)[rows]
    assert res.n_rows == int(rows.sum()) and res.scales[0].n == int(rows.sum())
    assert math.isclose(res.scales[1].alpha, slow_alpha(block[:, 4:]), rel_tol=1e-12)
    assert math.isclose(res.scales[1].mean, block[:, 4:].sum(axis=1).mean(), rel_tol=1e-12)


# -- undefined statistics: NaN with a note naming the scale and statistic, never a crash -------------------


def test_items_that_do_not_correlate_give_nan_and_a_named_warning():
    """Before: ``ValueError: math domain error`` in r_cor (square root of a negative sum)."""
    rng = np.random.default_rng(3)
    z = rng.normal(size=(400, 1))
    # three items pulling against each other: pairwise r ≈ −.45, the scale has no common factor
    raw = np.hstack([z, -0.5 * z + rng.normal(scale=0.9, size=(400, 1)), rng.normal(size=(400, 1))])
    raw[:, 2] = -0.5 * raw[:, 0] - 0.5 * raw[:, 1] + 0.4 * raw[:, 2]
    x = np.clip(np.round(3 + raw), 1, 5)
    items = tuple(ItemKey(f"u{j}", "s", 0, 1) for j in range(1, 4))
    spec = InstrumentSpec(
        "bad", "1", "h", "generic", "ordinal", 1, 5, items, (ScaleSpec("U", "scale", "sum", 3, 3, (), ()),), ("s",)
    )
    c = np.cov(x.T)
    r = np.corrcoef(x.T)
    smc = 1 - 1 / np.diag(np.linalg.inv(r))
    rs_diag = r.copy()
    np.fill_diagonal(rs_diag, smc)
    assert rs_diag.sum() < 0 < c.sum() or c.sum() <= 0  # the data really are that bad
    with pytest.warns(rs.ItemAnalysisWarning, match=r"scale U: its items do not correlate positively"):
        res = rs.item_analysis(spec, x, warn=True)
    assert rs.item_analysis(spec, x).notes == res.notes  # the same notes without Python warnings
    assert np.isnan(res.items.r_cor).all()
    assert res.notes and "r.cor" in res.notes[-1]
    if c.sum() > 0:
        assert math.isclose(res.scales[0].alpha, slow_alpha(x), rel_tol=1e-12)  # still reported: negative
        assert res.scales[0].alpha < 0


def slow_g6(block: np.ndarray) -> float:
    """Guttman's λ6 literally: each item's R² from a least-squares regression on the other items."""
    r = np.corrcoef(block.T)
    k = block.shape[1]
    r2 = []
    for j in range(k):
        others = np.column_stack([np.ones(len(block)), np.delete(block, j, axis=1)])
        beta, *_ = np.linalg.lstsq(others, block[:, j], rcond=None)
        resid = block[:, j] - others @ beta
        r2.append(1 - resid.var() / block[:, j].var())
    return float(1 - (k - sum(r2)) / r.sum())


def test_a_pilot_with_fewer_rows_than_items_gives_nan_lambda6_not_noise():
    """Before: R⁻¹ of a singular correlation matrix (4 people, 4 items) gave 'divide by zero' warnings
    (errors under warnings-as-errors) or λ6 from numerical noise; now λ6 and r.cor are NaN, named."""
    spec = two_scale_spec()
    x = gappy(4, 0.0)[:, :8]
    x[:4, :4] = [[1, 2, 4, 2], [3, 3, 3, 4], [4, 5, 1, 5], [2, 2, 5, 1]]  # scale A: 4 rows, 4 items
    res = rs.item_analysis(spec, x)  # pytest turns any RuntimeWarning into an error
    a = res.scales[0]
    assert math.isclose(a.alpha, slow_alpha(keyed(x)[:, :4]), rel_tol=1e-12)  # α is still defined
    assert math.isnan(a.lambda6) and np.isnan(res.items.r_cor[:4]).all()
    assert any("scale A" in n and "singular: only 4 rows for 4 items" in n for n in res.notes)


def test_a_duplicated_item_leaves_lambda6_if_deleted_for_the_duplicate():
    spec = two_scale_spec()
    x = gappy(300, 0.0)
    x[:, 3] = x[:, 0]  # a4 repeats a1 word for word
    res = rs.item_analysis(spec, x)
    k = keyed(x)[7:]  # the first seven rows answered nothing of scale A (gappy); every other row all of it
    assert math.isnan(res.scales[0].lambda6)
    assert any("linear combination" in n for n in res.notes)
    g6 = res.items.g6_if_deleted
    # dropping either copy leaves an ordinary three-item scale; dropping a2 or a3 leaves both copies
    assert math.isclose(g6[3], slow_g6(k[:, [0, 1, 2]]), rel_tol=1e-10)
    assert math.isclose(g6[0], slow_g6(k[:, [1, 2, 3]]), rel_tol=1e-10)
    assert np.isnan(g6[1]) and np.isnan(g6[2])
    assert math.isclose(res.scales[1].lambda6, slow_g6(keyed(x)[:, 4:]), rel_tol=1e-10)  # scale B untouched


def test_constant_items_give_nan_and_a_named_warning():
    spec = two_scale_spec()
    x = gappy(100, 0.0)
    x[:, 4:] = 3  # nobody varies on scale B
    res = rs.item_analysis(spec, x)
    text = " ".join(res.notes)
    assert "b1, b2, b3, b4 do not vary" in text and "scale B: fewer than two of its items vary" in text
    b = res.scales[1]
    assert np.isnan(b.alpha) and np.isnan(b.omega_total) and b.dropped == ("b1", "b2", "b3", "b4")
    assert b.mean == 12 and b.sd == 0  # the scores themselves are fine: everybody scored 4 × 3
    assert np.isfinite(res.scales[0].alpha) and np.isnan(res.items.r_drop[4:]).all()


# -- imputation in scale scores (psych scoreItems impute =) -------------------------------------------


def slow_impute(x: np.ndarray, cols: list[int], how: str, minimum: int, mean: bool) -> list[float]:
    """psych scoreItems: replace a missing answer by the item's median (mean) over all rows, then
    reverse and add up; ours still needs ``minimum`` answered items."""
    fill = {}
    for j in cols:
        col = [v for v in x[:, j] if not math.isnan(v)]
        fill[j] = float(np.median(col)) if how == "median" else sum(col) / len(col)
    out = []
    for row in x:
        answered = sum(1 for j in cols if not math.isnan(row[j]))
        if answered < minimum:
            out.append(math.nan)
            continue
        total = 0.0
        for j in cols:
            v = fill[j] if math.isnan(row[j]) else row[j]
            total += (6 - v) if j == 2 else v
        out.append(total / len(cols) if mean else total)
    return out


@pytest.mark.parametrize("how", ["median", "mean"])
@pytest.mark.parametrize("score", ["sum", "mean"])
def test_imputed_scale_scores_follow_psych_score_items(how, score):
    spec, x = two_scale_spec(score), gappy(200, 0.2, seed=4)
    result = scoring.score(spec, x, missing=MissingPolicy(how, min_answered=2))  # type: ignore[arg-type]
    frame = result.to_frame()
    for k, cols in ((0, [0, 1, 2, 3]), (1, [4, 5, 6, 7])):
        expected = slow_impute(x, cols, how, 2, score == "mean")
        assert np.allclose(result.scales.score[:, k], expected, rtol=1e-12, equal_nan=True)
    assert frame["missing_policy"].iloc[0].startswith(f"impute {how}")
    gaps = np.isnan(x).any(axis=1) & np.isfinite(result.scales.score).all(axis=1)
    assert all("imputed" in f for f in frame["flags"][gaps]) and not any("prorated" in f for f in frame["flags"])
    # the values are fitted once over all rows, so scoring in blocks changes nothing
    again = scoring.score(spec, x, missing=MissingPolicy(how, min_answered=2), block_rows=17)  # type: ignore[arg-type]
    assert np.array_equal(again.scales.score, result.scales.score, equal_nan=True)


def test_prorating_with_a_chosen_minimum():
    spec, x = two_scale_spec("mean", 4), gappy(200, 0.2, seed=5)
    default = scoring.score(spec, x).scales.score
    loose = scoring.score(spec, x, missing=MissingPolicy(min_answered=1))
    for k, cols in ((0, [0, 1, 2, 3]), (1, [4, 5, 6, 7])):
        assert np.allclose(default[:, k], slow_prorated_scores(x, cols, 4, True), equal_nan=True)
        assert np.allclose(loose.scales.score[:, k], slow_prorated_scores(x, cols, 1, True), equal_nan=True)
    assert "missing_policy" not in scoring.score(spec, x).to_frame()  # the definition's own rule
    assert "at least 1 of its items" in loose.to_frame()["missing_policy"].iloc[0]


def test_policy_validation():
    with pytest.raises(scoring.ScoringError):
        MissingPolicy("hot-deck")  # type: ignore[arg-type]
    with pytest.raises(scoring.ScoringError):
        MissingPolicy(min_answered=0)
    spec = two_scale_spec()
    x = gappy(20, 0.0)
    x[:, 0] = np.nan
    with pytest.raises(scoring.ScoringError, match="nobody answered item a1"):
        scoring.score(spec, x, missing=MissingPolicy("median"))
    with pytest.raises(ValueError, match="missing must be one of"):
        rs.item_analysis(spec, gappy(), missing="mean")  # type: ignore[arg-type]
    assert np.int8(-128) == MISSING
