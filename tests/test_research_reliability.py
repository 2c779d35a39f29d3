"""Item and scale analysis: hand-computed cases, R psych reference values, parameter recovery."""

from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

import instruments
from scoring import MISSING, InstrumentSpec, ItemKey, MissingPolicy, ScaleSpec
from scoring import research as rs

REF = Path(__file__).parent / "reference_r"


def five_item_spec() -> InstrumentSpec:
    """The layout of tests/reference_r/items_*.csv: five 1–4 items, i3 reverse keyed."""
    items = tuple(ItemKey(f"i{j}", "main", 0, -1 if j == 3 else 1) for j in range(1, 6))
    scale = ScaleSpec("s", "scale", "sum", 5, 4, ("all",), ())
    return InstrumentSpec("ref", "1", "h", "generic", "ordinal", 1, 4, items, (scale,), ("main",))


# -- hand-computed ----------------------------------------------------------------------------------

HAND = np.array([[1, 2, 1], [2, 2, 3], [3, 4, 3], [4, 4, 4], [2, 3, 1]], dtype=float)


def test_alpha_by_hand():
    # item variances (n − 1): 1.3, 1.0, 1.8; total scores 4, 7, 10, 12, 6 → variance 10.2
    c = np.cov(HAND.T)
    assert np.allclose(np.diag(c), [1.3, 1.0, 1.8])
    assert math.isclose(c.sum(), 10.2)
    expected = 3 / 2 * (1 - (1.3 + 1.0 + 1.8) / 10.2)  # = 0.897058823529…
    assert math.isclose(rs.cronbach_alpha(c), expected, rel_tol=1e-12)
    assert math.isclose(expected, 0.8970588235294118, rel_tol=1e-12)


def test_item_analysis_by_hand():
    items = tuple(ItemKey(f"h{j}", "main", 0, 1) for j in range(3))
    spec = InstrumentSpec(
        "hand",
        "1",
        "h",
        "generic",
        "ordinal",
        1,
        4,
        items,
        (ScaleSpec("s", "scale", "sum", 3, 3, ("all",), ()),),
        ("main",),
    )
    res = rs.item_analysis(spec, HAND)
    s = res.scales[0]
    assert math.isclose(s.alpha, 0.8970588235294118, rel_tol=1e-12)
    # r.drop of item 1: corr(h0, h1 + h2) computed the slow way
    for j in range(3):
        rest = np.delete(HAND, j, axis=1).sum(axis=1)
        assert math.isclose(res.items.r_drop[j], np.corrcoef(HAND[:, j], rest)[0, 1], rel_tol=1e-12)
        c = np.cov(np.delete(HAND, j, axis=1).T)
        assert math.isclose(res.items.alpha_if_deleted[j], 2 * (1 - np.trace(c) / c.sum()), rel_tol=1e-12)
    assert np.allclose(res.items.mean, HAND.mean(axis=0))
    assert np.allclose(res.items.sd, HAND.std(axis=0, ddof=1))
    # frequencies of raw answers 1..4 of item h0: 1, 2, 3, 4, 2
    assert np.allclose(res.items.frequencies[0], [0.2, 0.4, 0.2, 0.2])
    assert math.isclose(s.sd, HAND.sum(axis=1).std(ddof=1))
    assert math.isclose(s.sem, s.sd * math.sqrt(1 - s.alpha))


def test_standardized_alpha_is_mean_r_formula():
    r = np.corrcoef(HAND.T)
    k = 3
    rbar = r[np.triu_indices(k, 1)].mean()
    assert math.isclose(rs.cronbach_alpha(r), k * rbar / (1 + (k - 1) * rbar), rel_tol=1e-12)


def test_lambda6_against_regression_residuals():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 5)) + rng.normal(size=(300, 1))
    r = np.corrcoef(x.T)
    # 1 − smc_j = residual variance of standardized item j regressed on the others (slow, independent)
    z = (x - x.mean(0)) / x.std(0, ddof=1)
    resid = []
    for j in range(5):
        others = np.delete(z, j, axis=1)
        beta, *_ = np.linalg.lstsq(np.column_stack([np.ones(300), others]), z[:, j], rcond=None)
        e = z[:, j] - np.column_stack([np.ones(300), others]) @ beta
        resid.append(e.var(ddof=1))  # SSE/(n − 1) = 1 − R² for a standardized item
    smc = 1 - np.array(resid) / 1.0
    # residual variance from OLS with n−1 denominators equals 1 − R² exactly
    assert np.allclose(rs.smc(r), smc, atol=1e-10)
    assert math.isclose(rs.guttman_lambda6(r), 1 - (5 - smc.sum()) / r.sum(), rel_tol=1e-10)


