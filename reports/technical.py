"""The researcher's technical report: items, reliability, structure, DIF and sample norms.

One typed result, three renderings:

- ``analyze(inst, dataset, …)`` runs the research toolkit on a validated data
  set and returns a ``TechnicalReport`` (frozen pydantic models, full
  precision, NaN as ``None``);
- ``render_json`` writes it as JSON (its JSON Schema: ``json_schema()``, kept
  in ``docs/technical-report.schema.json``), ``render_xlsx`` as a workbook with
  one sheet per table, and ``render_html`` as a self-contained page (Jinja2
  template ``templates/technical.html.j2`` with autoescape and
  ``StrictUndefined``; matplotlib ``Figure`` charts embedded as PNG, never
  pyplot), numbers rounded for reading only.

The JSON and XLSX are machine output: English field names (the schema) and
English notes. The HTML page is for people and speaks Georgian or English
(``render_html(report, lang)``): every human text of the report (the notes on
undefined statistics, why a section was skipped, the DIF notes, the policies'
descriptions) is kept beside the record as a ``Text`` (a key under
``[technical]`` in ``reports/strings/*.toml`` and its values), so the page says
it in its own language while the JSON keeps the English rendering of the same
text. A report read back from JSON has only the English texts.

Every rendering names the instrument (id, version, content hash), the engine,
the data file, both missing-data policies (the analysis's deletion and the
scale scores' policy) and the missing-value codes. The research toolkit and
matplotlib are imported by this module (or inside its functions), so ``import
reports`` stays free of them; ``proforient analyze`` is a thin wrapper.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup, escape
from matplotlib.ticker import ScalarFormatter
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

import instruments
import scoring
from scoring import research as rs

from . import _format
from ._fonts import FAMILIES
from ._strings import LANGS, Strings, strings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TEMPLATES = Path(__file__).parent / "templates"
FORMATS = ("html", "json", "xlsx")
SCHEMA_VERSION = 1
Num = float | None
"""A number; ``None`` where it is undefined for the data (NaN) — JSON has no NaN."""
Deletion = Literal["pairwise", "listwise_scale", "listwise"]


def _num(v: object) -> float | None:
    if v is None:
        return None
    f = float(v)  # type: ignore[arg-type]
    return f if math.isfinite(f) else None


def _nums(values: Sequence[object] | np.ndarray) -> list[float | None]:
    return [_num(v) for v in values]


# -- human texts: a key and its values, said in either language --------------------------------------


@dataclass(frozen=True)
class Text:
    """A human text of the report as data: its key under ``[technical]`` in ``reports/strings`` and
    the values it needs (a value may be a ``Text`` itself, or a tuple of them, said in the same
    language and joined with semicolons)."""

    key: str
    values: Mapping[str, object] = field(default_factory=dict)

    def say(self, s: Strings) -> str:
        """This text in the language of ``s``.

        >>> Text("dif_too_few", {"variable": "gender"}).say(strings("en"))
        'gender has fewer than two groups; no DIF analysis.'
        """
        return s.get(f"technical.{self.key}", **{k: _said(s, v) for k, v in self.values.items()})


Said = Text | tuple[Text, ...]


def _said(s: Strings, v: object) -> str:
    if isinstance(v, Text):
        return v.say(s)
    if isinstance(v, tuple):
        return "; ".join(_said(s, x) for x in v)
    if isinstance(v, float):
        return _format.number(v, _decimals(v), s.lang, trim=False)
    return str(v)


def _decimals(v: float) -> int:
    """The decimals ``v`` is written with (0.05 → 2), at most 4."""
    text = repr(v)
    return 0 if "e" in text or "." not in text else min(4, len(text.split(".")[1].rstrip("0")))


def _en(text: Said) -> str:
    """The English rendering a record keeps (the JSON's notes)."""
    return _said(strings("en"), text)


# -- the result: one typed record -------------------------------------------------------------------


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Meta(_Record):
    """What the report is about and how it was computed."""

    format: Literal["proforient-technical-report"] = "proforient-technical-report"
    schema_version: Literal[1] = 1
    title: str
    instrument: str
    instrument_version: str
    instrument_hash: str = Field(description="sha256 of the definition's files (first 12 hex digits)")
    engine_version: str
    source: str = Field(description="the data file's name (no folder)")
    n_rows: int = Field(description="administrations in the data file")
    n_rows_analysed: int = Field(description="rows the analysis used (fewer under listwise deletion)")
    created: dt.date
    missing_codes: list[str] = Field(description="values read as 'not answered' (a blank always is)")
    missing: Deletion = Field(description="the analysis's missing-data policy (deletion)")
    missing_description: str
    scores_policy: str = Field(description="how scale scores treat skipped items (mean, SD, norms)")
    confidence: float = Field(description="level of Feldt's interval for alpha")
    groups: list[str] = Field(description="grouping variables examined for DIF")
    unused_columns: list[str] = Field(description="data-file columns left out (not items, id or covariates)")
    notes: list[str] = Field(description="statistics undefined for these data (reported as null), and why")


class ItemRow(_Record):
    """One item (psych ``alpha()`` naming in the comments)."""

    item: str
    scale: str | None
    keyed: int
    n: int = Field(description="rows that answered the item")
    missing_rate: Num
    mean: Num = Field(description="on the scored metric (reversed items reversed)")
    sd: Num
    frequencies: dict[str, Num] = Field(description="raw answer value → share of the answering rows")
    raw_r: Num = Field(description="item–total r, total = row mean of the answered items (psych raw.r)")
    std_r: Num = Field(description="psych std.r")
    r_cor: Num = Field(description="psych r.cor")
    r_drop: Num = Field(description="corrected item–total r (psych r.drop)")
    alpha_if_deleted: Num
    std_alpha_if_deleted: Num
    g6_if_deleted: Num
    average_r_if_deleted: Num


class ScaleRow(_Record):
    """One scale's reliability."""

    scale: str
    items: int
    n: int = Field(description="rows the estimates use (Feldt's interval and ase too)")
    n_scores: int = Field(description="scale scores behind mean and sd")
    alpha: Num
    alpha_std: Num
    alpha_lo: Num
    alpha_hi: Num
    ase: Num
    average_r: Num
    s_n: Num
    lambda6: Num = Field(description="Guttman's lambda 6, psych G6(smc)")
    omega_total: Num
    split_half: Num
    lambda4: Num
    beta: Num
    mean: Num
    sd: Num
    sem: Num
    dropped: list[str] = Field(description="items left out because nobody varied on them")


class Matrix(_Record):
    labels: list[str]
    values: list[list[Num]]


class Parallel(_Record):
    observed: list[float]
    random_mean: list[float]
    random_quantile: list[float]
    quantile: float
    n_iter: int
    suggested: int


class Loading(_Record):
    item: str
    scale: str
    loadings: list[Num]
    communality: Num


class Factor(_Record):
    skipped: str | None = Field(description="why no factor analysis was run, or null")
    parallel: Parallel | None
    n_factors: int
    rotation: str
    loadings: list[Loading]
    phi: Matrix | None = Field(description="factor correlations (promax with two or more factors)")


class Circumplex(_Record):
    labels: list[str]
    mean_r_by_distance: dict[str, Num] = Field(description="hexagon steps (1, 2, 3) → mean correlation")
    predictions: int
    met: int
    tied: int
    violated: int
    correspondence_index: float
    p_value: float
    permutations: int
    exact: bool


class MantelHaenszelRow(_Record):
    item: str
    n_reference: int
    n_focal: int
    alpha_mh: Num
    d_dif: Num
    se_d: Num
    chi2: Num
    p_value: Num
    ets_class: str
    flagged: bool


class LogisticRow(_Record):
    item: str
    n: int
    chi2_uniform: Num
    p_uniform: Num
    chi2_nonuniform: Num
    p_nonuniform: Num
    chi2_total: Num
    p_total: Num
    p_adjusted: Num
    group_effect: Num
    delta_r2: Num
    effect_class: str
    flagged: bool


class DifSection(_Record):
    variable: str
    reference: str | None
    focal: str | None
    method: Literal["mantel_haenszel", "ordinal_logistic", "none"]
    note: str
    summary: str
    mantel_haenszel: list[MantelHaenszelRow] = []
    ordinal_logistic: list[LogisticRow] = []


class Distribution(_Record):
    """One scale's score distribution in this sample (every score that occurs or is attainable)."""

    scale: str
    n: int
    step: float = Field(description="spacing of attainable complete scores")
    raw: list[float]
    freq: list[int]
    pr: list[float]
    t: list[float]
    stanine: list[int]


class NormRow(_Record):
    scale: str
    n: int
    percentile: int
    raw: float
    pr: float
    t: float
    stanine: int


class Norms(_Record):
    skipped: str | None
    rows: list[NormRow]
    distributions: list[Distribution]


class TechnicalReport(_Record):
    """The whole analysis of one data set: what ``proforient analyze`` writes as JSON, XLSX or HTML."""

    meta: Meta
    items: list[ItemRow]
    scales: list[ScaleRow]
    intercorrelations: Matrix = Field(description="correlations of the scale sums")
    disattenuated: Matrix = Field(description="corrected for unreliability: r / sqrt(alpha_x alpha_y)")
    factor: Factor
    circumplex: Circumplex | None
    dif: list[DifSection]
    norms: Norms
    _texts: dict[str, Said] = PrivateAttr(default_factory=dict)
    _titles: dict[str, str] = PrivateAttr(default_factory=dict)

    def texts(self) -> dict[str, Said]:
        """The human texts as data, by where the record keeps their English (``meta.notes``,
        ``factor.skipped``, ``dif.0.note`` …); empty for a report read back from JSON."""
        return self._texts

    def titles(self) -> dict[str, str]:
        """The instrument's title in each language it has (empty for a report read back from JSON)."""
        return self._titles


def json_schema() -> dict[str, Any]:
    """The JSON Schema of ``render_json``'s output (kept in ``docs/technical-report.schema.json``)."""
    schema = TechnicalReport.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


# -- the analysis -----------------------------------------------------------------------------------


def analyze(
    inst: instruments.Instrument,
    ds: rs.Dataset,
    *,
    groups: Sequence[str] = (),
    references: Mapping[str, str] | None = None,
    n_factors: int | None = None,
    rotation: str = "promax",
    dif_max_rows: int = 20_000,
    seed: int = 0,
    confidence: float = 0.95,
    missing: Deletion = "pairwise",
    scores: scoring.MissingPolicy | None = None,
    created: dt.date | None = None,
) -> TechnicalReport:
    """Analyse a validated data set: items, reliability, structure, circumplex, DIF, sample norms.

    ``missing`` is the analysis's deletion policy (pairwise, listwise_scale or
    listwise; see ``scoring.research.item_analysis``) and ``scores`` the scale
    scores' ``MissingPolicy`` (default: each definition's rule); both are named
    in the result, as is every statistic that was undefined for the data.
    """
    spec = ds.spec
    ia = rs.item_analysis(spec, ds.responses, confidence=confidence, missing=missing, scores=scores)
    policy = scores or scoring.MissingPolicy()
    frame = ia.items.to_frame()
    items = [
        ItemRow(
            item=str(r["item"]),
            scale=str(r["scale"]) or None,
            keyed=int(r["keyed"]),
            n=int(r["n"]),
            missing_rate=_num(r["missing_rate"]),
            mean=_num(r["mean"]),
            sd=_num(r["sd"]),
            frequencies={str(v): _num(r[f"p_{v}"]) for v in ia.items.values},
            raw_r=_num(r["raw_r"]),
            std_r=_num(r["std_r"]),
            r_cor=_num(r["r_cor"]),
            r_drop=_num(r["r_drop"]),
            alpha_if_deleted=_num(r["alpha_if_deleted"]),
            std_alpha_if_deleted=_num(r["std_alpha_if_deleted"]),
            g6_if_deleted=_num(r["g6_if_deleted"]),
            average_r_if_deleted=_num(r["average_r_if_deleted"]),
        )
        for r in frame.to_dict(orient="records")
    ]
    scales = [
        ScaleRow(
            scale=s.scale,
            items=s.n_items,
            n=s.n,
            n_scores=s.n_scores,
            alpha=_num(s.alpha),
            alpha_std=_num(s.alpha_std),
            alpha_lo=_num(s.alpha_ci[0]),
            alpha_hi=_num(s.alpha_ci[1]),
            ase=_num(s.ase),
            average_r=_num(s.average_r),
            s_n=_num(s.signal_noise),
            lambda6=_num(s.lambda6),
            omega_total=_num(s.omega_total),
            split_half=_num(s.split_half),
            lambda4=_num(s.lambda4),
            beta=_num(s.beta),
            mean=_num(s.mean),
            sd=_num(s.sd),
            sem=_num(s.sem),
            dropped=list(s.dropped),
        )
        for s in ia.scales
    ]
    labels = list(ia.scale_ids)
    note_texts = tuple(_note_text(n) for n in ia.note_data)
    texts: dict[str, Said] = {
        "meta.missing_description": Text(f"missing.{missing}"),
        "meta.scores_policy": _policy_text(policy),
        "meta.notes": note_texts,
    }
    notes = [f"{spec.ref}: {_en(n)}" for n in note_texts]
    meta = Meta(
        title=f"{_title(inst)} ({inst.ref})",
        instrument=inst.id,
        instrument_version=inst.version,
        instrument_hash=inst.content_hash[:12],
        engine_version=scoring.ENGINE_VERSION,
        source=Path(ds.source).name,
        n_rows=ds.n_rows,
        n_rows_analysed=ia.n_rows,
        created=created or dt.date.today(),
        missing_codes=list(ds.missing_codes),
        missing=missing,
        missing_description=_en(texts["meta.missing_description"]),
        scores_policy=_en(texts["meta.scores_policy"]),
        confidence=confidence,
        groups=list(groups),
        unused_columns=list(ds.unused_columns),
        notes=notes,
    )
    report = TechnicalReport(
        meta=meta,
        items=items,
        scales=scales,
        intercorrelations=Matrix(labels=labels, values=[_nums(row) for row in ia.intercorrelations]),
        disattenuated=Matrix(labels=labels, values=[_nums(row) for row in ia.disattenuated]),
        factor=_factor(spec, ia, n_factors, rotation, seed, texts),
        circumplex=_circumplex(spec, ia),
        dif=_dif_sections(ds, groups, references or {}, dif_max_rows, seed, texts),
        norms=_norms(spec, ds, policy, texts),
    )
    report.texts().update(texts)
    report.titles().update({lang: f"{_title(inst, lang)} ({inst.ref})" for lang in LANGS})
    return report


def _title(inst: instruments.Instrument, lang: str = "en") -> str:
    return inst.title.get(lang) if inst.title.has(lang) else inst.title.get(inst.languages[0])


def _policy_text(policy: scoring.MissingPolicy) -> Text:
    """``MissingPolicy.describe`` as a ``Text``."""
    when = (
        Text("scores.when_default")
        if policy.min_answered is None
        else Text("scores.when_min", {"n": policy.min_answered})
    )
    return Text(f"scores.{policy.method}", {"when": when})


def _note_text(note: rs.AnalysisNote) -> Text:
    """One of the item analysis's notes on undefined statistics as a ``Text``."""
    if note.code == "not_varying":
        return Text("note.not_varying", {"scale": note.scale, "items": ", ".join(note.items)})
    if note.code == "too_few_varying":
        return Text("note.too_few_varying", {"scale": note.scale})
    parts = tuple(Text(f"note.{u}", {"rows": note.rows, "items": note.n_items}) for u in note.undefined)
    key = "note.undefined_uncorrelated" if note.uncorrelated else "note.undefined"
    return Text(key, {"scale": note.scale, "parts": parts})


def _factor(
    spec: scoring.InstrumentSpec,
    ia: rs.ItemAnalysis,
    n_factors: int | None,
    rotation: str,
    seed: int,
    texts: dict[str, Said],
) -> Factor:
    member = np.array([it.scale is not None for it in spec.items])
    r = rs.cov2cor(ia.covariance[np.ix_(member, member)])
    names = tuple(i for i, m in zip(spec.item_ids, member, strict=True) if m)
    n_eff = int(ia.items.n[member].min()) if member.any() else 0
    if n_eff <= len(names) + 1 or not np.all(np.isfinite(r)):
        why = texts["factor.skipped"] = Text("factor_skipped", {"n": n_eff, "items": len(names)})
        return Factor(skipped=_en(why), parallel=None, n_factors=0, rotation=rotation, loadings=[], phi=None)
    pa = rs.parallel_analysis(r, n_eff, seed=seed)
    k = n_factors or max(1, min(pa.suggested, len(names) - 1))
    sol = rs.exploratory_factor_analysis(r, k, rotation=rotation, items=names)  # type: ignore[arg-type]
    scale_of = [spec.scales[it.scale].id for it in spec.items if it.scale is not None]
    loadings = [
        Loading(item=i, scale=s, loadings=_nums(sol.loadings[j]), communality=_num(sol.communalities[j]))
        for j, (i, s) in enumerate(zip(names, scale_of, strict=True))
    ]
    phi = None
    if rotation == "promax" and k > 1:
        phi = Matrix(labels=[f"F{i + 1}" for i in range(k)], values=[_nums(row) for row in sol.phi])
    return Factor(
        skipped=None,
        parallel=Parallel(
            observed=[float(v) for v in pa.observed],
            random_mean=[float(v) for v in pa.random_mean],
            random_quantile=[float(v) for v in pa.random_quantile],
            quantile=pa.quantile,
            n_iter=pa.n_iter,
            suggested=pa.suggested,
        ),
        n_factors=k,
        rotation=rotation,
        loadings=loadings,
        phi=phi,
    )


def _circumplex(spec: scoring.InstrumentSpec, ia: rs.ItemAnalysis) -> Circumplex | None:
    letters = [s.letter for s in spec.scales if s.role == "type" and s.letter]
    if spec.model != "holland" or sorted(letters) != sorted("RIASEC"):
        return None
    order = [next(i for i, s in enumerate(spec.scales) if s.letter == ch) for ch in "RIASEC"]
    m = ia.intercorrelations[np.ix_(order, order)]
    if not np.all(np.isfinite(m)):
        return None
    ct = rs.circumplex_test(m, "RIASEC")
    return Circumplex(
        labels=list(ct.labels),
        mean_r_by_distance={str(k): _num(v) for k, v in ct.by_distance.items()},
        predictions=ct.predictions,
        met=ct.met,
        tied=ct.tied,
        violated=ct.violated,
        correspondence_index=ct.correspondence_index,
        p_value=ct.p_value,
        permutations=ct.permutations,
        exact=ct.exact,
    )


def _dif_sections(
    ds: rs.Dataset,
    groups: Sequence[str],
    references: Mapping[str, str],
    max_rows: int,
    seed: int,
    texts: dict[str, Said],
) -> list[DifSection]:
    spec = ds.spec
    sections: list[DifSection] = []
    for var in groups:
        labels = ds.group(var)
        clean = np.array(
            ["" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v).strip() for v in labels],
            dtype=object,
        )
        levels = pd.Series(clean[clean != ""]).value_counts()
        if len(levels) < 2:
            summary = texts[f"dif.{len(sections)}.summary"] = Text("dif_too_few", {"variable": var})
            sections.append(
                DifSection(variable=var, reference=None, focal=None, method="none", note="", summary=_en(summary))
            )
            continue
        ref = references.get(var, str(levels.index[0]))
        if ref not in levels.index:
            raise ValueError(f"--reference {var}={ref}: no such group (groups: {', '.join(levels.index)})")
        for focal in [lv for lv in levels.index if lv != ref]:
            if spec.kind == "binary":
                res = rs.mantel_haenszel(spec, ds.responses, clean, reference=ref, focal=focal)
                classes = np.array(res.ets_class)
                note = texts[f"dif.{len(sections)}.note"] = Text("dif_mh_note")
                summary = texts[f"dif.{len(sections)}.summary"] = Text(
                    "dif_mh_summary",
                    {
                        "reference": ref,
                        "n_reference": int(res.n_reference.max(initial=0)),
                        "focal": focal,
                        "n_focal": int(res.n_focal.max(initial=0)),
                        "b": int((classes == "B").sum()),
                        "c": int((classes == "C").sum()),
                    },
                )
                sections.append(
                    DifSection(
                        variable=var,
                        reference=ref,
                        focal=str(focal),
                        method="mantel_haenszel",
                        note=_en(note),
                        summary=_en(summary),
                        mantel_haenszel=[
                            MantelHaenszelRow(
                                item=it,
                                n_reference=int(res.n_reference[j]),
                                n_focal=int(res.n_focal[j]),
                                alpha_mh=_num(res.alpha_mh[j]),
                                d_dif=_num(res.d_dif[j]),
                                se_d=_num(res.se_d[j]),
                                chi2=_num(res.chi2[j]),
                                p_value=_num(res.p_value[j]),
                                ets_class=res.ets_class[j],
                                flagged=bool(res.flagged[j]),
                            )
                            for j, it in enumerate(res.items)
                        ],
                    )
                )
            else:
                olr = rs.ordinal_logistic_dif(
                    spec, ds.responses, clean, reference=ref, focal=focal, max_rows=max_rows, seed=seed
                )
                sub = Text("dif_subsample", {"n": max_rows}) if ds.n_rows > max_rows else ""
                note = texts[f"dif.{len(sections)}.note"] = Text("dif_olr_note", {"subsample": sub})
                summary = texts[f"dif.{len(sections)}.summary"] = Text(
                    "dif_olr_summary",
                    {
                        "reference": ref,
                        "focal": focal,
                        "flagged": int(olr.flagged.sum()),
                        "n_items": len(olr.flagged),
                        "alpha": float(olr.alpha),
                        "large": int((np.array(olr.effect_class) != "A").sum()),
                    },
                )
                sections.append(
                    DifSection(
                        variable=var,
                        reference=ref,
                        focal=str(focal),
                        method="ordinal_logistic",
                        note=_en(note),
                        summary=_en(summary),
                        ordinal_logistic=[
                            LogisticRow(
                                item=it,
                                n=int(olr.n[j]),
                                chi2_uniform=_num(olr.chi2_uniform[j]),
                                p_uniform=_num(olr.p_uniform[j]),
                                chi2_nonuniform=_num(olr.chi2_nonuniform[j]),
                                p_nonuniform=_num(olr.p_nonuniform[j]),
                                chi2_total=_num(olr.chi2_total[j]),
                                p_total=_num(olr.p_total[j]),
                                p_adjusted=_num(olr.p_adjusted[j]),
                                group_effect=_num(olr.group_effect[j]),
                                delta_r2=_num(olr.delta_r2[j]),
                                effect_class=olr.effect_class[j],
                                flagged=bool(olr.flagged[j]),
                            )
                            for j, it in enumerate(olr.items)
                        ],
                    )
                )
    return sections


