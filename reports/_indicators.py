"""The programme indicators as a document for the fund's management and its donors (issue 16,
item 4): HTML or an A4 PDF (WeasyPrint), in Georgian or English.

It takes the indicators as ``api.domain.indicators.indicators`` returns them (aggregates only;
each group already suppressed below the minimum size) and writes every figure with its n: a rate
as "k of n", each retention estimate with its 95 % band, the number still followed at that point
(at risk) and the jobs lost by then; a suppressed group is listed as suppressed, never left out.
The Kaplan–Meier chart carries the confidence bands and the number-at-risk rows under its axis.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from . import _format
from ._charts import retention_chart
from ._fonts import CSS_FONT_STACK
from ._render import TEMPLATES, _env, pdf_of
from ._strings import strings

COUNTS = (
    # (figure, the n it is out of: a key of the group, or None when it is a count of its own)
    ("people_assessed", None),
    ("people_with_packet", "people_assessed"),
    ("packets_sent", None),
    ("people_trained", "people_assessed"),
    ("trainings_completed", None),
    ("people_placed", "people_assessed"),
    ("followed", "people_placed"),
    ("jobs_lost", "followed"),
)

CSS_FILE = TEMPLATES / "indicators.css"


def _pct(v: float | None, lang: str) -> str:
    return "—" if v is None else _format.number(v * 100, 0, lang) + " %"


def _chart_curves(
    data: Mapping[str, Any], names: Mapping[str, Mapping[str, str]], overall: str, by: str
) -> list[tuple[str, Mapping[str, Any]]]:
    """The curves to draw: the whole programme, then each shown group of the ``by`` breakdown."""
    out: list[tuple[str, Mapping[str, Any]]] = []
    if data["overall"].get("curve"):
        out.append((overall, data["overall"]))
    for g in data["by"].get(by, ()):
        if g.get("curve") and g["value"]:
            out.append((names.get(by, {}).get(g["value"], g["value"]), g))
    return out


def indicators_chart(
    data: Mapping[str, Any],
    names: Mapping[str, Mapping[str, str]],
    lang: str,
    *,
    by: str = "phase",
    fmt: str = "svg",
) -> bytes | None:
    """The Kaplan–Meier chart of the indicators (the whole programme and each shown group of
    ``by``) with 95 % bands and the number at risk at 0 and at each retention month; None when no
    group has enough people followed up."""
    s = strings(lang)
    curves = _chart_curves(data, names, s.get("indicators.overall"), by)
    if not curves:
        return None
    months = list(data["retention_months"])
    return retention_chart(
        [
            (
                label,
                [p["month"] for p in g["curve"]],
                [p["retained"] for p in g["curve"]],
                [p["retained"] if p["lower"] is None else p["lower"] for p in g["curve"]],
                [p["retained"] if p["upper"] is None else p["upper"] for p in g["curve"]],
            )
            for label, g in curves
        ],
        months_label=s.get("indicators.months"),
        retained_label=s.get("indicators.retained"),
        marks=months,
        lang=lang,
        fmt="png" if fmt == "png" else "svg",
        at_risk=[[g["followed"], *[r["at_risk"] for r in g["retention"]]] for _, g in curves],
        at_risk_label=s.get("indicators.at_risk_heading"),
    )


def _rows(
    data: Mapping[str, Any], names: Mapping[str, Mapping[str, str]], lang: str
) -> list[tuple[str, list[tuple[str, Mapping[str, Any]]]]]:
    """(breakdown heading, [(group label, group)]) for each breakdown, in the data's order."""
    s = strings(lang)
    out = []
    for by, groups in data["by"].items():
        rows = [
            (names.get(by, {}).get(g["value"], g["value"]) if g["value"] else s.get("indicators.none"), g)
            for g in groups
        ]
        out.append((s.get(f"indicators.by.{by}"), rows))
    return out