def test_omega_against_direct_least_squares():
    rng = np.random.default_rng(2)
    lam = np.array([0.8, 0.7, 0.6, 0.5, 0.75, 0.4])
    x = rng.normal(size=(2000, 1)) * lam + rng.normal(size=(2000, 6)) * np.sqrt(1 - lam**2)
    r = np.corrcoef(x.T)
    iu = np.triu_indices(6, 1)

    def off_diagonal_ss(lam_: np.ndarray) -> float:  # independent: minimize residuals over λ directly
        return float(((r - np.outer(lam_, lam_))[iu] ** 2).sum())

    best = optimize.minimize(
        off_diagonal_ss,
        np.full(6, 0.5),
        method="Nelder-Mead",
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 40_000, "maxfev": 40_000},
    )
    l_hat = best.x * np.sign(best.x.sum())
    expected = 1 - (1 - l_hat**2).sum() / r.sum()
    assert math.isclose(rs.omega_total(r), expected, abs_tol=1e-6)
    loadings, _, ok = rs.minres(r, 1)
    assert ok and np.allclose(loadings[:, 0], l_hat, atol=1e-5)


def test_split_halves_by_enumeration():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 6)) + rng.normal(size=(200, 1))
    c = np.cov(x.T)
    values = []
    for a in combinations(range(6), 3):
        if 0 not in a:
            continue
        b = [j for j in range(6) if j not in a]
        values.append(4 * c[np.ix_(a, b)].sum() / c.sum())
    res = rs.split_halves(c)
    assert res["n_splits"] == 10
    assert math.isclose(res["lambda4_max"], max(values)) and math.isclose(res["beta"], min(values))
    odd, even = x[:, ::2].sum(1), x[:, 1::2].sum(1)
    r = np.corrcoef(odd, even)[0, 1]
    assert math.isclose(res["odd_even_sb"], 2 * r / (1 + r), rel_tol=1e-10)


def test_feldt_interval_is_the_f_formula_and_contains_alpha():
    lo, hi = rs.feldt_interval(0.8, 100, 10, 0.95)
    f_hi = stats.f.ppf(0.975, 99, 99 * 9)
    assert math.isclose(lo, 1 - 0.2 * f_hi, rel_tol=1e-12)
    assert lo < 0.8 < hi


# -- R psych reference values (tests/reference_r/psych_reference.R) ---------------------------------


@pytest.mark.parametrize("name", ["complete", "missing"])
def test_matches_psych_alpha(name):
    x = pd.read_csv(REF / f"items_{name}.csv").to_numpy(float)
    res = rs.item_analysis(five_item_spec(), x)
    s = res.scales[0]
    total = pd.read_csv(REF / f"psych_{name}_total.csv").iloc[0]
    for ours, theirs in (
        (s.alpha, "raw_alpha"),
        (s.alpha_std, "std.alpha"),
        (s.lambda6, "G6.smc."),
        (s.average_r, "average_r"),
        (s.signal_noise, "S.N"),
    ):
        assert math.isclose(ours, total[theirs], abs_tol=1e-10), theirs
    items = pd.read_csv(REF / f"psych_{name}_items.csv")
    frame = res.items.to_frame()
    pairs = [("std_r", "std.r"), ("r_cor", "r.cor"), ("r_drop", "r.drop"), ("mean", "mean"), ("sd", "sd")]
    # raw.r: psych correlates each item with the row's mean of the answered items (the prorated total);
    # before, ours used the pairwise covariance and matched psych only without skipped answers
    pairs.append(("raw_r", "raw.r"))
    for ours, theirs in pairs:
        assert np.allclose(frame[ours], items[theirs], atol=1e-10), theirs
    drop = pd.read_csv(REF / f"psych_{name}_drop.csv")
    for ours, theirs in (
        ("alpha_if_deleted", "raw_alpha"),
        ("std_alpha_if_deleted", "std.alpha"),
        ("g6_if_deleted", "G6(smc)"),
        ("average_r_if_deleted", "average_r"),
    ):
        assert np.allclose(frame[ours], drop[theirs], atol=1e-10), theirs
    # ase and Feldt's interval use the rows the scale rests on (here all 40 rows answered some item),
    # as psych does; before, the smallest pairwise n (34 in the gappy file) was used
    keyed = res.covariance
    assert s.n == int(total["n_obs"]) == 40
    assert math.isclose(s.ase, total["ase"], abs_tol=1e-10)
    assert math.isclose(s.alpha_ci[0], total["feldt_lo"], abs_tol=1e-10)
    assert math.isclose(s.alpha_ci[1], total["feldt_hi"], abs_tol=1e-10)
    # psych's scale mean and SD are those of the row means over answered items: our actual scale scores
    # (a sum scale, so 5 × psych's) when every row with an answer is scored (min_answered = 1)
    scored = rs.item_analysis(five_item_spec(), x, scores=MissingPolicy(min_answered=1)).scales[0]
    assert math.isclose(scored.mean, 5 * total["mean"], abs_tol=1e-10)
    assert math.isclose(scored.sd, 5 * total["sd"], abs_tol=1e-10) and scored.n_scores == 40
    extra = pd.read_csv(REF / f"psych_{name}_extra.csv").iloc[0]
    assert math.isclose(s.omega_total, extra["omega_tot"], abs_tol=1e-6)  # psych's optimizer tolerance
    r = rs.cov2cor(keyed)
    sh_r, sh_c = rs.split_halves(r[:4, :4]), rs.split_halves(keyed[:4, :4])
    for ours, theirs in (
        (sh_r["lambda4_max"], "split_max_r"),
        (sh_r["beta"], "split_min_r"),
        (sh_r["mean"], "split_mean_r"),
        (sh_c["lambda4_max"], "split_max_c"),
        (sh_c["beta"], "split_min_c"),
        (sh_c["mean"], "split_mean_c"),
    ):
        assert math.isclose(ours, extra[theirs], abs_tol=1e-10), theirs
    fa1 = pd.read_csv(REF / f"psych_{name}_fa1.csv")
    assert np.allclose(rs.minres(r, 1)[0][:, 0], fa1["loading"], atol=1e-5)


