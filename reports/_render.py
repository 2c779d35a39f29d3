"""Rendering: the audience's view → HTML (Jinja2), PDF (WeasyPrint) or JSON.

The Jinja2 environment autoescapes everything and uses ``StrictUndefined``, so a
name such as ``<script>`` is printed as text and a missing value or text key
fails the render instead of leaving a blank. Charts are made from the same
view, so they obey the same audience rules as the text.
"""

from __future__ import annotations

import base64
import json
import logging
import math
import threading
import warnings
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError
from markupsafe import Markup

from . import _charts
from ._errors import MissingGlyphWarning, ReportError
from ._fonts import CSS_FONT_STACK, warn_missing_glyphs
from ._model import Profile
from ._strings import strings
from ._view import build_view, number

TEMPLATES = Path(__file__).parent / "templates"


class RenderWarning(UserWarning):
    """WeasyPrint reported a problem with the document (an ignored CSS rule, a missing image …)."""


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@lru_cache(maxsize=1)
def _css() -> str:
    return (TEMPLATES / "report.css").read_text(encoding="utf-8").replace("__FONTS__", CSS_FONT_STACK)


def _data_uri(svg: bytes) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def _nan(v: object) -> float:
    return math.nan if v is None else float(v)  # type: ignore[arg-type]


def _written(value: object, digits: int, lang: str, prorated: object) -> str:
    """A score as the report's text writes it, marked * when prorated (explained under the chart)."""
    return number(value, digits, lang) + ("*" if prorated else "")


def view_charts(view: dict[str, Any], fmt: _charts.Format = "svg", dpi: int = 150) -> dict[str, bytes]:
    """The charts of one audience's view, by name (``hexagon``, ``riasec_bars``, ``barriers``,
    ``bipolar``, ``change_<instrument>``); they show only what the view shows."""
    lang = view["lang"]
    t = strings(lang).get
    out: dict[str, bytes] = {}
    h = view["holland"]
    pro = view["register"] == "pro"
    you = view["register"] == "you"
    if h and h.get("charted", bool(h["codes"])):
        totals = {ty["letter"]: _nan(ty["total"]) for ty in h["types"]}
        if you:  # the beneficiary reads the bars against the bands: no counts, no letters
            written = {ty["letter"]: "" for ty in h["types"]}
        else:
            written = {ty["letter"]: _written(ty["total"], 1, lang, ty.get("prorated")) for ty in h["types"]}
        names = {ty["letter"]: ty["name"] for ty in h["types"]}
        highlight = "".join(ty["letter"] for ty in h["types"] if ty["in_code"])
        if view["technical"]:  # the hexagon is for reading consistency; others get the plainer bars
            out["hexagon"] = _charts.riasec_hexagon(
                totals,
                names=names,
                max_score=h["max_score"],
                highlight=highlight,
                rings=[z["hi"] for z in h["zones"][:-1]],
                values=written,
                fmt=fmt,
                dpi=dpi,
            )
        out["riasec_bars"] = _charts.riasec_bars(
            totals,
            names=names,
            max_score=h["max_score"],
            highlight=highlight,
            bands=[(z["hi"], z["label"]) for z in h["zones"]],
            values=written,
            letters=not you,
            fmt=fmt,
            dpi=dpi,
        )
    d = view["decision"]
    if d and pro and d["barriers"]:
        out["barriers"] = _charts.barrier_profile(
            [(b["name"], _nan(b["score"]), _written(b["score"], 2, lang, b.get("prorated"))) for b in d["barriers"]],
            zones=[(z["lo"], z["hi"], z["label"]) for z in d["zones"]],
            lo=d["lo"],
            hi=d["hi"],
            not_scored=t("ui.chart.not_scored"),
            fmt=fmt,
            dpi=dpi,
        )
    b = view["bipolar"]
    if b:
        rows = [
            _charts.BipolarRow(x["left"], x["right"], _nan(x["score"]), x["max"], x["clarity_label"] or "")
            for x in b["dimensions"]
        ]
        out["bipolar"] = _charts.bipolar_profile(
            rows, zones=[(z["hi"], z["label"]) for z in b["zones"]], fmt=fmt, dpi=dpi
        )
    for c in view["changes"]:
        if c["rows"]:
            out[f"change_{c['instrument']}"] = _charts.change_chart(
                [(r["label"], _nan(r["before"]), _nan(r["after"])) for r in c["rows"]],
                lo=c["lo"],
                hi=c["hi"],
                before_label=c["before"],
                after_label=c["after"],
                fmt=fmt,
                dpi=dpi,
            )
    return out