def _norms(
    spec: scoring.InstrumentSpec, ds: rs.Dataset, policy: scoring.MissingPolicy, texts: dict[str, Said]
) -> Norms:
    if spec.ipsative:
        why = texts["norms.skipped"] = Text("norms_ipsative")
        return Norms(skipped=_en(why), rows=[], distributions=[])
    scale_scores = scoring.score(spec, ds.responses, ids=ds.ids, missing=policy).scales.score
    if not np.isfinite(scale_scores).any():
        why = texts["norms.skipped"] = Text("norms_unscored")
        return Norms(skipped=_en(why), rows=[], distributions=[])
    today = dt.date.today()
    nt = rs.build_norms(
        spec,
        scale_scores,
        norm_id="sample",
        version="descriptive",
        population=f"respondents in {Path(ds.source).name}",
        collected_from=today,
        collected_to=today,
        synthetic=False,
        min_group_n=1,
    )
    rows: list[NormRow] = []
    dists: list[Distribution] = []
    for k, s in enumerate(spec.scales):
        t = nt.table[(nt.table["group"] == "all") & (nt.table["scale"] == s.id)]
        v = scale_scores[:, k]
        v = v[np.isfinite(v)]
        if not len(t) or not len(v):
            continue
        n = int(t["n"].iloc[0])
        dists.append(
            Distribution(
                scale=s.id,
                n=n,
                step=1.0 / s.n_items if s.score == "mean" else 1.0,
                raw=[float(x) for x in t["raw"]],
                freq=[int(x) for x in t["freq"]],
                pr=[float(x) for x in t["pr"]],
                t=[float(x) for x in t["t"]],
                stanine=[int(x) for x in t["stanine"]],
            )
        )
        for q in (10, 25, 50, 75, 90):
            raw = float(np.percentile(v, q, method="inverted_cdf"))
            row = t.iloc[int(np.argmin(np.abs(t["raw"].to_numpy() - raw)))]
            rows.append(
                NormRow(
                    scale=s.id,
                    n=n,
                    percentile=q,
                    raw=raw,
                    pr=float(row["pr"]),
                    t=float(row["t"]),
                    stanine=int(row["stanine"]),
                )
            )
    return Norms(skipped=None, rows=rows, distributions=dists)


