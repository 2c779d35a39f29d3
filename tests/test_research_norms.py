"""Norm tables, test–retest and reliable change."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pytest
from scipy import stats

import instruments
from scoring import InstrumentSpec, ItemKey, MissingPolicy, ScaleSpec, score
from scoring import research as rs

D0, D1 = dt.date(2025, 1, 1), dt.date(2025, 6, 30)


def fit(spec, scores, **kw):
    kw.setdefault("norm_id", "test")
    kw.setdefault("version", "1")
    kw.setdefault("population", "test sample")
    return rs.build_norms(spec, scores, collected_from=D0, collected_to=D1, **kw)


def test_midpoint_percentile_ranks_by_hand():
    spec = rs.planning_spec("binary", 1, 4)
    scores = np.array([[0.0], [1], [1], [2], [2], [2], [3], [4]])
    table = fit(spec, scores, min_group_n=1).table
    # N = 8; value 2: 3 below, 3 at → PR = 100 (3 + 1.5)/8 = 56.25
    expected = {0: 6.25, 1: 25.0, 2: 56.25, 3: 81.25, 4: 93.75}
    assert dict(zip(table["raw"], table["pr"], strict=True)) == pytest.approx(expected)
    assert table["freq"].tolist() == [1, 2, 3, 1, 1] and table["cum_freq"].tolist() == [1, 3, 6, 7, 8]
    t = table.set_index("raw")["t"]
    assert math.isclose(t[2], 50 + 10 * stats.norm.ppf(0.5625))
    assert table.set_index("raw")["stanine"].tolist() == [2, 4, 5, 7, 8]  # PR 6.25, 25, 56.25, 81.25, 93.75


def test_a_table_from_prorated_scores_counts_every_person(tmp_path):
    """Before: a prorated score (8.75 between 8 and 9) was in nobody's row, so the frequencies
    did not add up to the table's n."""
    spec = rs.planning_spec("binary", 1, 4)  # a sum scale of 4 like/dislike items: 0 … 4
    # two people answered 3 of 4 items: 2 likes → 2·4/3 = 8/3, 1 like → 4/3 (prorated)
    scores = np.array([[0.0], [1], [4 / 3], [2], [2], [8 / 3], [3], [4]])
    table = fit(spec, scores, min_group_n=1).table
    assert table["freq"].sum() == table["n"].iloc[0] == 8 and table["cum_freq"].iloc[-1] == 8
    assert table["raw"].tolist() == pytest.approx([0, 1, 4 / 3, 2, 8 / 3, 3, 4])
    # by hand: N = 8; 8/3 has 5 scores below it and 1 at it → PR = 100 (5 + 0.5)/8 = 68.75
    by_raw = dict(zip(table["raw"].round(6), table["pr"], strict=True))
    assert by_raw[round(8 / 3, 6)] == 68.75 and by_raw[2.0] == 100 * (3 + 1) / 8
    # the table still maps every score, tabulated or in between, to a PR
    stored = rs.read_norms(rs.write_norms(fit(spec, scores, min_group_n=1), tmp_path)[1])
    ns = stored.transform(np.array([[8 / 3], [2.5]]))
    assert ns.percentile[0, 0] == pytest.approx(68.75) and 50 < ns.percentile[1, 0] < 68.75


def test_t_and_stanines():
    assert rs.t_from_pr(np.array([50.0]))[0] == 50.0
    assert np.allclose(
        rs.t_from_pr(np.array([0.0, 100.0])), [50 + 10 * stats.norm.ppf(0.001), 50 + 10 * stats.norm.ppf(0.999)]
    )
    pr = np.array([0, 3.99, 4, 10.9, 11, 22.9, 23, 39.9, 40, 59.9, 60, 76.9, 77, 88.9, 89, 95.9, 96, 100, np.nan])
    assert rs.stanine_from_pr(pr).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 0]


def test_norms_recover_known_percentiles():
    """Binomial(12, .4) scores: the table's PRs lie within 1.5 points of the population's mid-point PRs."""
    spec = rs.planning_spec("binary", 1, 12)
    rng = np.random.default_rng(51)
    scores = rng.binomial(12, 0.4, size=(20_000, 1)).astype(float)
    table = fit(spec, scores).table
    x = np.arange(13)
    population = 100 * (stats.binom.cdf(x - 1, 12, 0.4) + 0.5 * stats.binom.pmf(x, 12, 0.4))
    assert np.allclose(table["pr"].to_numpy(), population, atol=1.5)