def test_feldt_example_matches_psych():
    ref = pd.read_csv(REF / "psych_feldt_example.csv").iloc[0]
    lo, hi = rs.feldt_interval(0.79, 41, 26, 0.90)
    assert math.isclose(lo, ref["lower"], abs_tol=1e-12) and math.isclose(hi, ref["upper"], abs_tol=1e-12)


# -- properties --------------------------------------------------------------------------------------


def test_reversal_comes_from_the_definition_not_the_data():
    spec = five_item_spec()
    x = pd.read_csv(REF / "items_complete.csv").to_numpy(float)
    flipped = x.copy()
    flipped[:, 2] = 5 - flipped[:, 2]
    unkeyed = InstrumentSpec(
        "ref",
        "1",
        "h",
        "generic",
        "ordinal",
        1,
        4,
        tuple(ItemKey(f"i{j}", "main", 0, 1) for j in range(1, 6)),
        spec.scales,
        ("main",),
    )
    a = rs.item_analysis(spec, x)
    b = rs.item_analysis(unkeyed, flipped)
    assert math.isclose(a.scales[0].alpha, b.scales[0].alpha, rel_tol=1e-12)
    assert np.allclose(a.items.mean, b.items.mean)


def test_pairwise_and_listwise_differ_only_with_gaps():
    spec = rs.planning_spec("ordinal", 2, 6)
    sim = rs.simulate(spec, 3000, seed=4)
    full = rs.item_analysis(spec, sim.responses)
    listwise = rs.item_analysis(spec, sim.responses, missing="listwise")
    assert math.isclose(full.scales[0].alpha, listwise.scales[0].alpha, rel_tol=1e-12)
    gappy = rs.simulate(spec, 3000, seed=4, missing=0.1).responses
    a, b = rs.item_analysis(spec, gappy), rs.item_analysis(spec, gappy, missing="listwise")
    assert b.n_rows < 3000 and a.scales[0].n > b.scales[0].n
    assert not math.isclose(a.scales[0].alpha, b.scales[0].alpha, rel_tol=1e-9)


def test_moments_equal_pandas_pairwise_covariance():
    spec = rs.planning_spec("paired", 2, 5, reversed_every=2)
    x = rs.simulate(spec, 2000, seed=5, missing=0.15).responses
    frame = pd.DataFrame(np.where(x == MISSING, np.nan, x).astype(float))
    mom = rs.item_moments(spec, x)
    assert np.allclose(mom.covariance(), frame.cov().to_numpy(), atol=1e-12)
    assert np.array_equal(mom.counts, np.stack([(x == v).sum(0) for v in spec.valid_values], 1))


def test_intercorrelations_are_those_of_the_sum_scores():
    spec = rs.planning_spec("ordinal", 3, 4, reversed_every=2)
    x = rs.simulate(spec, 1000, seed=6).responses
    res = rs.item_analysis(spec, x)
    keyed = np.where(np.array([it.keyed for it in spec.items]) < 0, 5 - x, x).astype(float)
    sums = np.stack([keyed[:, [j for j, it in enumerate(spec.items) if it.scale == k]].sum(1) for k in range(3)], 1)
    assert np.allclose(res.intercorrelations, np.corrcoef(sums.T), atol=1e-12)
    alphas = np.array([s.alpha for s in res.scales])
    assert math.isclose(res.disattenuated[0, 1], res.intercorrelations[0, 1] / math.sqrt(alphas[0] * alphas[1]))


