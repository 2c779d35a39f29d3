"""The predictive-validity report (researchers): retention by congruence band with a Kaplan–Meier
chart, Cox regressions with intervals, and a power statement; HTML or PDF (WeasyPrint)."""

from __future__ import annotations

import base64
import html
from typing import Any

from . import _format
from ._charts import retention_chart
from ._fonts import CSS_FONT_STACK
from ._strings import strings

CSS = """
@page { size: A4; margin: 16mm 14mm; }
body { font-family: __FONTS__; color: #1f2933; font-size: 10pt; line-height: 1.4; }
h1 { font-size: 16pt; margin: 0 0 6pt; } h2 { font-size: 12pt; margin: 14pt 0 4pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0; }
th, td { border-bottom: 0.5pt solid #d2d6dc; padding: 3pt 5pt; text-align: left; vertical-align: top; }
th { font-weight: bold; } .muted { color: #6b7280; } .note { background: #fff7e6; padding: 4pt 6pt; }
img { width: 100%; }
"""


def _pct(v: float | None, lang: str) -> str:
    return "—" if v is None else _format.number(v * 100, 0, lang) + " %"


def render_study(
    result: dict[str, Any],
    curves: dict[str, Any],
    lang: str,
    fmt: str = "html",
    simulated: bool = False,
) -> bytes:
    """``result`` as ``scoring.research.predictive_validity`` returns it (KM points as dicts or
    ``KMPoint``); ``curves``: band → DataFrame of ``km_curve`` (bands with too few people left out)."""
    s = strings(lang)
    esc = html.escape

    def g(k: str, **kw: object) -> str:
        return esc(s.get(f"study.{k}", **kw))

    def num(v: float, d: int = 2) -> str:
        return _format.number(v, d, lang, trim=False)

    parts = [
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        f"<style>{CSS.replace('__FONTS__', CSS_FONT_STACK)}</style></head><body>"
    ]
    parts.append(f"<h1>{g('title')}</h1>")
    if simulated:
        parts.append(f'<p class="note">{g("simulated")}</p>')
    parts.append(f"<p>{g('intro')}</p><p>{g('sample', n=result['n'], events=result['events'])}</p>")
    parts.append(f"<h2>{g('bands')}</h2>")
    if curves:
        svg = retention_chart(
            [
                (
                    s.get(f"study.band.{b}"),
                    list(c["time"]),
                    list(c["survival"]),
                    list(c["lower"].fillna(c["survival"])),
                    list(c["upper"].fillna(c["survival"])),
                )
                for b, c in curves.items()
            ],
            months_label=s.get("study.months"),
            retained_label=s.get("study.retained"),
            lang=lang,
        )
        parts.append(f'<img alt="" src="data:image/svg+xml;base64,{base64.b64encode(svg).decode()}">')
    months = (
        [int(p["month"] if isinstance(p, dict) else p.month) for p in next(iter(result["km_by_band"].values()))["km"]]
        if result["km_by_band"]
        else []
    )
    parts.append(f"<table><thead><tr><th>{g('band_heading')}</th><th>{g('people')}</th><th>{g('lost')}</th>")
    parts += [f"<th>{g('after', n=m)}</th>" for m in months]
    parts.append("</tr></thead><tbody>")
    for band, b in result["km_by_band"].items():
        parts.append(f"<tr><td>{g('band.' + band)}</td><td>{b['n']}</td><td>{b['events']}</td>")
        for p in b["km"]:
            p = p if isinstance(p, dict) else p.__dict__
            band_ci = (
                f" <span class='muted'>({_pct(p['lower'], lang)}–{_pct(p['upper'], lang)})</span>"
                if p["lower"] is not None
                else ""
            )
            parts.append(
                f"<td>{_pct(p['survival'], lang)}{band_ci}<br>"
                f"<span class='muted'>{g('at_risk', n=p['at_risk'])}</span></td>"
            )
        parts.append("</tr>")
    parts.append(f"</tbody></table><h2>{g('cox')}</h2>")
    parts.append(
        f"<table><thead><tr><th>{g('covariate_heading')}</th><th>n</th><th>{g('lost')}</th><th>{g('hr')}</th>"
        f"<th>{g('p')}</th><th>{g('detectable')}</th></tr></thead><tbody>"
    )
    for m in result["cox"]:
        name = g("covariate." + m["covariate"])
        if m.get("too_few"):
            parts.append(
                f"<tr><td>{name}</td><td>{m['n']}</td><td>{m['events']}</td>"
                f"<td colspan='3' class='muted'>{g('too_few')}</td></tr>"
            )
            continue
        p = "< 0,001" if m["p"] < 0.001 and lang == "ka" else ("< 0.001" if m["p"] < 0.001 else num(m["p"], 3))
        det = m.get("detectable_hr")
        parts.append(
            f"<tr><td>{name}</td><td>{m['n']}</td><td>{m['events']}</td>"
            f"<td>{num(m['hr'])} ({num(m['lower'])}–{num(m['upper'])})</td>"
            f"<td>{p}</td><td>{num(1 / det)} / {num(det)}</td></tr>"
        )
    parts.append("</tbody></table>")
    first = next((m for m in result["cox"] if not m.get("too_few")), None)
    if first is not None and first.get("detectable_hr"):
        det = first["detectable_hr"]
        parts.append(f"<p class='muted'>{g('power_note', events=first['events'], low=num(1 / det), high=num(det))}</p>")
    parts.append("</body></html>")
    page = "".join(parts)
    if fmt == "html":
        return page.encode("utf-8")
    import weasyprint

    return weasyprint.HTML(string=page).write_pdf()  # type: ignore[no-any-return]
