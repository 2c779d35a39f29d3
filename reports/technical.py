"""The researcher's technical report: item statistics, reliability, structure, DIF and norms.

``build_technical_report`` analyses a validated data set (``scoring.research.Dataset``)
with the research toolkit and renders a self-contained HTML page from the Jinja2
template ``templates/technical.html.j2`` (autoescape, ``StrictUndefined``); the
charts are matplotlib ``Figure`` objects (object API, never pyplot) embedded as
PNG data URIs. The research toolkit is imported by this module, so ``import
reports`` stays free of it; the ``proforient analyze`` command is a thin wrapper.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jinja2
import numpy as np
import pandas as pd

import instruments
import scoring
from scoring import research as rs

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TEMPLATES = Path(__file__).parent / "templates"

# -- charts (matplotlib Figure → PNG data URI) ----------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    """A matplotlib ``Figure`` (object API, Agg canvas on save; never pyplot)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def _png(fig: Figure, tight: bool = True) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight" if tight else None)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def chart_reliability(rel: pd.DataFrame) -> str:
    fig = _figure(7, 0.35 * len(rel) + 1.2)
    ax = fig.add_subplot()
    y = np.arange(len(rel))[::-1]
    lo = (rel["alpha"] - rel["alpha_lo"]).clip(lower=0)
    hi = (rel["alpha_hi"] - rel["alpha"]).clip(lower=0)
    ax.errorbar(rel["alpha"], y, xerr=[lo, hi], fmt="o", color="#1f4e79", label="α (Feldt CI)")
    ax.plot(rel["omega_total"], y, "s", color="#c55a11", label="ω total", alpha=0.8)
    ax.set_yticks(y, rel["scale"])
    ax.set_xlim(min(0.0, float(np.nanmin(rel["alpha_lo"].to_numpy(float))) - 0.05), 1.0)
    ax.axvline(0.7, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("reliability")
    ax.legend(loc="lower left", fontsize=8)
    return _png(fig)


def chart_item_total(items: pd.DataFrame) -> str:
    data = items[items["scale"] != ""]
    fig = _figure(max(6.0, 0.16 * len(data) + 2), 3.2)
    ax = fig.add_subplot()
    scales = list(dict.fromkeys(data["scale"]))
    colors = [f"C{scales.index(s) % 10}" for s in data["scale"]]
    ax.bar(np.arange(len(data)), data["r_drop"], color=colors)
    ax.axhline(0.3, color="grey", lw=0.8, ls="--")
    ax.set_ylabel("corrected item–total r")
    ax.set_xticks(np.arange(len(data)), data["item"], rotation=90, fontsize=6)
    return _png(fig)


def chart_heatmap(m: pd.DataFrame) -> str:
    k = len(m)
    fig = _figure(0.45 * k + 2.5, 0.45 * k + 1.8)
    ax = fig.add_subplot()
    im = ax.imshow(m.to_numpy(float), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(k), m.columns, rotation=90, fontsize=7)
    ax.set_yticks(range(k), m.index, fontsize=7)
    if k <= 12:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, f"{m.iat[i, j]:.2f}", ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return _png(fig)


def chart_scree(pa: rs.ParallelAnalysis) -> str:
    fig = _figure(6, 3.2)
    ax = fig.add_subplot()
    x = np.arange(1, len(pa.observed) + 1)
    ax.plot(x, pa.observed, "o-", label="observed")
    ax.plot(x, pa.random_quantile, "--", label=f"random, {round(pa.quantile * 100)}th percentile")
    ax.set_xlabel("component")
    ax.set_ylabel("eigenvalue")
    ax.legend(fontsize=8)
    return _png(fig)


def chart_distance(ct: rs.CircumplexTest) -> str:
    fig = _figure(4, 3)
    ax = fig.add_subplot()
    ax.plot(list(ct.by_distance), list(ct.by_distance.values()), "o-")
    ax.set_xticks(list(ct.by_distance), ["adjacent", "alternate", "opposite"][: len(ct.by_distance)])
    ax.set_ylabel("mean correlation")
    return _png(fig)


def chart_histograms(scores: np.ndarray, names: Sequence[str], steps: Sequence[float]) -> str:
    """One histogram per scale, one bar per attainable score (``steps``: the score grid's spacing)."""
    k = len(names)
    cols = min(4, k)
    rows = math.ceil(k / cols)
    fig = _figure(2.6 * cols, 2.0 * rows)
    for i, name in enumerate(names):
        ax = fig.add_subplot(rows, cols, i + 1)
        v = scores[:, i]
        v = v[np.isfinite(v)]
        if len(v):
            w = steps[i] * max(1, math.ceil((v.max() - v.min()) / steps[i] / 40))  # at most ~40 bars
            ax.hist(v, bins=np.arange(v.min() - w / 2, v.max() + w, w).tolist(), color="#5b9bd5")
        ax.set_title(name, fontsize=8)
        ax.tick_params(labelsize=6)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.92, hspace=0.6, wspace=0.3)
    return _png(fig, tight=False)