def test_zero_variance_item_is_dropped_and_named():
    spec = rs.planning_spec("ordinal", 1, 4)
    x = rs.simulate(spec, 500, seed=7).responses
    x[:, 2] = 3
    res = rs.item_analysis(spec, x)
    assert len(res.notes) == 1 and "S1_03 do not vary" in res.notes[0]
    assert res.scales[0].dropped == ("S1_03",)
    assert np.isnan(res.items.r_drop[2]) and np.isfinite(res.scales[0].alpha)


def test_ipsative_instruments_are_refused():
    items = (
        ItemKey("F1", "main", None, 1, left_scale=0, right_scale=1),
        ItemKey("F2", "main", None, 1, left_scale=1, right_scale=0),
    )
    scales = tuple(ScaleSpec(s, "scale", "sum", 2, 1, ("all",), ()) for s in ("A", "B"))
    spec = InstrumentSpec("ips", "1", "h", "generic", "paired", 1, 3, items, scales, ("main",))
    with pytest.raises(ValueError, match="ipsative"):
        rs.item_analysis(spec, np.array([[1, -2], [3, 1]]))


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"missing": "mean"}, "pairwise"),
        ({"confidence": 1.2}, "confidence"),
    ],
)
def test_item_analysis_validates_options(bad, message):
    spec = rs.planning_spec("ordinal", 1, 3)
    with pytest.raises(ValueError, match=message):
        rs.item_analysis(spec, np.ones((5, 3)), **bad)


def test_item_analysis_rejects_out_of_range_answers():
    spec = rs.planning_spec("ordinal", 1, 3)
    with pytest.raises(ValueError, match="accepted answer"):
        rs.item_analysis(spec, np.array([[1, 2, 5], [1, 2, 3]]))


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.ones((3, 2)), "must be square"),
        (np.array([[1, 0.5], [0.4, 1]]), "must be symmetric"),
        (np.array([[1.0]]), "at least 2 items"),
        (np.array([[1, np.nan], [np.nan, 1]]), "missing or infinite"),
    ],
)
def test_coefficients_validate_matrices(bad, message):
    with pytest.raises(ValueError, match=message):
        rs.cronbach_alpha(bad)


# -- parameter recovery with the simulator -----------------------------------------------------------


@pytest.mark.parametrize("kind, items, seed", [("ordinal", 8, 11), ("binary", 10, 12), ("paired", 7, 13)])
def test_alpha_and_omega_recover_population_values(kind, items, seed):
    """Sample α, standardized α, ω and λ6 lie within 0.02 of their population values (n = 6000;
    the sampling SD of α is about 0.004 here)."""
    spec = rs.planning_spec(kind, 3, items, reversed_every=3)
    sim = rs.simulate(spec, 6000, trait_corr=0.4, seed=seed, missing=0.03)
    res = rs.item_analysis(spec, sim.responses)
    for est, pop in zip(res.scales, sim.population_values(), strict=True):
        assert est.scale == pop.scale
        assert abs(est.alpha - pop.alpha) < 0.02
        assert abs(est.alpha_std - pop.alpha_std) < 0.02
        assert abs(est.omega_total - pop.omega_total) < 0.02
        assert abs(est.lambda6 - pop.lambda6) < 0.02
        lo, hi = est.alpha_ci
        assert lo - 0.01 < pop.alpha < hi + 0.01


def test_population_values_react_to_discrimination():
    spec = rs.planning_spec("ordinal", 1, 6)
    weak = rs.ItemParameters(np.full(6, 0.5), np.tile([-1.0, 0.0, 1.0], (6, 1)))
    strong = rs.ItemParameters(np.full(6, 2.5), np.tile([-1.0, 0.0, 1.0], (6, 1)))
    assert rs.population_values(spec, weak)[0].alpha + 0.2 < rs.population_values(spec, strong)[0].alpha


def test_shipped_instruments_analyse_without_error():
    for iid in ("vdq", "sds", "ppi"):
        spec = instruments.scoring_spec(instruments.load(iid))
        sim = rs.simulate(spec, 1500, seed=21, missing=0.02)
        res = rs.item_analysis(spec, sim.responses)
        assert len(res.scales) == len(spec.scales)
        assert all(0.3 < s.alpha < 1 for s in res.scales)
        assert res.items.to_frame().shape[0] == len(spec.items)