# -- renderings -------------------------------------------------------------------------------------


def render_json(report: TechnicalReport) -> str:
    """The report as JSON at full precision (``null`` where a statistic is undefined)."""
    return report.model_dump_json(indent=1)


def _sheets(report: TechnicalReport) -> dict[str, pd.DataFrame]:
    m = report.meta
    meta = pd.DataFrame(
        [
            (k, ", ".join(map(str, v)) if isinstance(v, list) else (v.isoformat() if isinstance(v, dt.date) else v))
            for k, v in m.model_dump().items()
        ],
        columns=["field", "value"],
    )
    item_rows = []
    for it in report.items:
        row = it.model_dump(exclude={"frequencies"})
        row.update({f"p_{k}": v for k, v in it.frequencies.items()})
        item_rows.append(row)
    sheets = {
        "meta": meta,
        "items": pd.DataFrame(item_rows),
        "reliability": pd.DataFrame([{**s.model_dump(), "dropped": ";".join(s.dropped)} for s in report.scales]),
        "intercorrelations": _matrix_frame(report.intercorrelations),
        "disattenuated": _matrix_frame(report.disattenuated),
    }
    f = report.factor
    if f.parallel is not None:
        sheets["parallel_analysis"] = pd.DataFrame(
            {
                "component": range(1, len(f.parallel.observed) + 1),
                "observed": f.parallel.observed,
                "random_mean": f.parallel.random_mean,
                "random_quantile": f.parallel.random_quantile,
            }
        )
        sheets["loadings"] = pd.DataFrame(
            [
                {
                    "item": ld.item,
                    "scale": ld.scale,
                    **{f"F{k + 1}": v for k, v in enumerate(ld.loadings)},
                    "h2": ld.communality,
                }
                for ld in f.loadings
            ]
        )
        if f.phi is not None:
            sheets["factor_correlations"] = _matrix_frame(f.phi)
    if report.circumplex is not None:
        c = report.circumplex
        sheets["circumplex"] = pd.DataFrame(
            [{"distance": int(k), "mean_r": v} for k, v in c.mean_r_by_distance.items()]
            + [
                {"distance": None, "mean_r": None, "statistic": k, "value": getattr(c, k)}
                for k in ("predictions", "met", "tied", "violated", "correspondence_index", "p_value", "permutations")
            ]
        )
    dif_rows = []
    for d in report.dif:
        for r in (*d.mantel_haenszel, *d.ordinal_logistic):
            dif_rows.append(
                {
                    "variable": d.variable,
                    "reference": d.reference,
                    "focal": d.focal,
                    "method": d.method,
                    **r.model_dump(),
                }
            )
    if dif_rows:
        sheets["dif"] = pd.DataFrame(dif_rows)
    if report.norms.rows:
        sheets["norms"] = pd.DataFrame([r.model_dump() for r in report.norms.rows])
        sheets["distributions"] = pd.DataFrame(
            [
                {"scale": d.scale, "n": d.n, "raw": raw, "freq": fr, "pr": pr, "t": t, "stanine": st}
                for d in report.norms.distributions
                for raw, fr, pr, t, st in zip(d.raw, d.freq, d.pr, d.t, d.stanine, strict=True)
            ]
        )
    return sheets