def _fmt(v: object, digits: int = 3) -> str:
    if v is None:
        return ""
    if isinstance(v, bool | np.bool_):
        return "yes" if v else ""
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return "" if not np.isfinite(v) else f"{float(v):.{digits}f}"
    return str(v)


def _table(
    frame: pd.DataFrame, digits: int = 3, flag: Sequence[bool] | np.ndarray | None = None, index: bool = False
) -> dict[str, Any]:
    header = ([""] if index else []) + [str(c) for c in frame.columns]
    rows = []
    for i, (idx, row) in enumerate(zip(frame.index, frame.astype(object).itertuples(index=False), strict=True)):
        cells = ([str(idx)] if index else []) + [_fmt(v, digits) for v in row]
        rows.append({"cells": cells, "flag": bool(flag[i]) if flag is not None else False})
    return {"header": header, "rows": rows}


def _dif_sections(
    ds: rs.Dataset, groups: Sequence[str], references: dict[str, str], max_rows: int, seed: int
) -> list[dict[str, Any]]:
    spec = ds.spec
    sections = []
    for var in groups:
        labels = ds.group(var)
        clean = np.array(
            ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() for v in labels],
            dtype=object,
        )
        levels = pd.Series(clean[clean != ""]).value_counts()
        if len(levels) < 2:
            sections.append(
                {
                    "title": f"by {var}",
                    "note": "",
                    "summary": f"{var} has fewer than two groups; no DIF analysis.",
                    "table": _table(pd.DataFrame()),
                }
            )
            continue
        ref = references.get(var, str(levels.index[0]))
        if ref not in levels.index:
            raise ValueError(f"--reference {var}={ref}: no such group (groups: {', '.join(levels.index)})")
        for focal in [lv for lv in levels.index if lv != ref]:
            if spec.kind == "binary":
                res = rs.mantel_haenszel(spec, ds.responses, clean, reference=ref, focal=focal)
                frame = res.to_frame().drop(columns=["scale"])
                flagged = res.flagged
                note = (
                    "Mantel–Haenszel, matched on the scale's total score (studied item included), one purification "
                    "round; ETS classes: A |D| < 1 or χ² n.s.; C |D| ≥ 1.5 and significantly above 1; B otherwise. "
                    "Negative D-DIF: harder to endorse for the focal group."
                )
                summary = (
                    f"Reference {ref} (n = {int(res.n_reference.max(initial=0))}), focal {focal} "
                    f"(n = {int(res.n_focal.max(initial=0))}): {int((np.array(res.ets_class) == 'B').sum())} item(s) "
                    f"in class B, {int((np.array(res.ets_class) == 'C').sum())} in class C."
                )
            else:
                olr = rs.ordinal_logistic_dif(
                    spec, ds.responses, clean, reference=ref, focal=focal, max_rows=max_rows, seed=seed
                )
                frame = olr.to_frame().drop(columns=["scale", "flagged"])
                flagged = olr.flagged
                sub = f" on a random subsample of {max_rows} rows" if ds.n_rows > max_rows else ""
                note = (
                    "Ordinal logistic regression (Zumbo, 1999)" + sub + ": uniform DIF = group term, non-uniform = "
                    "score × group term, total = 2-df test; ΔR² = Nagelkerke R² gain, classes after Jodoin & Gierl "
                    "(2001): A < .035 ≤ B < .070 ≤ C; p_adjusted: Benjamini–Hochberg."
                )
                summary = (
                    f"Reference {ref}, focal {focal}: {int(flagged.sum())} of {len(flagged)} item(s) with "
                    f"p < {olr.alpha} on the 2-df test; "
                    f"{int((np.array(olr.effect_class) != 'A').sum())} with ΔR² ≥ .035."
                )
            sections.append(
                {
                    "title": f"by {var}: {focal} vs {ref}",
                    "note": note,
                    "summary": summary,
                    "table": _table(frame, 3, flagged),
                }
            )
    return sections


