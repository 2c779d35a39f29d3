"""Job retention as survival data (issue 16): Kaplan–Meier with confidence bands and the number at
risk, Cox regression with confidence intervals, a power statement, and a simulator of placements
with a planted effect (to test the estimators by recovery).

Estimation is ``lifelines``' (KaplanMeierFitter: exponential Greenwood bands, i.e. Greenwood's
variance on the log(−log) scale; CoxPHFitter: Efron ties, Wald intervals). Durations are in months.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats


@dataclass(frozen=True)
class KMPoint:
    month: float
    survival: float | None
    """S(month); None when nobody was followed that long."""
    lower: float | None
    upper: float | None
    at_risk: int
    """People still followed (in the job and observed) at ``month``."""
    events: int
    """Jobs lost by ``month``."""


def _arrays(durations: Any, events: Any) -> tuple[np.ndarray, np.ndarray]:
    d = np.asarray(durations, dtype=np.float64)
    e = np.asarray(events, dtype=bool)
    if d.shape != e.shape or d.ndim != 1:
        raise ValueError("durations and events must be one-dimensional and of the same length")
    if d.size and (np.any(~np.isfinite(d)) or np.any(d < 0)):
        raise ValueError("durations must be finite and not negative")
    return d, e


def kaplan_meier(durations: Any, events: Any, at: tuple[float, ...] = (3, 6, 12), alpha: float = 0.05) -> list[KMPoint]:
    """The Kaplan–Meier retention at the months ``at``, with a (1 − alpha) band and the number at risk.

    >>> [round(p.survival, 4) for p in kaplan_meier([1, 2, 4, 5, 7], [1, 0, 1, 0, 0], at=(3, 6))]
    [0.8, 0.5333]
    """
    from lifelines import KaplanMeierFitter

    d, e = _arrays(durations, events)
    out = []
    if d.size == 0:
        return [KMPoint(float(t), None, None, None, 0, 0) for t in at]
    kmf = KaplanMeierFitter(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines warns about its own pandas use
        kmf.fit(d, e)
    ci = kmf.confidence_interval_
    for t in at:
        at_risk = int(np.sum(d >= t))
        lost = int(np.sum(e & (d <= t)))
        if at_risk == 0:
            out.append(KMPoint(float(t), None, None, None, 0, lost))
            continue
        s = float(kmf.survival_function_at_times([t]).iloc[0])
        row = ci.loc[ci.index <= t].iloc[-1]
        lo, hi = float(row.iloc[0]), float(row.iloc[1])
        if s == 1.0:  # no event yet: the band is not defined on the log(−log) scale
            lo, hi = (math.nan, math.nan)
        out.append(KMPoint(float(t), s, None if math.isnan(lo) else lo, None if math.isnan(hi) else hi, at_risk, lost))
    return out


def km_curve(durations: Any, events: Any, alpha: float = 0.05) -> pd.DataFrame:
    """The whole step function (time, survival, lower, upper) for a chart."""
    from lifelines import KaplanMeierFitter

    d, e = _arrays(durations, events)
    kmf = KaplanMeierFitter(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kmf.fit(d, e)
    df = pd.concat([kmf.survival_function_, kmf.confidence_interval_], axis=1)
    df.columns = ["survival", "lower", "upper"]
    return df.rename_axis("time").reset_index()


@dataclass(frozen=True)
class CoxTerm:
    name: str
    coef: float
    hr: float
    lower: float
    upper: float
    p: float


@dataclass(frozen=True)
class CoxFit:
    terms: tuple[CoxTerm, ...]
    n: int
    events: int
    concordance: float


def cox(df: pd.DataFrame, duration: str, event: str, covariates: list[str], alpha: float = 0.05) -> CoxFit:
    """Cox proportional-hazards regression of ``event`` over ``duration`` on ``covariates``: hazard
    ratios with (1 − alpha) Wald intervals. A hazard ratio below 1 means the job is kept longer."""
    from lifelines import CoxPHFitter

    data = df[[duration, event, *covariates]].dropna()
    if int(data[event].sum()) < 2:
        raise ValueError("a Cox regression needs at least two events")
    cph = CoxPHFitter(alpha=alpha)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph.fit(data, duration_col=duration, event_col=event)
    s = cph.summary
    terms = tuple(
        CoxTerm(
            name=str(name),
            coef=float(r["coef"]),
            hr=float(r["exp(coef)"]),
            lower=float(r[f"exp(coef) lower {100 * (1 - alpha):g}%"]),
            upper=float(r[f"exp(coef) upper {100 * (1 - alpha):g}%"]),
            p=float(r["p"]),
        )
        for name, r in s.iterrows()
    )
    return CoxFit(terms, int(len(data)), int(data[event].sum()), float(cph.concordance_index_))


def detectable_hazard_ratio(events: int, sd: float, alpha: float = 0.05, power: float = 0.8) -> float | None:
    """The smallest hazard ratio per unit of a covariate (standard deviation ``sd``) that a Cox
    regression with ``events`` events detects with ``power`` at two-sided ``alpha`` (Schoenfeld 1983:
    D = (z₁₋α/₂ + z_power)² / (σ² ln² HR)). None without events or spread.

    >>> round(detectable_hazard_ratio(100, 1.0), 3)
    1.323
    """
    if events <= 0 or not sd > 0:
        return None
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    return float(math.exp(z / (sd * math.sqrt(events))))


def cox_power(events: int, sd: float, hazard_ratio: float, alpha: float = 0.05) -> float:
    """Power of a two-sided Wald test of one covariate (Schoenfeld's approximation).

    >>> round(cox_power(100, 1.0, 1.323), 2)
    0.8
    """
    if events <= 0 or not sd > 0:
        return float(alpha)
    z = math.sqrt(events) * sd * abs(math.log(hazard_ratio)) - stats.norm.ppf(1 - alpha / 2)
    return float(stats.norm.cdf(z))


def simulate_placements(
    n: int,
    *,
    log_hr: float,
    rng: np.random.Generator,
    base_monthly_hazard: float = 0.05,
    follow_months: float = 36.0,
    dropout_monthly: float = 0.01,
) -> pd.DataFrame:
    """``n`` simulated placements: a standardized covariate ``x`` (e.g. congruence), an exponential
    time to job loss with hazard base·exp(log_hr·x), censored by loss to follow-up (exponential) and
    by the end of follow-up. Columns: x, months, lost (True = the job ended)."""
    x = rng.standard_normal(n)
    t = rng.exponential(1.0 / (base_monthly_hazard * np.exp(log_hr * x)))
    c = np.minimum(rng.exponential(1.0 / dropout_monthly, n), follow_months)
    return pd.DataFrame({"x": x, "months": np.minimum(t, c), "lost": t <= c})


CONGRUENCE_BANDS = (("low", 0, 9), ("medium", 10, 18), ("high", 19, 28))
"""Iachan's M (0–28) in three equal-width bands; a convention of this toolkit, not a published norm."""


def congruence_band(m: float) -> str:
    """The band of an Iachan M value.

    >>> [congruence_band(m) for m in (0, 9, 9.5, 18, 19, 28)]
    ['low', 'low', 'medium', 'medium', 'high', 'high']
    """
    for name, _lo, hi in CONGRUENCE_BANDS:
        if m < hi + 0.5:  # thresholds halfway between the bands (9.5, 18.5): M averaged over orderings
            return name
    raise ValueError(f"Iachan's M lies in 0–28, got {m}")


def predictive_validity(
    df: pd.DataFrame,
    covariates: tuple[str, ...] = ("congruence", "decided", "indecision"),
    at: tuple[float, ...] = (3, 6, 12),
    alpha: float = 0.05,
    power: float = 0.8,
) -> dict[str, Any]:
    """Does a predictor measured before placement predict keeping the job? ``df`` has ``months``,
    ``lost`` and the ``covariates`` (``congruence`` = Iachan's M, 0–28). Returns Kaplan–Meier by
    congruence band, one Cox regression per covariate (standardized: the hazard ratio is per standard
    deviation; below 1 = the job is kept longer) with its (1 − alpha) interval, and for each the
    smallest hazard ratio the data at hand detect with ``power`` (Schoenfeld)."""
    out: dict[str, Any] = {"n": int(len(df)), "events": int(df["lost"].sum()), "alpha": alpha, "power": power}
    bands: dict[str, Any] = {}
    if "congruence" in df:
        known = df.dropna(subset=["congruence"])
        for name, lo, hi in CONGRUENCE_BANDS:
            part = known[known["congruence"].map(congruence_band) == name]
            bands[name] = {
                "range": [lo, hi],
                "n": int(len(part)),
                "events": int(part["lost"].sum()),
                "km": kaplan_meier(part["months"], part["lost"], at=at, alpha=alpha),
            }
    out["km_by_band"] = bands
    models = []
    for cov in covariates:
        if cov not in df:
            continue
        data = df[["months", "lost", cov]].dropna()
        sd = float(data[cov].std(ddof=1)) if len(data) > 1 else 0.0
        row: dict[str, Any] = {"covariate": cov, "n": int(len(data)), "events": int(data["lost"].sum()), "sd": sd}
        if sd > 0 and row["events"] >= 2:
            z = data.assign(**{cov: (data[cov] - data[cov].mean()) / sd})
            fit = cox(z, "months", "lost", [cov], alpha=alpha)
            term = fit.terms[0]
            row.update(hr=term.hr, lower=term.lower, upper=term.upper, p=term.p, concordance=fit.concordance)
            row["detectable_hr"] = detectable_hazard_ratio(row["events"], 1.0, alpha, power)
        else:
            row["too_few"] = True
        models.append(row)
    out["cox"] = models
    return out