def _matrix_frame(m: Matrix) -> pd.DataFrame:
    frame = pd.DataFrame(m.values, columns=m.labels)
    frame.insert(0, "", m.labels)
    return frame


def render_xlsx(report: TechnicalReport) -> bytes:
    """The report as an XLSX workbook, one sheet per table, numbers at full precision."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, frame in _sheets(report).items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buf.getvalue()


def render(report: TechnicalReport, fmt: str, lang: str = "ka") -> bytes:
    """``render_html`` (in ``lang``), ``render_json`` or ``render_xlsx`` by name, as bytes."""
    if fmt == "html":
        return render_html(report, lang).encode("utf-8")
    if fmt == "json":
        return render_json(report).encode("utf-8")
    if fmt == "xlsx":
        return render_xlsx(report)
    raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


# -- HTML: charts and tables (rounded for reading only) ---------------------------------------------


def _figure(width: float, height: float) -> Figure:
    """A matplotlib ``Figure`` (object API, Agg canvas on save; never pyplot)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


class _DecimalFormatter(ScalarFormatter):
    """matplotlib's tick labels with the language's decimal sign."""

    def __init__(self, sign: str) -> None:
        super().__init__()
        self.sign = sign

    def __call__(self, x: float, pos: int | None = None) -> str:
        return str(super().__call__(x, pos)).replace(".", self.sign)


