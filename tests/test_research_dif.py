"""DIF: Mantel–Haenszel against R's mantelhaen.test and hand-computed tables; recovery of planted DIF."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scoring import research as rs
from scoring.research._dif import _mh_from_counts

REF = Path(__file__).parent / "reference_r"


def test_mh_matches_r_mantelhaen_test():
    mh = pd.read_csv(REF / "mh_strata.csv")
    ref = pd.read_csv(REF / "mh_reference.csv").iloc[0]

    def cells(group: str, correct: int) -> np.ndarray:
        rows = mh[(mh.group == group) & (mh.correct == correct)].sort_values("stratum")
        return rows["count"].to_numpy(float)[None, :]

    a, c = cells("reference", 1), cells("focal", 1)
    out = _mh_from_counts(a, a + cells("reference", 0), c, c + cells("focal", 0))
    assert math.isclose(out["alpha"][0], ref["odds_ratio"], rel_tol=1e-12)
    assert math.isclose(out["chi2"][0], ref["statistic"], rel_tol=1e-12)
    assert math.isclose(out["p"][0], ref["p_value"], rel_tol=1e-10)


def test_mh_by_hand_on_two_strata():
    # stratum 1: A=10 B=10 C=5 D=15 (N=40); stratum 2: A=20 B=5 C=10 D=10 (N=45)
    a, nr = np.array([[10.0, 20]]), np.array([[20.0, 25]])
    c, nf = np.array([[5.0, 10]]), np.array([[20.0, 20]])
    out = _mh_from_counts(a, nr, c, nf)
    r = np.array([10 * 15 / 40, 20 * 10 / 45])
    s = np.array([10 * 5 / 40, 5 * 10 / 45])
    alpha = r.sum() / s.sum()
    assert math.isclose(out["alpha"][0], alpha, rel_tol=1e-12)
    assert math.isclose(out["d"][0], -2.35 * math.log(alpha), rel_tol=1e-12)
    p = np.array([25 / 40, 30 / 45])
    q = 1 - p
    var = (
        (p * r).sum() / (2 * r.sum() ** 2)
        + (p * s + q * r).sum() / (2 * r.sum() * s.sum())
        + (q * s).sum() / (2 * s.sum() ** 2)
    )
    assert math.isclose(out["se"][0], 2.35 * math.sqrt(var), rel_tol=1e-12)
    ea = np.array([20 * 15 / 40, 25 * 30 / 45])
    va = np.array([20 * 20 * 15 * 25 / (40**2 * 39), 25 * 20 * 30 * 15 / (45**2 * 44)])
    chi2 = (abs(30 - ea.sum()) - 0.5) ** 2 / va.sum()
    assert math.isclose(out["chi2"][0], chi2, rel_tol=1e-12)


@pytest.mark.parametrize(
    "d, se, p, expected",
    [
        (-0.8, 0.2, 0.001, "A"),  # |D| < 1
        (-1.8, 0.9, 0.2, "A"),  # not significant
        (-1.3, 0.2, 0.001, "B"),  # 1 ≤ |D| < 1.5
        (-1.6, 0.5, 0.001, "B"),  # |D| ≥ 1.5 but not significantly above 1: (1.6 − 1)/0.5 = 1.2
        (1.7, 0.3, 0.001, "C"),  # (1.7 − 1)/0.3 = 2.33 > 1.645
        (float("nan"), float("nan"), float("nan"), ""),
    ],
)
def test_ets_classes(d, se, p, expected):
    assert rs.ets_class(np.array([d]), np.array([se]), np.array([p])) == (expected,)


def test_mantel_haenszel_finds_planted_dif_and_spares_clean_items():
    spec = rs.planning_spec("binary", 2, 20)
    planted = [rs.DIF("S1_04", 1.0), rs.DIF("S2_07", -1.0)]
    sim = rs.simulate(spec, [rs.Group("ref", 1500), rs.Group("foc", 1500, 0.5)], dif=planted, seed=41)
    res = rs.mantel_haenszel(spec, sim.responses, sim.group, reference="ref")
    frame = res.to_frame().set_index("item")
    assert frame.loc["S1_04", "ets_class"] == "C" and frame.loc["S1_04", "d_dif"] < 0  # harder for the focal group
    assert frame.loc["S2_07", "ets_class"] == "C" and frame.loc["S2_07", "d_dif"] > 0
    clean = frame.drop(index=["S1_04", "S2_07"])
    assert (clean["ets_class"] == "A").all()
    # nominal 5 % χ² rate among 38 clean items: allow up to 5 (binomial tail ≈ 0.04)
    assert (clean["p_value"] < 0.05).sum() <= 5
    assert res.purified and res.n_reference[0] == 1500


def test_mantel_haenszel_validates():
    spec = rs.planning_spec("ordinal", 1, 3)
    with pytest.raises(ValueError, match="like/dislike"):
        rs.mantel_haenszel(spec, np.ones((4, 3)), ["a", "a", "b", "b"], reference="a")
    spec = rs.planning_spec("binary", 1, 3)
    with pytest.raises(ValueError, match="reference group"):
        rs.mantel_haenszel(spec, np.ones((4, 3)), ["a", "a", "b", "b"], reference="x")
    with pytest.raises(ValueError, match="name the focal group"):
        rs.mantel_haenszel(spec, np.ones((3, 3)), ["a", "b", "c"], reference="a")
    with pytest.raises(ValueError, match="one label per row"):
        rs.mantel_haenszel(spec, np.ones((3, 3)), ["a", "b"], reference="a")


def test_ordinal_logistic_dif_finds_uniform_and_nonuniform_dif():
    spec = rs.planning_spec("ordinal", 1, 12)
    planted = [rs.DIF("S1_03", 0.8), rs.DIF("S1_09", 0.0, slope=0.3)]
    sim = rs.simulate(spec, [rs.Group("f", 700), rs.Group("m", 700, 0.3)], dif=planted, seed=42)
    res = rs.ordinal_logistic_dif(spec, sim.responses, sim.group, reference="f")
    frame = res.to_frame().set_index("item")
    assert frame.loc["S1_03", "flagged"] and frame.loc["S1_03", "p_uniform"] < 0.001
    assert frame.loc["S1_03", "group_effect"] < 0  # lower answers in the focal group at equal score
    assert frame.loc["S1_09", "flagged"] and frame.loc["S1_09", "p_nonuniform"] < 0.001
    clean = frame.drop(index=["S1_03", "S1_09"])
    # nominal 5 % among 10 clean items: allow up to 2 (binomial tail ≈ 0.012)
    assert clean["flagged"].sum() <= 2
    assert res.converged.all()
    assert np.all((res.p_adjusted >= res.p_total - 1e-15) | np.isnan(res.p_total))


def test_ordinal_logistic_dif_on_paired_items_and_subsampling():
    spec = rs.planning_spec("paired", 1, 6, reversed_every=2)
    sim = rs.simulate(spec, [rs.Group("a", 400), rs.Group("b", 400)], dif=[rs.DIF("S1_02", 1.2)], seed=43)
    res = rs.ordinal_logistic_dif(spec, sim.responses, sim.group, reference="a", max_rows=600, purify=False)
    assert res.n.max() == 600
    assert res.flagged[list(res.items).index("S1_02")]


def test_ordinal_logistic_dif_refuses_binary_items():
    with pytest.raises(ValueError, match="mantel_haenszel"):
        rs.ordinal_logistic_dif(rs.planning_spec("binary", 1, 3), np.ones((4, 3)), list("aabb"), reference="a")


def test_benjamini_hochberg_by_hand():
    p = np.array([0.01, 0.04, 0.03, 0.2, np.nan])
    adj = rs.benjamini_hochberg(p)
    # sorted .01 .03 .04 .2 → ×4/rank: .04 .06 .0533 .2 → running minimum from the top
    assert np.allclose(adj[:4], [0.04, 0.0533333333, 0.0533333333, 0.2])
    assert np.isnan(adj[4])