def heading_case(text: str, lang: str) -> str:
    """A name set as a heading: catalogue names are lower case so that sentences can use them
    ("Your trade: cook."); standing alone as a heading, an English name takes a capital ("Cook").
    Georgian has no capitals (upper-casing Mkhedruli would give Mtavruli), so only a Latin first
    letter in an English report is changed."""
    if lang == "en" and text and text[0].isascii() and text[0].islower():
        return text[0].upper() + text[1:]
    return text


def _html(view: dict[str, Any], charts: bool, *, inline_css: bool = True) -> str:
    """The report's HTML; without ``inline_css`` the ``<style>`` is left empty (the PDF
    path hands WeasyPrint the stylesheet parsed once instead)."""
    lang = view["lang"]
    uris = {k: _data_uri(v) for k, v in view_charts(view).items()} if charts else {}
    try:
        html = (
            _env()
            .get_template("report.html.j2")
            .render(
                view=view,
                charts=uris,
                css=Markup(_css() if inline_css else ""),  # noqa: S704 - our own stylesheet, not user data
                t=strings(lang).get,
                head=lambda text: heading_case(text, lang),
                listed=lambda items: strings(lang).join(items, mid_sentence=True),
                n=lambda value, digits=1: number(value, digits, lang),
            )
        )
    except TemplateError as exc:
        raise ReportError(f"the report template failed: {exc}") from exc
    warn_missing_glyphs(html, f"{view['audience']} report ({lang})")
    return html


def render_html(
    profile: Profile, lang: str, audience: str, *, consent_includes_clinical: bool = False, charts: bool = True
) -> str:
    """A self-contained HTML report (styles and SVG charts inline)."""
    return _html(build_view(profile, lang, audience, consent_includes_clinical), charts)


class _Collect(logging.Handler):
    """Collects WeasyPrint's warnings raised by this thread only (renders may run in parallel)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.records.append(record)


def render_pdf(
    profile: Profile, lang: str, audience: str, *, consent_includes_clinical: bool = False, charts: bool = True
) -> bytes:
    """An A4 PDF (WeasyPrint). A glyph no font has is reported as ``MissingGlyphWarning``,
    any other WeasyPrint complaint as ``RenderWarning``, never silently dropped."""
    return _pdf(build_view(profile, lang, audience, consent_includes_clinical), charts)


def _pdf(view: dict[str, Any], charts: bool) -> bytes:
    return pdf_of(lambda: _html(view, charts, inline_css=False), _css())


def pdf_of(make_html: Callable[[], str], css: str) -> bytes:
    """The PDF of the HTML ``make_html`` returns (made inside the paused collector), styled by
    ``css``; WeasyPrint's complaints become ``MissingGlyphWarning`` / ``RenderWarning``."""
    from . import _render_pdf  # imported here: WeasyPrint is slow to import and only PDF needs it

    with _render_pdf.gc_paused():
        html = make_html()
        logger = logging.getLogger("weasyprint")
        handler = _Collect()
        logger.addHandler(handler)
        try:
            pdf = _render_pdf.write_pdf(html, css, str(TEMPLATES))
        finally:
            logger.removeHandler(handler)
    for rec in handler.records:
        message = rec.getMessage()
        category = MissingGlyphWarning if ".notdef" in message or "glyph" in message.lower() else RenderWarning
        warnings.warn(category(f"WeasyPrint: {message}"), stacklevel=2)
    if not isinstance(pdf, bytes):
        raise ReportError("WeasyPrint returned no PDF")
    return pdf


def _jsonable(v: object) -> object:
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return v


def render_json(profile: Profile, lang: str, audience: str, *, consent_includes_clinical: bool = False) -> str:
    """The same content as the HTML, as JSON (numbers as numbers, missing as null)."""
    view = build_view(profile, lang, audience, consent_includes_clinical)
    return json.dumps(_jsonable(view), ensure_ascii=False, indent=1, allow_nan=False)


def render_view_html(view: dict[str, Any], *, charts: bool = True) -> str:
    """HTML of a view made earlier (e.g. the one a packet stored): nothing is looked up again."""
    return _html(view, charts)


def render_view_pdf(view: dict[str, Any], *, charts: bool = True) -> bytes:
    """PDF of a view made earlier (e.g. the one a packet stored)."""
    return _pdf(view, charts)


def view_json(view: dict[str, Any]) -> str:
    return json.dumps(_jsonable(view), ensure_ascii=False, indent=1, allow_nan=False)


def jsonable_view(view: dict[str, Any]) -> Any:
    """A view as plain JSON data (NaN → null), as a packet stores it."""
    return json.loads(view_json(view))
