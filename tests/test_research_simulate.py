"""The simulator: encoding, parameters, groups, DIF, validation."""

from __future__ import annotations

import numpy as np
import pytest

import instruments
import scoring
from scoring import MISSING
from scoring import research as rs


@pytest.mark.parametrize("iid", ["vdq", "sds", "ppi"])
def test_output_is_valid_engine_encoding(iid):
    spec = instruments.scoring_spec(instruments.load(iid))
    sim = rs.simulate(spec, 500, seed=61, missing=0.05)
    assert sim.responses.dtype == np.int8 and sim.responses.shape == (500, len(spec.items))
    scoring.as_codes(spec, sim.responses)  # raises on any invalid code
    miss = (sim.responses == MISSING).mean()
    assert 0.03 < miss < 0.07
    result = scoring.score(spec, sim.responses)
    assert len(result) == 500


def test_reversed_items_are_reflected():
    spec = rs.planning_spec("ordinal", 1, 6, reversed_every=2)
    sim = rs.simulate(spec, 4000, seed=62)
    theta = sim.theta[:, 0]
    r = [np.corrcoef(sim.responses[:, j], theta)[0, 1] for j in range(6)]
    assert all(v > 0.3 for v in r[0::2]) and all(v < -0.3 for v in r[1::2])


def test_ppi_repeated_pairs_mirror_their_originals():
    spec = instruments.scoring_spec(instruments.load("ppi"))
    sim = rs.simulate(spec, 3000, seed=63)
    for orig, rep in spec.repeat_pairs:
        assert np.corrcoef(sim.responses[:, orig], sim.responses[:, rep])[0, 1] < -0.2
    result = scoring.score(spec, sim.responses)
    # random answering reverses half of the repeated pairs (2 of 4 on average); model-consistent answers fewer
    assert result.bipolar is not None and result.bipolar.reversals.mean() < 1.5


def test_trait_correlations_and_group_means_are_realized():
    spec = rs.planning_spec("binary", 3, 4)
    corr = np.array([[1, 0.6, 0.1], [0.6, 1, 0.3], [0.1, 0.3, 1]])
    sim = rs.simulate(spec, [rs.Group("a", 20000), rs.Group("b", 20000, (0.5, 0.0, -0.5))], trait_corr=corr, seed=64)
    a, b = sim.group == "a", sim.group == "b"
    assert np.allclose(np.corrcoef(sim.theta[a].T), corr, atol=0.03)
    assert np.allclose(sim.theta[b].mean(0) - sim.theta[a].mean(0), [0.5, 0.0, -0.5], atol=0.04)


def test_two_pl_probabilities_are_recovered():
    spec = rs.planning_spec("binary", 1, 2)
    params = rs.ItemParameters(np.array([1.5, 1.0]), np.array([[0.0], [1.0]]))
    sim = rs.simulate(spec, 100_000, params=params, seed=65)
    near = np.abs(sim.theta[:, 0] - 1.0) < 0.05
    # P(like | θ = 1) = 1/(1 + e^{−1.5·1}) = 0.818 for item 1, 0.5 for item 2 (b = 1)
    assert abs(sim.responses[near, 0].mean() - 1 / (1 + np.exp(-1.5))) < 0.03
    assert abs(sim.responses[near, 1].mean() - 0.5) < 0.03


def test_graded_response_category_probabilities():
    spec = rs.planning_spec("ordinal", 1, 2)
    params = rs.ItemParameters(np.array([1.2, 1.2]), np.array([[-1.0, 0.0, 1.0]] * 2))
    sim = rs.simulate(spec, 200_000, params=params, seed=66)
    near = np.abs(sim.theta[:, 0]) < 0.05
    cum = 1 / (1 + np.exp(-1.2 * (0 - np.array([-1.0, 0.0, 1.0]))))
    expected = -np.diff(np.concatenate([[1.0], cum, [0.0]]))
    observed = np.bincount(sim.responses[near, 0] - 1, minlength=4) / near.sum()
    assert np.allclose(observed, expected, atol=0.02)


def test_population_values_match_a_huge_sample():
    spec = rs.planning_spec("paired", 1, 5, reversed_every=2)
    sim = rs.simulate(spec, 200_000, seed=67)
    pop = sim.population_values()[0]
    est = rs.item_analysis(spec, sim.responses).scales[0]
    assert abs(est.alpha - pop.alpha) < 0.005 and abs(est.omega_total - pop.omega_total) < 0.005


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "positive"),
        ({"missing": 1.0}, "missing"),
        ({"trait_corr": np.eye(3)}, "one row per scale"),
        ({"trait_corr": np.array([[1, 2], [2, 1.0]])}, "positive definite"),
        ({"dif": [rs.DIF("nope", 1.0)]}, "not an item"),
        ({"dif": [rs.DIF("S1_01", 1.0)]}, "focal group"),
    ],
)
def test_simulate_validates(kwargs, message):
    spec = rs.planning_spec("ordinal", 2, 3)
    n = kwargs.pop("n", 10)
    with pytest.raises(ValueError, match=message):
        rs.simulate(spec, n, **kwargs)


def test_item_parameters_validate():
    with pytest.raises(ValueError, match="increasing"):
        rs.ItemParameters(np.array([1.0]), np.array([[0.5, 0.1, 1.0]]))
    with pytest.raises(ValueError, match="positive"):
        rs.ItemParameters(np.array([-1.0]), np.array([[0.0]]))
    with pytest.raises(ValueError, match="thresholds each"):
        rs.simulate(rs.planning_spec("ordinal", 1, 2), 10, params=rs.ItemParameters(np.ones(2), np.zeros((2, 1))))


def test_same_seed_same_data():
    spec = rs.planning_spec("ordinal", 2, 4)
    a, b = rs.simulate(spec, 100, seed=5), rs.simulate(spec, 100, seed=5)
    assert np.array_equal(a.responses, b.responses)
    frame = a.to_frame()
    assert frame.columns[:2].tolist() == ["id", "group"] and frame["id"].iloc[0] == "SIM001"