def test_norms_recover_percentiles_of_simulated_scale_scores():
    """A 5,000-person table agrees with a 200,000-person one from the same model within 2 PR points."""
    spec = rs.planning_spec("ordinal", 1, 8)
    big = rs.simulate(spec, 200_000, seed=52)
    truth = fit(spec, score(spec, big.responses).scales.score)
    small = rs.simulate(spec, 5_000, seed=53, params=big.params)
    est = fit(spec, score(spec, small.responses).scales.score)
    assert np.allclose(est.table["pr"], truth.table["pr"], atol=2.0)


def test_groups_and_transform():
    spec = rs.planning_spec("ordinal", 2, 3)
    rng = np.random.default_rng(54)
    scores = rng.integers(3, 13, size=(400, 2)).astype(float)
    gender = np.array(["f"] * 250 + ["m"] * 150, dtype=object)
    table = fit(spec, scores, groups={"gender": gender}, min_group_n=160)
    assert table.groups == ("all", "gender=f")  # m has 150 < 160 rows: counted, no table of its own
    assert table.sample.groups == {"gender": {"f": 250, "m": 150}}
    assert table.sample.n == 400
    out = table.transform(np.array([[3.0, 12.0], [7.5, np.nan]]))
    grid = table.table[(table.table.group == "all") & (table.table.scale == "S1")].set_index("raw")["pr"]
    assert math.isclose(out.percentile[0, 0], grid[3.0])
    assert math.isclose(out.percentile[1, 0], (grid[7.0] + grid[8.0]) / 2)  # prorated score: interpolated
    assert np.isnan(out.percentile[1, 1]) and out.stanine[1, 1] == 0
    with pytest.raises(ValueError, match="outside"):
        table.transform(np.array([[2.0, 5.0]]))
    with pytest.raises(ValueError, match="no group"):
        table.transform(np.array([[3.0, 5.0]]), group="gender=m")


def test_mean_scored_scales_use_the_mean_grid():
    spec = instruments.scoring_spec(instruments.load("vdq"))
    sim = rs.simulate(spec, 800, seed=55)
    table = fit(spec, score(spec, sim.responses).scales.score)
    certainty = table.table[(table.table.group == "all") & (table.table.scale == "certainty")]
    k = spec.scales[0].n_items
    assert np.allclose(certainty["raw"], np.arange(k, 4 * k + 1) / k)
    assert certainty["freq"].sum() == 800


def test_ipsative_scores_are_refused():
    items = (ItemKey("F1", "main", None, 1, left_scale=0, right_scale=1),)
    scales = tuple(ScaleSpec(s, "scale", "sum", 1, 1, ("all",), ()) for s in ("A", "B"))
    spec = InstrumentSpec("ips", "1", "h", "generic", "paired", 1, 3, items, scales, ("main",))
    with pytest.raises(ValueError, match="ipsative"):
        fit(spec, np.ones((10, 2)))


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"population": " "}, "population"),
        ({"norm_id": ""}, "norm_id"),
        ({"min_group_n": 0}, "min_group_n"),
    ],
)
def test_build_norms_validates(kw, message):
    with pytest.raises(ValueError, match=message):
        fit(rs.planning_spec("binary", 1, 3), np.ones((5, 1)), **kw)


def test_dates_must_be_in_order():
    with pytest.raises(ValueError, match="before it began"):
        rs.build_norms(
            rs.planning_spec("binary", 1, 3),
            np.ones((5, 1)),
            norm_id="x",
            version="1",
            population="p",
            collected_from=D1,
            collected_to=D0,
        )


def test_write_read_roundtrip_never_overwrites(tmp_path):
    spec = rs.planning_spec("binary", 1, 5)
    table = fit(spec, np.random.default_rng(1).integers(0, 6, (300, 1)).astype(float), norm_id="fund", version="1.0")
    csv_path, meta_path = rs.write_norms(table, tmp_path)
    assert csv_path == tmp_path / "planning-0" / "fund-1.0.csv"
    meta = json.loads(meta_path.read_text())
    assert meta["sample"]["n"] == 300 and meta["sample"]["synthetic"] is False
    back = rs.read_norms(meta_path)
    assert back.ref == "fund@1.0" and back.sample == table.sample
    assert np.allclose(back.transform(np.array([[2.0]])).t, table.transform(np.array([[2.0]])).t)
    with pytest.raises(FileExistsError, match="new version"):
        rs.write_norms(table, tmp_path)