@contextmanager
def _georgian_fonts() -> Iterator[None]:
    """Chart texts drawn with the reports' font stack (Noto Sans Georgian first: Georgian labels)."""
    import matplotlib

    with matplotlib.rc_context({"font.family": list(FAMILIES)}):
        yield


def _png(fig: Figure, tight: bool = True, lang: str = "en") -> str:
    if lang != "en":  # the language's decimal sign on the numeric axes (category labels stay as set)
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                if type(axis.get_major_formatter()) is ScalarFormatter:
                    axis.set_major_formatter(_DecimalFormatter(_format.number(0.5, 1, lang)[1]))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight" if tight else None)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _arr(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def chart_reliability(scales: Sequence[ScaleRow], s: Strings) -> str:
    fig = _figure(7, 0.35 * len(scales) + 1.2)
    ax = fig.add_subplot()
    y = np.arange(len(scales))[::-1]
    alpha = _arr([r.alpha for r in scales])
    lo = np.clip(alpha - _arr([r.alpha_lo for r in scales]), 0, None)
    hi = np.clip(_arr([r.alpha_hi for r in scales]) - alpha, 0, None)
    ax.errorbar(
        alpha,
        y,
        xerr=[np.nan_to_num(lo), np.nan_to_num(hi)],
        fmt="o",
        color="#1f4e79",
        label=s.get("technical.chart.alpha_ci"),
    )
    omega = _arr([r.omega_total for r in scales])
    ax.plot(omega, y, "s", color="#c55a11", label=s.get("technical.chart.omega"), alpha=0.8)
    ax.set_yticks(y, [r.scale for r in scales])
    low = _arr([r.alpha_lo for r in scales])
    ax.set_xlim(min(0.0, float(np.nanmin(low)) - 0.05) if np.isfinite(low).any() else 0.0, 1.0)
    ax.axvline(0.7, color="grey", lw=0.8, ls="--")
    ax.set_xlabel(s.get("technical.chart.reliability"))
    ax.legend(loc="lower left", fontsize=8)
    return _png(fig, lang=s.lang)