def render_indicators(
    data: Mapping[str, Any],
    lang: str,
    *,
    value_names: Mapping[str, Mapping[str, str]] | None = None,
    fund_name: str = "",
    fmt: str = "pdf",
    chart_by: str = "phase",
) -> bytes:
    """The indicators document: ``fmt`` "pdf" (A4, WeasyPrint) or "html" (UTF-8 bytes).

    ``value_names``: breakdown → stored value → how it reads (e.g. a rehabilitation phase's label);
    a value without a name is shown as stored (job-seeker groups I–IV, quarters)."""
    s = strings(lang)
    names = value_names or {}
    k = data["min_n"]
    chart = indicators_chart(data, names, lang, by=chart_by)

    def num(v: float | None, d: int = 0) -> str:
        return "—" if v is None else _format.number(v, d, lang)

    def of(count: int | None, n: int | None) -> str:
        return s.get("indicators.of", k=num(count), n=num(n))

    def retention_cell(r: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "retained": _pct(r["retained"], lang),
            "band": (
                s.get("indicators.band", lower=num(r["lower"] * 100), upper=num(r["upper"] * 100))
                if r["lower"] is not None
                else ""
            ),
            "at_risk": s.get("indicators.at_risk", n=num(r["at_risk"])),
            "lost": s.get("indicators.lost_by_then", n=num(r["lost"])),
            "few": r["retained"] is not None and r["at_risk"] < k,
            "note": s.get("indicators.not_yet") if r["retained"] is None else "",
        }

    def retention_row(g: Mapping[str, Any]) -> dict[str, Any]:
        if g.get("suppressed"):
            return {"note": s.get("indicators.suppressed", k=k)}
        if not g.get("retention"):
            key = "indicators.retention_suppressed" if g.get("retention_suppressed") else "indicators.no_follow_up"
            return {"note": s.get(key, k=k), "followed": num(g.get("followed")), "lost": num(g.get("jobs_lost"))}
        return {
            "followed": num(g["followed"]),
            "lost": num(g["jobs_lost"]),
            "cells": [retention_cell(r) for r in g["retention"]],
        }

    o = data["overall"]
    counts = []
    if not o.get("suppressed"):
        for key, base in COUNTS:
            counts.append(
                {
                    "label": s.get(f"indicators.{key}"),
                    "value": num(o[key]),
                    "n": s.get(f"indicators.base.{base}", n=num(o[base])) if base else "",
                    "rate": _pct(o[key] / o[base], lang) if base and o[base] else "",
                }
            )
    breakdowns = _rows(data, names, lang)
    view = {
        "lang": lang,
        "t": s.get,
        "fund": fund_name,
        "k": k,
        "as_of": _format.day(data["as_of"], lang),
        "months": list(data["retention_months"]),
        "overall": o,
        "overall_retention": retention_row(o),
        "counts": counts,
        "chart": "data:image/svg+xml;base64," + base64.b64encode(chart).decode("ascii") if chart else None,
        "chart_by": s.get(f"indicators.by.{chart_by}"),
        "breakdowns": [
            (
                heading,
                [
                    (
                        label,
                        {
                            "suppressed": bool(g.get("suppressed")),
                            "n": num(g.get("people_assessed")),
                            "packet": of(g.get("people_with_packet"), g.get("people_assessed")),
                            "packets_sent": num(g.get("packets_sent")),
                            "trained": of(g.get("people_trained"), g.get("people_assessed")),
                            "placed": of(g.get("people_placed"), g.get("people_assessed")),
                            "rate": _pct(g.get("placement_rate"), lang),
                        },
                        retention_row(g),
                    )
                    for label, g in rows
                ],
            )
            for heading, rows in breakdowns
        ],
        "of": of,
        "pct": lambda v: _pct(v, lang),
    }
    template = _env().get_template("indicators.html.j2")
    css = CSS_FILE.read_text(encoding="utf-8").replace("__FONTS__", CSS_FONT_STACK)
    if fmt == "html":
        return template.render(**view, css=css).encode("utf-8")
    return pdf_of(lambda: template.render(**view, css=None), css)
