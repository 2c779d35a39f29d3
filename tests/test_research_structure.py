"""Factor structure (parallel analysis, minres, varimax/promax vs R) and the RIASEC circumplex test."""

from __future__ import annotations

import math
from itertools import permutations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring import research as rs

REF = Path(__file__).parent / "reference_r"


def two_factor_r() -> np.ndarray:
    return np.corrcoef(pd.read_csv(REF / "two_factor.csv").to_numpy().T)


def test_minres_two_factors_match_psych():
    lam, psi, ok = rs.minres(two_factor_r(), 2)
    ref = pd.read_csv(REF / "two_factor_unrotated.csv").to_numpy()
    assert ok
    # columns are determined up to sign: compare after aligning each column's sign
    lam = lam * np.sign((lam * ref).sum(axis=0))
    assert np.allclose(lam, ref, atol=1e-5)
    assert np.allclose(psi, pd.read_csv(REF / "two_factor_uniquenesses.csv")["uniq"], atol=1e-5)


def test_varimax_and_promax_match_r_stats():
    unrotated = pd.read_csv(REF / "two_factor_unrotated.csv").to_numpy()
    v, t = rs.varimax(unrotated)
    assert np.allclose(v, pd.read_csv(REF / "two_factor_varimax.csv").to_numpy(), atol=1e-10)
    assert np.allclose(t @ t.T, np.eye(2), atol=1e-12)
    pattern, _, phi = rs.promax(unrotated)
    assert np.allclose(pattern, pd.read_csv(REF / "two_factor_promax.csv").to_numpy(), atol=1e-10)
    assert np.allclose(phi, pd.read_csv(REF / "two_factor_promax_phi.csv").to_numpy(), atol=1e-10)


def test_efa_orders_and_signs_factors():
    sol = rs.exploratory_factor_analysis(two_factor_r(), 2, rotation="promax")
    assert sol.n_factors == 2 and sol.converged
    assert np.all(sol.loadings.sum(axis=0) > 0)
    ss = (sol.loadings**2).sum(axis=0)
    assert ss[0] >= ss[1]
    # items v1–v4 on one factor, v5–v8 on the other
    main = np.abs(sol.loadings).argmax(axis=1)
    assert len(set(main[:4])) == 1 and len(set(main[4:])) == 1 and main[0] != main[4]
    assert 0.1 < sol.phi[0, 1] < 0.5


def test_parallel_analysis_finds_the_simulated_number_of_factors():
    spec = rs.planning_spec("ordinal", 3, 6)
    sim = rs.simulate(spec, 1500, trait_corr=0.2, seed=31)
    res = rs.item_analysis(spec, sim.responses)
    pa = rs.parallel_analysis(rs.cov2cor(res.covariance), 1500, seed=1)
    assert pa.suggested == 3
    one = rs.simulate(rs.planning_spec("ordinal", 1, 12), 1500, seed=32)
    r1 = rs.cov2cor(rs.item_analysis(one.spec, one.responses).covariance)
    assert rs.parallel_analysis(r1, 1500, seed=1).suggested == 1


def test_parallel_analysis_random_eigenvalues_match_simulated_data():
    """The Wishart shortcut gives the same reference eigenvalues as simulating normal data."""
    p, n = 8, 400
    pa = rs.parallel_analysis(np.eye(p), n, n_iter=400, seed=3)
    rng = np.random.default_rng(4)
    ev = np.array([np.sort(np.linalg.eigvalsh(np.corrcoef(rng.normal(size=(n, p)).T)))[::-1] for _ in range(400)])
    assert np.allclose(pa.random_mean, ev.mean(axis=0), atol=0.01)
    assert np.allclose(pa.random_quantile, np.quantile(ev, 0.95, axis=0), atol=0.02)


def test_parallel_analysis_validates():
    with pytest.raises(ValueError, match="more respondents"):
        rs.parallel_analysis(np.eye(5), 5)
    with pytest.raises(ValueError, match="n_factors"):
        rs.exploratory_factor_analysis(np.eye(3), 3)
    with pytest.raises(ValueError, match="rotation"):
        rs.exploratory_factor_analysis(np.eye(4), 1, rotation="oblimin")  # type: ignore[arg-type]


def hand_count(r: np.ndarray) -> tuple[int, int, int]:
    """Slow count of met / tied / violated hexagon order predictions."""
    d = rs.hexagon_distances()
    pairs = [(i, j) for i in range(6) for j in range(i + 1, 6)]
    met = tied = violated = 0
    for a in pairs:
        for b in pairs:
            if d[a] < d[b]:
                diff = r[a] - r[b]
                met += diff > 0
                tied += diff == 0
                violated += diff < 0
    return met, tied, violated


def test_perfect_hexagon_has_p_of_its_symmetries():
    res = rs.circumplex_test(rs.hexagon_correlations(0.5, 0.3, 0.1))
    assert (res.predictions, res.met, res.tied, res.violated) == (72, 72, 0, 0)
    assert res.correspondence_index == 1.0
    # only the 12 symmetries of the hexagon (6 rotations × 2 reflections) fit as well
    assert math.isclose(res.p_value, 12 / 720) and res.exact and res.permutations == 720
    assert res.by_distance == pytest.approx({1: 0.5, 2: 0.3, 3: 0.1})


def test_circumplex_counts_match_a_slow_count():
    rng = np.random.default_rng(8)
    base = rs.hexagon_correlations(0.45, 0.3, 0.2)
    noise = rng.normal(0, 0.08, (6, 6))
    r = base + (noise + noise.T) / 2
    np.fill_diagonal(r, 1.0)
    res = rs.circumplex_test(r)
    met, tied, violated = hand_count(r)
    assert (res.met, res.tied, res.violated) == (met, tied, violated)
    assert math.isclose(res.correspondence_index, (met - violated) / 72)
    # the p-value by brute force over all 720 relabellings
    ci = []
    for perm in permutations(range(6)):
        m, _, v = hand_count(r[np.ix_(perm, perm)])
        ci.append((m - v) / 72)
    assert math.isclose(res.p_value, float(np.mean(np.array(ci) >= res.correspondence_index - 1e-12)))


def test_scrambled_order_is_not_supported():
    r = rs.hexagon_correlations(0.5, 0.3, 0.1)
    order = [0, 3, 1, 4, 2, 5]  # R S I E A C: opposite types placed next to each other
    res = rs.circumplex_test(r[np.ix_(order, order)], "RSIEAC")
    assert res.correspondence_index < 0.3 and res.p_value > 0.2


def test_simulated_riasec_data_follow_the_hexagon():
    import instruments

    spec = instruments.scoring_spec(instruments.load("sds"))
    sim = rs.simulate(spec, 2000, trait_corr=rs.hexagon_correlations(0.55, 0.3, 0.05), seed=9)
    res = rs.item_analysis(spec, sim.responses)
    order = [next(k for k, s in enumerate(spec.scales) if s.letter == ch) for ch in "RIASEC"]
    ct = rs.circumplex_test(res.intercorrelations[np.ix_(order, order)])
    assert ct.by_distance[1] > ct.by_distance[2] > ct.by_distance[3]
    assert ct.correspondence_index > 0.8 and ct.p_value < 0.05


def test_circumplex_validates():
    with pytest.raises(ValueError, match="labels"):
        rs.circumplex_test(np.eye(6), "RIAS")
    with pytest.raises(ValueError, match="no order predictions"):
        rs.circumplex_test(np.eye(3), "ABC", distances=np.ones((3, 3)))