def chart_item_total(items: Sequence[ItemRow], s: Strings) -> str:
    data = [it for it in items if it.scale]
    fig = _figure(max(6.0, 0.16 * len(data) + 2), 3.2)
    ax = fig.add_subplot()
    scales = list(dict.fromkeys(it.scale for it in data))
    colors = [f"C{scales.index(it.scale) % 10}" for it in data]
    ax.bar(np.arange(len(data)), np.nan_to_num(_arr([it.r_drop for it in data])), color=colors)
    ax.axhline(0.3, color="grey", lw=0.8, ls="--")
    ax.set_ylabel(s.get("technical.chart.r_drop"))
    ax.set_xticks(np.arange(len(data)), [it.item for it in data], rotation=90, fontsize=6)
    return _png(fig, lang=s.lang)


def chart_heatmap(m: Matrix, lang: str = "en") -> str:
    k = len(m.labels)
    values = np.array([_arr(row) for row in m.values])
    fig = _figure(0.45 * k + 2.5, 0.45 * k + 1.8)
    ax = fig.add_subplot()
    im = ax.imshow(values, vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(k), m.labels, rotation=90, fontsize=7)
    ax.set_yticks(range(k), m.labels, fontsize=7)
    if k <= 12:
        for i in range(k):
            for j in range(k):
                if np.isfinite(values[i, j]):
                    cell = _format.number(float(values[i, j]), 2, lang, trim=False)
                    ax.text(j, i, cell, ha="center", va="center", fontsize=6)
    fig.colorbar(im, ax=ax, shrink=0.8)
    return _png(fig, lang=lang)


def chart_scree(pa: Parallel, s: Strings) -> str:
    fig = _figure(6, 3.2)
    ax = fig.add_subplot()
    x = np.arange(1, len(pa.observed) + 1)
    ax.plot(x, pa.observed, "o-", label=s.get("technical.chart.observed"))
    ax.plot(x, pa.random_quantile, "--", label=s.get("technical.chart.random", q=round(pa.quantile * 100)))
    ax.set_xlabel(s.get("technical.chart.component"))
    ax.set_ylabel(s.get("technical.chart.eigenvalue"))
    ax.legend(fontsize=8)
    return _png(fig, lang=s.lang)


