"""Researcher commands of the ``proforient`` CLI: analyze, build-norms, simulate, export.

``register(app)`` adds them to the main Typer app. Each command is a thin
wrapper over ``scoring.research``: read and validate a data set, compute,
write. ``analyze`` renders a self-contained HTML technical report (Jinja2,
matplotlib ``Figure`` objects, never pyplot).
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

import instruments
import scoring

if TYPE_CHECKING:  # imported where used: keeps every other proforient command fast to start
    from matplotlib.figure import Figure

    from scoring import research as rs

err = Console(stderr=True)
out = Console()

InstrumentOpt = Annotated[str, typer.Option("--instrument", "-i", help="vdq, sds, ppi, …")]
VersionOpt = Annotated[str | None, typer.Option("--version", help="instrument version (default: newest)")]
DefinitionOpt = Annotated[Path | None, typer.Option(help="use a definition folder instead of a shipped instrument")]
IdOpt = Annotated[str, typer.Option("--id-column", help="respondent id column ('' to number the rows)")]
MissingOpt = Annotated[
    list[str] | None,
    typer.Option("--missing-code", "-m", help="a value meaning 'not answered' (repeat or comma-separate: -m 9,99)"),
]
CovariateOpt = Annotated[
    list[str] | None,
    typer.Option("--covariate", "-c", help="an extra column to keep, e.g. gender, age_band (repeatable)"),
]
IgnoreOpt = Annotated[list[str] | None, typer.Option("--ignore", help="an extra column to skip (repeatable)")]


def _fail(message: str, code: int = 2) -> None:
    err.print("[bold red]error:[/]", end=" ")
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _split(values: Sequence[str] | None) -> list[str]:
    return [v.strip() for item in (values or []) for v in item.split(",") if v.strip()]


def _instrument(instrument: str, version: str | None, definition: Path | None) -> instruments.Instrument:
    inst = instruments.load_path(definition) if definition else instruments.load(instrument, version)
    if inst.model == "intake":
        raise ValueError(f"{inst.ref} is an intake form; the research toolkit analyses scored instruments")
    return inst


def _dataset(
    path: Path,
    inst: instruments.Instrument,
    id_column: str,
    covariates: Sequence[str],
    ignore: Sequence[str],
    missing: Sequence[str],
) -> rs.Dataset:
    from scoring import research as rs

    codes: list[object] = [int(c) if c.lstrip("+-").isdigit() else c for c in missing]
    return rs.read_dataset(
        path,
        instruments.scoring_spec(inst),
        id_column=id_column or None,
        covariates=list(dict.fromkeys(covariates)),
        ignore=ignore,
        missing_codes=codes,
    )


def _report_problems(e: rs.DatasetError) -> None:
    err.print("[bold red]error:[/]", end=" ")
    err.print(
        f"{e.source}: {len(e.problems)} problem(s); nothing was imported:",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    for p in e.problems:
        err.print(f"  {p}", highlight=False, markup=False, soft_wrap=True)
    raise typer.Exit(2)


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


# -- report ---------------------------------------------------------------------------------------

REPORT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Technical report: {{ title }}</title>
<style>
body { font-family: "Noto Sans", "DejaVu Sans", sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; } h3 { margin-top: 1.4em; }
table { border-collapse: collapse; font-size: 0.82em; margin: 0.6em 0; }
th, td { border: 1px solid #ddd; padding: 2px 6px; text-align: right; }
th { background: #f3f3f3; } td.l, th.l { text-align: left; }
tr.flag td { background: #fff2cc; }
.note { color: #555; font-size: 0.9em; } .warn { background: #fce4d6; padding: 0.5em; }
img { max-width: 100%; }
</style></head><body>
{% macro table(t) -%}
<table><tr>{% for h in t.header %}<th{% if loop.first %} class="l"{% endif %}>{{ h }}</th>{% endfor %}</tr>
{% for row in t.rows %}<tr{% if row.flag %} class="flag"{% endif %}>
{%- for c in row.cells %}<td{% if loop.first %} class="l"{% endif %}>{{ c }}</td>{% endfor %}</tr>
{% endfor %}</table>
{%- endmacro %}
<h1>Technical report: {{ title }}</h1>
<p>Instrument <b>{{ instrument }}</b> (content sha256 {{ instrument_hash }}), scoring engine {{ engine }};
data file <b>{{ source }}</b>, {{ n_rows }} administrations; report written {{ date }}.
Respondents appear by no id in this report.</p>
<p class="note">Missing-value codes declared: {{ missing_codes }}. Item analysis uses pairwise-complete
covariances (R psych's default); reversed items are scored as min + max − x (paired: −x) from the
instrument definition, never from the data.</p>

<h2>1. Item statistics</h2>
<p class="note">Means and SDs on the scored metric; p_v = share of answering respondents giving raw answer v;
r.drop = correlation of the item with the sum of the other items of its scale (psych r.drop);
α if deleted = raw α of the scale without the item. Rows with r.drop &lt; .20 are highlighted.</p>
{{ table(items) }}
<img src="{{ chart_items }}" alt="corrected item-total correlations">

<h2>2. Reliability</h2>
<p class="note">α raw and standardized (Cronbach, 1951) with Feldt's {{ confidence }} % interval (Feldt, Woodruff &amp;
Salih, 1987) and Duhachek's ase; λ6 = Guttman's λ6 on correlations with within-scale smc (psych G6(smc));
ω = McDonald's ω total from a one-factor minres model on correlations (psych omega.tot); split-half = odd–even
halves stepped up by Spearman–Brown; λ4 / β = largest / smallest split-half over all splits; SEM = SD·√(1 − α)
on the reported score metric; n = smallest pairwise n within the scale.</p>
{{ table(reliability) }}
<img src="{{ chart_reliability }}" alt="reliability by scale">

<h2>3. Scale intercorrelations</h2>
<p class="note">Below the diagonal: correlations of the scale sums; above: corrected for unreliability
(r / √(α<sub>x</sub> α<sub>y</sub>)).</p>
{{ table(intercorrelations) }}
<img src="{{ chart_corr }}" alt="scale intercorrelations">

<h2>4. Factor structure</h2>
{% if factor_note %}<p class="warn">{{ factor_note }}</p>{% else %}
<p>Horn's parallel analysis ({{ pa_iter }} random correlation matrices, {{ pa_quantile }}th percentile; Glorfeld, 1995)
suggests <b>{{ pa_suggested }}</b> factor(s); the instrument defines {{ n_scales }} scales.
Shown: minres extraction of {{ n_factors }} factor(s), {{ rotation }} rotation; |loading| ≥ .30 in bold rows.</p>
<img src="{{ chart_scree }}" alt="parallel analysis">
{{ table(loadings) }}
{% if phi %}<h3>Factor correlations</h3>{{ table(phi) }}{% endif %}
{% endif %}

{% if circumplex %}
<h2>5. RIASEC circumplex</h2>
<p>Mean scale correlation by hexagon distance (should fall from adjacent to opposite), and Hubert &amp; Arabie's
randomization test of the hexagonal order: {{ circumplex.met }} of {{ circumplex.predictions }} order predictions met,
{{ circumplex.tied }} tied; correspondence index CI = {{ circumplex.ci }}, p = {{ circumplex.p }}
({{ circumplex.perms }} relabellings).</p>
{{ table(circumplex.table) }}
<img src="{{ circumplex.chart }}" alt="correlation by hexagon distance">
{% endif %}

<h2>{{ 6 if circumplex else 5 }}. Differential item functioning</h2>
{% if not dif %}<p>No grouping variable was given (use --group), so DIF was not examined.</p>{% endif %}
{% for d in dif %}
<h3>{{ d.title }}</h3>
<p class="note">{{ d.note }}</p>
<p>{{ d.summary }}</p>
{{ table(d.table) }}
{% endfor %}

<h2>{{ 7 if circumplex else 6 }}. Norms of this sample</h2>
{% if norms_note %}<p class="warn">{{ norms_note }}</p>{% else %}
<p class="warn">Descriptive norms of <b>this data set</b> (N = {{ n_rows }}): not an official norm table.
Reports keep using criterion bands until a norm table built with <code>proforient build-norms --write</code>
from a documented sample is chosen.</p>
<p class="note">Mid-point percentile ranks PR = 100·(cf below + f/2)/N, normalized T = 50 + 10·Φ⁻¹(PR/100),
stanines from PR (4-7-12-17-20-17-12-7-4 %).</p>
{{ table(norms) }}
{% endif %}
<img src="{{ chart_hist }}" alt="score distributions">

<h2>Methods and references</h2>
<ul class="note">
<li>Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests. Psychometrika, 16, 297–334.</li>
<li>Feldt, L. S., Woodruff, D. J., &amp; Salih, F. A. (1987). Statistical inference for coefficient alpha.
 Applied Psychological Measurement, 11, 93–103.</li>
<li>Guttman, L. (1945). A basis for analyzing test-retest reliability. Psychometrika, 10, 255–282.</li>
<li>McDonald, R. P. (1999). Test theory: A unified treatment. Erlbaum.</li>
<li>Horn, J. L. (1965). A rationale and test for the number of factors in factor analysis.
 Psychometrika, 30, 179–185.</li>
<li>Hubert, L., &amp; Arabie, P. (1987). Evaluating order hypotheses within proximity matrices.
 Psychological Bulletin, 102, 172–178.</li>
<li>Holland, P. W., &amp; Thayer, D. T. (1988). Differential item performance and the Mantel–Haenszel procedure.</li>
<li>Zumbo, B. D. (1999). A handbook on the theory and methods of differential item functioning.</li>
<li>Revelle, W. psych: Procedures for psychological, psychometric, and personality research (R package).</li>
</ul>
</body></html>
"""


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
    from scoring import research as rs

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


