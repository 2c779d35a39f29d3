"""Survival tools for predictive validity (issue 16, item 5), tested by simulation: a planted effect
is recovered; with none, a 5 % test rejects about 5 % of the time. And the Kaplan–Meier estimate and
the power formula against hand computations."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from scoring import research


def test_kaplan_meier_by_hand():
    # times 2, 3+, 5, 5, 8+, 9 (+ = censored): S(4) = 5/6; S(6) = 5/6 · (4−2)/4 = 5/12
    pts = research.kaplan_meier([2, 3, 5, 5, 8, 9], [1, 0, 1, 1, 0, 1], at=(4, 6, 20))
    assert pts[0].survival == pytest.approx(5 / 6) and pts[0].at_risk == 4 and pts[0].events == 1
    assert pts[1].survival == pytest.approx(5 / 12) and pts[1].at_risk == 2 and pts[1].events == 3
    z = stats.norm.ppf(0.975)
    gw = 1 / (6 * 5) + 2 / (4 * 2)
    v = gw / math.log(5 / 12) ** 2
    assert pts[1].lower == pytest.approx((5 / 12) ** math.exp(z * math.sqrt(v)))
    assert pts[1].upper == pytest.approx((5 / 12) ** math.exp(-z * math.sqrt(v)))
    assert pts[2].survival is None and pts[2].at_risk == 0  # nobody followed 20 months


def test_power_formula_by_hand():
    # Schoenfeld: D = (1.959964 + 0.841621)^2 / ln(HR)^2 → with D = 50 and σ = 1, ln HR = 2.801585/√50
    assert research.detectable_hazard_ratio(50, 1.0) == pytest.approx(math.exp(2.801585 / math.sqrt(50)), rel=1e-5)
    assert research.cox_power(50, 1.0, math.exp(2.801585 / math.sqrt(50))) == pytest.approx(0.8, abs=1e-4)


def test_a_planted_effect_is_recovered():
    """log HR = −0.5 per SD of the covariate (higher congruence, job kept longer): over 8 samples of
    300 the estimates centre on the truth, the 95 % intervals cover it, and the effect is found."""
    rng = np.random.default_rng(2026)
    truth = -0.5
    est, covered, found = [], 0, 0
    for _ in range(8):
        df = research.simulate_placements(300, log_hr=truth, rng=rng)
        term = research.cox(df, "months", "lost", ["x"]).terms[0]
        est.append(term.coef)
        covered += math.log(term.lower) <= truth <= math.log(term.upper)
        found += term.p < 0.05
    assert abs(np.mean(est) - truth) < 0.08
    assert covered >= 6 and found == 8


def test_no_effect_gives_the_nominal_false_positive_rate():
    """With no effect, 50 samples of 50: the number of p < 0.05 is Binomial(50, 0.05) (mean 2.5); the
    seeded run must fall in its central 99 % range (0–7), and an estimator whose p-values were too small
    (e.g. a standard error half as large: about 40 % rejections) fails. Kept small to run in seconds."""
    rng = np.random.default_rng(7)
    rejections = sum(
        research.cox(research.simulate_placements(50, log_hr=0.0, rng=rng), "months", "lost", ["x"]).terms[0].p < 0.05
        for _ in range(50)
    )
    lo, hi = stats.binom.ppf([0.005, 0.995], 50, 0.05)
    assert lo <= rejections <= hi, rejections


def test_predictive_validity_summary():
    rng = np.random.default_rng(11)
    sim = research.simulate_placements(240, log_hr=-0.6, rng=rng)
    # congruence: M on 0–28 rising with x; a decided flag unrelated to the outcome
    df = pd.DataFrame(
        {
            "months": sim["months"],
            "lost": sim["lost"],
            "congruence": np.clip(np.round(14 + 6 * sim["x"]), 0, 28),
            "decided": rng.integers(0, 2, len(sim)).astype(float),
        }
    )
    out = research.predictive_validity(df, covariates=("congruence", "decided"))
    assert out["n"] == 240 and out["events"] == int(sim["lost"].sum())
    bands = out["km_by_band"]
    assert sum(b["n"] for b in bands.values()) == 240
    # higher congruence, higher retention at 12 months
    assert bands["high"]["km"][2].survival > bands["low"]["km"][2].survival
    cong, dec = out["cox"]
    assert cong["hr"] < 1 and cong["upper"] < 1 and cong["p"] < 0.01
    assert dec["lower"] < 1 < dec["upper"]
    assert cong["detectable_hr"] == pytest.approx(research.detectable_hazard_ratio(cong["events"], 1.0))


@pytest.mark.parametrize("lang", ["ka", "en"])
def test_the_study_report_names_every_predictor(lang):
    import reports

    rng = np.random.default_rng(3)
    sim = research.simulate_placements(120, log_hr=-0.4, rng=rng)
    df = pd.DataFrame(
        {"months": sim["months"], "lost": sim["lost"], "congruence": np.clip(np.round(14 + 6 * sim["x"]), 0, 28)}
    )
    df["decided"] = np.nan  # nothing known: said so, never an estimate
    out = research.predictive_validity(df)
    curves = {"high": research.km_curve(df["months"], df["lost"])}
    page = reports.render_study(out, curves, lang, "html", simulated=True).decode()
    s = reports.strings(lang)
    for key in ("study.covariate.congruence", "study.covariate.decided", "study.too_few", "study.simulated"):
        assert html.escape(s.get(key)) in page
    cong = out["cox"][0]
    assert reports.format_number(cong["hr"], 2, lang, trim=False) in page