def chart_distance(ct: Circumplex, s: Strings) -> str:
    fig = _figure(4, 3)
    ax = fig.add_subplot()
    steps = [int(k) for k in ct.mean_r_by_distance]
    ax.plot(steps, _arr(list(ct.mean_r_by_distance.values())), "o-")
    names = [s.get(f"technical.chart.{k}") for k in ("adjacent", "alternate", "opposite")]
    ax.set_xticks(steps, names[: len(steps)])
    ax.set_ylabel(s.get("technical.chart.mean_r"))
    return _png(fig, lang=s.lang)


def chart_histograms(dists: Sequence[Distribution], lang: str = "en") -> str:
    """One bar chart per scale: the frequency of every score in the sample."""
    k = max(1, len(dists))
    cols = min(4, k)
    rows = math.ceil(k / cols)
    fig = _figure(2.6 * cols, 2.0 * rows)
    for i, d in enumerate(dists):
        ax = fig.add_subplot(rows, cols, i + 1)
        raw, freq = np.array(d.raw), np.array(d.freq)
        seen = freq > 0
        if seen.any():
            ax.bar(raw[seen], freq[seen], width=d.step * 0.9, color="#5b9bd5")
        ax.set_title(d.scale, fontsize=8)
        ax.tick_params(labelsize=6)
    fig.subplots_adjust(left=0.06, right=0.98, bottom=0.08, top=0.92, hspace=0.6, wspace=0.3)
    return _png(fig, tight=False, lang=lang)


def _fmt(v: object, digits: int, lang: str) -> str:
    """A table cell: numbers in the language's way (``_format.number``), undefined ones empty."""
    if v is None:
        return ""
    if isinstance(v, bool | np.bool_):
        return "✓" if v else ""
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return "" if not np.isfinite(v) else _format.number(float(v), digits, lang, trim=False)
    if isinstance(v, list):
        return ";".join(map(str, v))
    return str(v)


def _table(
    s: Strings,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    digits: int = 3,
    flag: Sequence[bool] | None = None,
) -> dict[str, Any]:
    """A table for the template; a header that is a field name is shown in the page's language."""
    return {
        "header": [s.get(f"technical.col.{h}") if f"technical.col.{h}" in s else h for h in header],
        "rows": [
            {"cells": [_fmt(c, digits, s.lang) for c in row], "flag": bool(flag[i]) if flag is not None else False}
            for i, row in enumerate(rows)
        ],
    }


def _matrix_table(s: Strings, m: Matrix, below: Matrix | None = None, digits: int = 2) -> dict[str, Any]:
    """A square table; with ``below``, ``m`` above the diagonal and ``below`` under it."""
    k = len(m.labels)
    rows = []
    for i in range(k):
        cells: list[object] = [m.labels[i]]
        for j in range(k):
            src = below if below is not None and j < i else m
            cells.append(src.values[i][j])
        rows.append(cells)
    table = _table(s, ["", *m.labels], rows, digits)
    table["header"] = [Markup("_<wbr>").join(escape(h).split("_")) for h in table["header"]]  # scale names may break
    return table


class _Page:
    """The page's texts in one language: ``t`` for the template's own sentences (HTML-escaped, values
    in bold where the template asks), ``said`` for the record's texts (from their ``Text``)."""

    def __init__(self, report: TechnicalReport, s: Strings) -> None:
        self.s = s
        self.texts = report.texts()

    def t(self, key: str, /, **values: object) -> Markup:
        return Markup(escape(self.s.raw(f"technical.{key}"))).format(**values)  # noqa: S704 - escaped above

    def said(self, where: str, english: str | None) -> str:
        """The record's text at ``where`` in this language (its English when the report was read
        back from JSON and the page is English)."""
        if where in self.texts:
            return _said(self.s, self.texts[where])
        if self.s.lang == "en" or not english:
            return english or ""
        raise ValueError(
            f"the report's text {where} is only in English (the report was read back from JSON); render it in English"
        )


def _bold(v: object) -> Markup:
    return Markup("<b>{}</b>").format(v)