def test_synthetic_tables_are_not_written_as_norms(tmp_path):
    spec = rs.planning_spec("binary", 1, 5)
    table = fit(spec, np.ones((10, 1)), synthetic=True, min_group_n=1)
    with pytest.raises(ValueError, match="simulated"):
        rs.write_norms(table, tmp_path)
    assert not any(tmp_path.iterdir())
    _, meta = rs.write_norms(table, tmp_path, allow_synthetic=True)
    assert json.loads(meta.read_text())["sample"]["synthetic"] is True


def test_no_norm_tables_are_shipped():
    norms = instruments.data_dir() / "norms"
    assert not norms.exists() or not any(norms.rglob("*.json"))


# -- change ------------------------------------------------------------------------------------------


def test_reliable_change_by_hand():
    # SD 5, r .8: SE = 5·√.2 = 2.236; S_diff = √2·SE = 3.162; change 10 → RC = 3.162
    res = rs.reliable_change(np.array([20.0, 20, 20]), np.array([30.0, 24, 13]), sd=5.0, reliability=0.8)
    s_diff = math.sqrt(2) * 5 * math.sqrt(0.2)
    assert np.allclose(res.rci, [10 / s_diff, 4 / s_diff, -7 / s_diff])
    assert res.direction.tolist() == [1, 0, -1] and math.isclose(res.critical, 1.959963984540054)


def test_reliable_change_validates():
    with pytest.raises(ValueError, match="reliability"):
        rs.reliable_change(np.ones(2), np.ones(2), sd=1.0, reliability=1.0)
    with pytest.raises(ValueError, match="sd"):
        rs.reliable_change(np.ones(2), np.ones(2), sd=0.0, reliability=0.5)
    with pytest.raises(ValueError, match="same shape"):
        rs.reliable_change(np.ones(2), np.ones(3), sd=1.0, reliability=0.5)


def test_retest_by_hand():
    t1 = np.array([[10.0, 1], [12, 2], [15, 3], [20, 4], [22, 5]])
    t2 = np.array([[11.0, 5], [13, 4], [16, 3], [21, 2], [23, np.nan]])
    res = rs.test_retest(t1, t2, ["a", "b"])
    assert res.r[0] == pytest.approx(1.0) and res.mean_change[0] == pytest.approx(1.0)
    assert res.icc[0] == pytest.approx(52.4 / 53.4)  # MS_R = 52.4, MS_C = 2.5, MS_E = 0
    assert res.n.tolist() == [5, 4] and res.r[1] == pytest.approx(-1.0)


def test_retest_recovers_simulated_reliability():
    """Two parallel administrations: the retest r estimates the population reliability ρ = var(T)/var(X)."""
    rng = np.random.default_rng(56)
    true = rng.normal(50, 8, 4000)
    x1, x2 = true + rng.normal(0, 4, 4000), true + rng.normal(0, 4, 4000)
    res = rs.test_retest(x1, x2)
    rho = 64 / (64 + 16)
    assert abs(res.r[0] - rho) < 0.02 and res.r_ci[0, 0] < rho < res.r_ci[0, 1] + 0.01
    assert abs(res.icc[0] - rho) < 0.02


def test_build_norms_cli_names_the_score_policy(tmp_path):
    from typer.testing import CliRunner

    from api.cli import app

    spec = instruments.scoring_spec(instruments.load("vdq"))
    frame = rs.simulate(spec, 150, seed=12, missing=0.05).to_frame().drop(columns=["group"])
    frame.to_csv(tmp_path / "n.csv", index=False)
    args = ["build-norms", str(tmp_path / "n.csv"), "-i", "vdq", "--norm-id", "pilot", "--norm-version", "1",
            "--population", "pilot sample", "--from", "2025-01-01", "--to", "2025-02-01", "--write",
            "--root", str(tmp_path / "norms"), "--impute", "median"]  # fmt: skip
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    meta = json.loads(
        (tmp_path / "norms" / f"vdq-{instruments.load('vdq').version}" / "pilot-1.json").read_text(encoding="utf-8")
    )
    assert meta["scores_policy"].startswith("impute median")
    table = rs.read_norms(tmp_path / "norms" / f"vdq-{instruments.load('vdq').version}" / "pilot-1.json")
    assert table.scores_policy == meta["scores_policy"]
    scores = rs.read_dataset(tmp_path / "n.csv", spec).score(MissingPolicy("median")).scales.score
    first = table.table[(table.table["group"] == "all") & (table.table["scale"] == spec.scales[0].id)]
    assert first["freq"].sum() == np.isfinite(scores[:, 0]).sum() == first["n"].iloc[0]