def build_technical_report(
    inst: instruments.Instrument,
    ds: rs.Dataset,
    *,
    groups: Sequence[str] = (),
    references: dict[str, str] | None = None,
    n_factors: int | None = None,
    rotation: str = "promax",
    dif_max_rows: int = 20_000,
    seed: int = 0,
    confidence: float = 0.95,
) -> str:
    """The HTML technical report for a validated data set."""
    spec = ds.spec
    ia = rs.item_analysis(spec, ds.responses, confidence=confidence)
    items = ia.items.to_frame()
    item_cols = (
        ["item", "scale", "keyed", "n", "mean", "sd"]
        + [c for c in items.columns if c.startswith("p_")]
        + ["r_drop", "alpha_if_deleted", "std_alpha_if_deleted"]
    )
    scored = items[items["scale"] != ""]
    rel = ia.scales_frame()
    inter = ia.intercorrelation_frame()
    both = inter.copy()
    dis = ia.intercorrelation_frame(disattenuated=True)
    upper = np.triu(np.ones(both.shape, dtype=bool), 1)
    both = both.mask(upper, dis)
    ctx: dict[str, Any] = {
        "title": f"{inst.title.en} ({inst.ref})",
        "instrument": inst.ref,
        "instrument_hash": inst.content_hash[:12],
        "engine": scoring.ENGINE_VERSION,
        "source": Path(ds.source).name,
        "n_rows": ds.n_rows,
        "date": dt.date.today().isoformat(),
        "missing_codes": ", ".join(ds.missing_codes) or "none (blank = skipped)",
        "confidence": round(confidence * 100),
        "items": _table(scored[item_cols], 3, (scored["r_drop"] < 0.2).tolist()),
        "chart_items": chart_item_total(items),
        "reliability": _table(rel.drop(columns=["dropped"]), 3),
        "chart_reliability": chart_reliability(rel),
        "intercorrelations": _table(both, 2, index=True),
        "chart_corr": chart_heatmap(inter),
        "n_scales": len(spec.scales),
        "rotation": rotation,
        "factor_note": "",
        "phi": None,
        "circumplex": None,
    }
    member = np.array([it.scale is not None for it in spec.items])
    r = rs.cov2cor(ia.covariance[np.ix_(member, member)])
    names = tuple(i for i, m in zip(spec.item_ids, member, strict=True) if m)
    n_eff = int(ia.items.n[member].min()) if member.any() else 0
    if n_eff <= len(names) + 1 or not np.all(np.isfinite(r)):
        ctx["factor_note"] = (
            f"Factor analysis skipped: {n_eff} complete respondents for {len(names)} items "
            "(or an item without variance)."
        )
        ctx.update(
            pa_iter=0, pa_quantile=0, pa_suggested=0, n_factors=0, chart_scree="", loadings=_table(pd.DataFrame())
        )
    else:
        pa = rs.parallel_analysis(r, n_eff, seed=seed)
        k = n_factors or max(1, min(pa.suggested, len(names) - 1))
        sol = rs.exploratory_factor_analysis(r, k, rotation=rotation, items=names)  # type: ignore[arg-type]
        load = sol.to_frame()
        load.insert(1, "scale", [spec.scales[it.scale].id for it in spec.items if it.scale is not None])
        strong = (np.abs(sol.loadings) >= 0.3).any(axis=1)
        ctx.update(
            pa_iter=pa.n_iter,
            pa_quantile=round(pa.quantile * 100),
            pa_suggested=pa.suggested,
            n_factors=k,
            chart_scree=chart_scree(pa),
            loadings=_table(load, 2, strong.tolist()),
        )
        if rotation == "promax" and k > 1:
            ctx["phi"] = _table(
                pd.DataFrame(sol.phi, index=[f"F{i + 1}" for i in range(k)], columns=[f"F{i + 1}" for i in range(k)]),
                2,
                index=True,
            )
    letters = [s.letter for s in spec.scales if s.role == "type" and s.letter]
    if spec.model == "holland" and sorted(letters) == sorted("RIASEC"):
        order = [next(i for i, s in enumerate(spec.scales) if s.letter == ch) for ch in "RIASEC"]
        ct = rs.circumplex_test(ia.intercorrelations[np.ix_(order, order)], "RIASEC")
        ctx["circumplex"] = {
            "met": ct.met,
            "predictions": ct.predictions,
            "tied": ct.tied,
            "ci": f"{ct.correspondence_index:.3f}",
            "p": f"{ct.p_value:.4f}",
            "perms": ct.permutations,
            "table": _table(ct.distance_frame(), 3),
            "chart": chart_distance(ct),
        }
    ctx["dif"] = _dif_sections(ds, groups, references or {}, dif_max_rows, seed)
    result = ds.score()
    scale_scores = result.scales.score
    steps = [1.0 / s.n_items if s.score == "mean" else 1.0 for s in spec.scales]
    ctx["chart_hist"] = chart_histograms(scale_scores, [s.id for s in spec.scales], steps)
    ctx["norms_note"] = ""
    if spec.ipsative:
        ctx["norms_note"] = "Scores of this instrument are ipsative (forced choices between scales): no norms."
        ctx["norms"] = _table(pd.DataFrame())
    else:
        nt = rs.build_norms(
            spec,
            scale_scores,
            norm_id="sample",
            version="descriptive",
            population=f"respondents in {Path(ds.source).name}",
            collected_from=dt.date.today(),
            collected_to=dt.date.today(),
            synthetic=False,
            min_group_n=1,
        )
        rows = []
        for s in spec.scales:
            t = nt.table[(nt.table["group"] == "all") & (nt.table["scale"] == s.id)]
            n = int(t["n"].iloc[0]) if len(t) else 0
            for q in (10, 25, 50, 75, 90):
                v = scale_scores[:, [x.id for x in spec.scales].index(s.id)]
                v = v[np.isfinite(v)]
                if not len(v):
                    continue
                raw = float(np.percentile(v, q, method="inverted_cdf"))
                row = t.iloc[int(np.argmin(np.abs(t["raw"].to_numpy() - raw)))]
                rows.append(
                    {
                        "scale": s.id,
                        "n": n,
                        "percentile": q,
                        "raw": raw,
                        "PR": row["pr"],
                        "T": row["t"],
                        "stanine": int(row["stanine"]),
                    }
                )
        ctx["norms"] = _table(pd.DataFrame(rows), 2)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template("technical.html.j2").render(**ctx)


__all__ = ["build_technical_report"]