def render_html(report: TechnicalReport, lang: str = "ka") -> str:
    """The report as a self-contained HTML page in ``lang`` ('ka' or 'en'); numbers rounded for
    reading only."""
    s = strings(lang)
    page = _Page(report, s)
    m = report.meta
    values = list(report.items[0].frequencies) if report.items else []
    scored = [it for it in report.items if it.scale]
    item_header = ["item", "scale", "keyed", "n", "mean", "sd", *[f"p_{v}" for v in values]]
    item_header += ["raw_r", "r_drop", "alpha_if_deleted", "std_alpha_if_deleted"]
    items = _table(
        s,
        item_header,
        [
            [it.item, it.scale, it.keyed, it.n, it.mean, it.sd, *it.frequencies.values(), it.raw_r, it.r_drop]
            + [it.alpha_if_deleted, it.std_alpha_if_deleted]
            for it in scored
        ],
        flag=[it.r_drop is not None and it.r_drop < 0.2 for it in scored],
    )
    rel_cols = [c for c in ScaleRow.model_fields if c != "dropped"]
    reliability = _table(s, rel_cols, [[getattr(r, c) for c in rel_cols] for r in report.scales])
    f = report.factor
    loadings = _table(
        s,
        ["item", "scale", *[f"F{k + 1}" for k in range(f.n_factors)], "h2"],
        [[ld.item, ld.scale, *ld.loadings, ld.communality] for ld in f.loadings],
        2,
        [any(v is not None and abs(v) >= 0.3 for v in ld.loadings) for ld in f.loadings],
    )
    circ = report.circumplex
    dif = []
    for i, d in enumerate(report.dif):
        if d.method == "mantel_haenszel":
            cols = [c for c in MantelHaenszelRow.model_fields if c != "flagged"]
            table = _table(s, cols, [[getattr(r, c) for c in cols] for r in d.mantel_haenszel], 3,
                           [r.flagged for r in d.mantel_haenszel])  # fmt: skip
        elif d.method == "ordinal_logistic":
            cols = [c for c in LogisticRow.model_fields if c != "flagged"]
            table = _table(s, cols, [[getattr(r, c) for c in cols] for r in d.ordinal_logistic], 3,
                           [r.flagged for r in d.ordinal_logistic])  # fmt: skip
        else:
            table = _table(s, [], [])
        heading = (
            page.t("dif_title_groups", variable=d.variable, focal=d.focal, reference=d.reference)
            if d.focal
            else page.t("dif_title", variable=d.variable)
        )
        note = page.said(f"dif.{i}.note", d.note)
        dif.append(
            {"title": heading, "note": note, "summary": page.said(f"dif.{i}.summary", d.summary), "table": table}
        )
    norm_cols = list(NormRow.model_fields)
    rotation_key = f"rotation.{f.rotation}" if f"technical.rotation.{f.rotation}" in s else "rotation.other"
    t = page.t
    title = report.titles().get(lang, m.title)
    ctx: dict[str, Any] = {
        "lang": lang,
        "title": t("title", title=title),
        "intro": t(
            "intro",
            instrument=_bold(f"{m.instrument}@{m.instrument_version}"),
            hash=m.instrument_hash,
            engine=m.engine_version,
            source=_bold(m.source),
            n_rows=m.n_rows,
            analysed=t("analysed", n=m.n_rows_analysed) if m.n_rows_analysed != m.n_rows else "",
            date=_format.day(m.created, lang),
        ),
        "missing_codes": t("missing_codes", codes=", ".join(m.missing_codes) or t("no_missing_codes")),
        "missing_analysis": t(
            "missing_analysis", description=_bold(page.said("meta.missing_description", m.missing_description))
        ),
        "scores_note": t("scores_note", policy=_bold(page.said("meta.scores_policy", m.scores_policy))),
        "unused": t("unused", columns=", ".join(m.unused_columns)) if m.unused_columns else "",
        "notes": _notes(report, page),
        "t": t,
        "items": items,
        "chart_items": "",
        "reliability": reliability,
        "reliability_note": t("reliability_note", confidence=round(m.confidence * 100)),
        "chart_reliability": "",
        "intercorrelations": _matrix_table(s, report.disattenuated, below=report.intercorrelations),
        "chart_corr": "",
        "factor_note": page.said("factor.skipped", f.skipped) if f.skipped else "",
        "factor_parallel": ""
        if f.parallel is None
        else t(
            "factor_parallel",
            iterations=f.parallel.n_iter,
            quantile=round(f.parallel.quantile * 100),
            suggested=_bold(f.parallel.suggested),
            n_scales=len(report.scales),
        ),
        "factor_shown": t("factor_shown", k=f.n_factors, rotation=t(rotation_key, rotation=f.rotation)),
        "chart_scree": "",
        "loadings": loadings,
        "phi": _matrix_table(s, f.phi) if f.phi is not None else None,
        "circumplex": None
        if circ is None
        else {
            "text": t(
                "circumplex_text",
                met=circ.met,
                predictions=circ.predictions,
                tied=circ.tied,
                ci=_format.number(circ.correspondence_index, 3, lang, trim=False),
                p=_format.number(circ.p_value, 4, lang, trim=False),
                permutations=circ.permutations,
            ),
            "table": _table(s, ["distance", "mean_r"], [[int(k), v] for k, v in circ.mean_r_by_distance.items()]),
            "chart": "",
        },
        "dif": dif,
        "norms_note": page.said("norms.skipped", report.norms.skipped) if report.norms.skipped else "",
        "norms_warning": t("norms_warning", n=m.n_rows, command=Markup("<code>proforient build-norms --write</code>")),
        "norms": _table(s, norm_cols, [[getattr(r, c) for c in norm_cols] for r in report.norms.rows], 2),
        "chart_hist": "",
    }
    with _georgian_fonts():
        ctx["chart_items"] = chart_item_total(report.items, s)
        ctx["chart_reliability"] = chart_reliability(report.scales, s)
        ctx["chart_corr"] = chart_heatmap(report.intercorrelations, lang)
        ctx["chart_scree"] = chart_scree(f.parallel, s) if f.parallel else ""
        if circ is not None:
            ctx["circumplex"]["chart"] = chart_distance(circ, s)
        ctx["chart_hist"] = chart_histograms(report.norms.distributions, lang)
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    return env.get_template("technical.html.j2").render(**ctx)


def _notes(report: TechnicalReport, page: _Page) -> list[str]:
    """The notes on undefined statistics in the page's language, each after the instrument it is about."""
    said = report.texts().get("meta.notes")
    if said is None:
        return [page.said("meta.notes", n) for n in report.meta.notes]
    ref = f"{report.meta.instrument}@{report.meta.instrument_version}"
    return [f"{ref}: {_said(page.s, n)}" for n in (said if isinstance(said, tuple) else (said,))]


def build_technical_report(inst: instruments.Instrument, ds: rs.Dataset, lang: str = "ka", **options: Any) -> str:
    """The HTML technical report of a validated data set in ``lang`` (``render_html(analyze(…), lang)``)."""
    return render_html(analyze(inst, ds, **options), lang)


def write_schema(path: Path) -> None:
    """Write ``json_schema()`` to ``path`` (how ``docs/technical-report.schema.json`` is made)."""
    path.write_text(json.dumps(json_schema(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


__all__ = [
    "FORMATS",
    "TechnicalReport",
    "analyze",
    "build_technical_report",
    "json_schema",
    "render",
    "render_html",
    "render_json",
    "render_xlsx",
    "write_schema",
]


if __name__ == "__main__":  # python -m reports.technical docs/technical-report.schema.json
    import sys

    write_schema(Path(sys.argv[1]))