def build_report(
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
    import jinja2

    from scoring import research as rs

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
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    return env.from_string(REPORT).render(**ctx)


def _refs(values: Sequence[str] | None) -> dict[str, str]:
    out = {}
    for v in _split(values):
        if "=" not in v:
            raise ValueError(f"--reference {v!r}: write it as variable=group, e.g. gender=female")
        k, g = v.split("=", 1)
        out[k.strip()] = g.strip()
    return out


def register(app: typer.Typer) -> None:
    """Add the researcher commands to the ``proforient`` app."""

    @app.command()
    def analyze(
        data: Annotated[Path, typer.Argument(help="CSV, XLSX or SPSS .sav: one row per administration")],
        instrument: InstrumentOpt,
        output: Annotated[Path, typer.Option("--output", "-o", help="the HTML report to write")],
        version: VersionOpt = None,
        definition: DefinitionOpt = None,
        id_column: IdOpt = "id",
        group: Annotated[
            list[str] | None, typer.Option("--group", "-g", help="grouping column for DIF (repeatable)")
        ] = None,
        reference: Annotated[
            list[str] | None, typer.Option(help="reference group, e.g. gender=female (default: the largest)")
        ] = None,
        covariate: CovariateOpt = None,
        ignore: IgnoreOpt = None,
        missing_code: MissingOpt = None,
        factors: Annotated[int | None, typer.Option(help="factors to extract (default: parallel analysis)")] = None,
        rotation: Annotated[str, typer.Option(help="promax, varimax or none")] = "promax",
        dif_max_rows: Annotated[
            int, typer.Option(help="rows used for ordinal logistic DIF (random subsample)")
        ] = 20_000,
        seed: Annotated[int, typer.Option(help="random seed (parallel analysis, subsampling)")] = 0,
    ) -> None:
        """Write an HTML technical report: item statistics, reliabilities, factor structure, DIF, norms."""
        from scoring import research as rs

        groups = _split(group)
        try:
            inst = _instrument(instrument, version, definition)
            ds = _dataset(data, inst, id_column, groups + _split(covariate), _split(ignore), _split(missing_code))
            page = build_report(
                inst,
                ds,
                groups=groups,
                references=_refs(reference),
                n_factors=factors,
                rotation=rotation,
                dif_max_rows=dif_max_rows,
                seed=seed,
            )
        except rs.DatasetError as e:
            _report_problems(e)
            return
        except (instruments.InstrumentError, ValueError) as e:
            _fail(str(e))
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(f".{output.name}.tmp")
        tmp.write_text(page, encoding="utf-8")
        os.replace(tmp, output)
        err.print(f"{ds.n_rows} administration(s) of {inst.ref} analysed → {output}")

    @app.command("build-norms")
    def build_norms_cmd(
        data: Annotated[Path, typer.Argument(help="CSV, XLSX or SPSS .sav of the norm sample's answers")],
        instrument: InstrumentOpt,
        norm_id: Annotated[str, typer.Option(help="name of the norm table, e.g. fund-2025")],
        norm_version: Annotated[str, typer.Option(help="version of the norm table, e.g. 1.0")],
        population: Annotated[str, typer.Option(help="who the sample represents")],
        collected_from: Annotated[str, typer.Option("--from", help="first collection date, YYYY-MM-DD")],
        collected_to: Annotated[str, typer.Option("--to", help="last collection date, YYYY-MM-DD")],
        version: VersionOpt = None,
        definition: DefinitionOpt = None,
        id_column: IdOpt = "id",
        group: Annotated[list[str] | None, typer.Option("--group", "-g", help="grouping column (repeatable)")] = None,
        description: Annotated[str, typer.Option(help="how the sample was drawn")] = "",
        min_group_n: Annotated[int, typer.Option(help="smallest group that gets its own table")] = 100,
        missing_code: MissingOpt = None,
        ignore: IgnoreOpt = None,
        write: Annotated[
            bool, typer.Option("--write", help="store the table under --root (otherwise only show it)")
        ] = False,
        root: Annotated[Path | None, typer.Option(help="norms folder (default: data/norms)")] = None,
    ) -> None:
        """Build a norm table (PR, T, stanine per group); stored only with --write."""
        from scoring import research as rs

        groups = _split(group)
        try:
            inst = _instrument(instrument, version, definition)
            ds = _dataset(data, inst, id_column, groups, _split(ignore), _split(missing_code))
            start, end = dt.date.fromisoformat(collected_from), dt.date.fromisoformat(collected_to)
            table = rs.build_norms(
                ds.spec,
                ds.score().scales.score,
                responses=ds.responses,
                norm_id=norm_id,
                version=norm_version,
                population=population,
                collected_from=start,
                collected_to=end,
                groups={g: ds.group(g) for g in groups},
                description=description,
                min_group_n=min_group_n,
            )
            paths = rs.write_norms(table, root or instruments.data_dir() / "norms") if write else None
        except rs.DatasetError as e:
            _report_problems(e)
            return
        except (instruments.InstrumentError, ValueError, FileExistsError) as e:
            _fail(str(e))
            return
        view = Table(
            "group",
            "scale",
            "N",
            "raw at PR 16",
            "raw at PR 50",
            "raw at PR 84",
            title=f"norm table {table.ref} for {inst.ref} (N = {table.sample.n})",
        )
        for (g, s), t in table.table.groupby(["group", "scale"], sort=False):

            def raw_at(p: float, t: pd.DataFrame = t) -> str:
                return _fmt(float(t["raw"].iloc[int(np.argmin(np.abs(t["pr"].to_numpy() - p)))]), 2)

            view.add_row(str(g), str(s), str(int(t["n"].iloc[0])), raw_at(16), raw_at(50), raw_at(84))
        out.print(view)
        if table.reliability:
            err.print(
                "Cronbach's α in the sample (stored with the table; reports draw SEM bands from it): "
                + ", ".join(f"{sid} {r.alpha:.2f}" for sid, r in table.reliability.items())
            )
        if paths is None:
            err.print("nothing written: add --write to store this table as a versioned norm file")
        else:
            err.print(f"norm table written: {paths[0]} and {paths[1]}")

    @app.command()
    def simulate(
        instrument: InstrumentOpt,
        output: Annotated[Path, typer.Option("--output", "-o", help=".csv, .xlsx or .sav")],
        rows: Annotated[int, typer.Option("--rows", "-n", help="respondents (when --groups is not given)")] = 1000,
        version: VersionOpt = None,
        definition: DefinitionOpt = None,
        groups: Annotated[
            str | None, typer.Option(help="group sizes, e.g. female=500,male=500 (first = reference)")
        ] = None,
        group_means: Annotated[str | None, typer.Option(help="latent mean shifts, e.g. male=0.3")] = None,
        dif: Annotated[list[str] | None, typer.Option(help="planted DIF, ITEM=shift[:slope] (repeatable)")] = None,
        trait_corr: Annotated[float, typer.Option(help="correlation between every two scales' traits")] = 0.3,
        missing: Annotated[float, typer.Option(help="share of answers skipped at random")] = 0.0,
        seed: Annotated[int | None, typer.Option(help="random seed")] = None,
        params_out: Annotated[Path | None, typer.Option(help="write the generating parameters as JSON here")] = None,
    ) -> None:
        """Simulate a data set from known IRT parameters (2PL / graded response)."""
        from scoring import research as rs

        try:
            inst = _instrument(instrument, version, definition)
            spec = instruments.scoring_spec(inst)
            design: int | tuple[rs.Group, ...] = rows
            if groups:
                sizes = dict(_pair(v) for v in _split([groups]))
                means = {k: float(v) for k, v in (_pair(v) for v in _split([group_means]))} if group_means else {}
                design = rs.as_groups({k: int(v) for k, v in sizes.items()}, means)
            elif group_means:
                raise ValueError("--group-means needs --groups")
            planted = []
            for d in _split(dif):
                item, rest = _pair(d)
                shift, _, slope = rest.partition(":")
                planted.append(rs.DIF(item, float(shift), float(slope) if slope else 1.0))
            sim = rs.simulate(spec, design, trait_corr=trait_corr, dif=planted, missing=missing, seed=seed)
            rs.write_table(sim.to_frame(), output)
            if params_out is not None:
                pop = sim.population_values()
                payload = {
                    "instrument": inst.ref,
                    "seed": seed,
                    "trait_corr": sim.trait_corr.tolist(),
                    "missing": missing,
                    "groups": [{"name": g.name, "n": g.n, "mean": g.mean} for g in sim.groups],
                    "dif": [{"item": d.item, "shift": d.shift, "slope": d.slope, "group": d.group} for d in sim.dif],
                    "items": [
                        {"id": i, "a": float(a), "b": [float(x) for x in b]}
                        for i, a, b in zip(spec.item_ids, sim.params.discrimination, sim.params.thresholds, strict=True)
                    ],
                    "population": [
                        {
                            "scale": p.scale,
                            "alpha": p.alpha,
                            "alpha_std": p.alpha_std,
                            "omega_total": p.omega_total,
                            "lambda6": p.lambda6,
                        }
                        for p in pop
                    ],
                    "synthetic": True,
                }
                params_out.parent.mkdir(parents=True, exist_ok=True)
                params_out.write_text(json.dumps(payload, indent=1), encoding="utf-8")
        except (instruments.InstrumentError, ValueError) as e:
            _fail(str(e))
            return
        err.print(f"{len(sim.responses)} simulated administration(s) of {inst.ref} → {output} (synthetic data)")

    @app.command()
    def export(
        data: Annotated[Path, typer.Argument(help="CSV, XLSX or SPSS .sav with respondent ids")],
        instrument: InstrumentOpt,
        output: Annotated[Path, typer.Option("--output", "-o", help=".csv, .xlsx or .sav")],
        salt_file: Annotated[Path, typer.Option(help="the study's secret salt (one line); keep it with the study")],
        create_salt: Annotated[
            bool, typer.Option(help="create --salt-file with a new random salt if it does not exist")
        ] = False,
        version: VersionOpt = None,
        definition: DefinitionOpt = None,
        id_column: IdOpt = "id",
        covariate: CovariateOpt = None,
        ignore: IgnoreOpt = None,
        missing_code: MissingOpt = None,
        scores: Annotated[bool, typer.Option(help="add the scores next to the item answers")] = True,
    ) -> None:
        """Export item answers (and scores) pseudonymized: salted hashes instead of ids, no names."""
        from scoring import research as rs

        try:
            if not salt_file.exists():
                if not create_salt:
                    raise ValueError(f"{salt_file} does not exist; pass --create-salt to start a new study")
                salt_file.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(salt_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(rs.new_study_salt() + "\n")
            salt = salt_file.read_text(encoding="utf-8").strip()
            inst = _instrument(instrument, version, definition)
            ds = _dataset(data, inst, id_column, _split(covariate), _split(ignore), _split(missing_code))
            frame = rs.export_pseudonymized(ds, output, salt=salt, include_scores=scores)
        except rs.DatasetError as e:
            _report_problems(e)
            return
        except (instruments.InstrumentError, ValueError, OSError) as e:
            _fail(str(e))
            return
        err.print(f"{len(frame)} pseudonymized row(s) of {inst.ref} → {output}")


def _pair(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise ValueError(f"{text!r}: expected name=value")
    k, v = text.split("=", 1)
    return k.strip(), v.strip()
