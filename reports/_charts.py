"""Report charts, drawn on ``matplotlib.figure.Figure`` (never pyplot) and returned as bytes.

Every chart takes plain numbers and labels that are already in the report's
language, so the same function serves Georgian and English. Artists are
placed straight on the figure in figure coordinates (no Axes): an Axes with
its tick machinery costs more than the whole chart, and a report draws
four or five charts. SVG keeps text as text (``svg.fonttype = none``) with
the Noto font stack, so Georgian stays selectable in the PDF and the file
stays small; PNG draws the glyphs with the same fonts.
"""

from __future__ import annotations

import codecs
import io
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import matplotlib
from matplotlib import cbook
from matplotlib.backends.backend_mixed import MixedModeRenderer
from matplotlib.backends.backend_svg import FigureCanvasSVG, RendererSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import FancyArrowPatch, Polygon, Rectangle
from matplotlib.transforms import Affine2D, Transform

from . import _format
from ._errors import ReportError
from ._fonts import FAMILIES, font_files

Format = Literal["svg", "png"]

INK = "#1f2933"
MUTED = "#6b7280"
GRID = "#c9d2dc"
BLUE = "#2b6cb0"
BLUE_FILL = "#90b8e6"
ACCENT = "#c05621"
ZONE_COLOURS = ("#e6f4ea", "#fdf1d6", "#fbe1d8", "#f3d3e1")
HEX_LETTERS = "RIASEC"
_FONT = list(FAMILIES)


@dataclass(frozen=True)
class BipolarRow:
    """One bipolar dimension: pole names, the signed score and its clarity label."""

    left: str
    right: str
    score: float
    max_score: float
    note: str = ""


_METRICS: dict[tuple[object, ...], tuple[float, float, float]] = {}
_METRICS_MAX = 50_000


class _MeasuringRenderer(RendererSVG):
    """SVG renderer that remembers text sizes across charts and writes a lean SVG.

    Laying out text is most of a chart's cost, and the labels (barrier, type and
    pole names, band labels) are the same in every report; with text kept as
    text (fonttype none) a size depends only on the string and the font.

    The SVG carries no per-artist ``<g id=…>`` wrappers, no RDF metadata and no
    ``<style>`` sheet (its two defaults become attributes of the root, see
    :func:`_lean_svg`): nothing uses them, and every element is one more node
    for WeasyPrint to cascade and draw in each PDF.
    """

    def open_group(self, s: str, gid: str | None = None) -> None:
        """Writes no ``<g id=…>`` wrapper (see the class docstring)."""

    def close_group(self, s: str) -> None:
        """Closes nothing: :meth:`open_group` opened nothing."""

    def _write_metadata(self, metadata: object) -> None:
        """Writes no RDF metadata."""

    def _write_default_style(self) -> None:
        """Writes no ``<style>`` sheet; :func:`_lean_svg` puts its two defaults on the root."""

    def get_text_width_height_descent(self, s: str, prop: FontProperties, ismath: object) -> tuple[float, float, float]:
        key = (
            s,
            tuple(prop.get_family()),
            prop.get_style(),
            prop.get_variant(),
            prop.get_weight(),
            prop.get_stretch(),
            prop.get_size_in_points(),
            prop.get_math_fontfamily(),
            ismath,
        )
        found = _METRICS.get(key)
        if found is None:
            found = super().get_text_width_height_descent(s, prop, ismath)  # type: ignore[no-untyped-call]
            if len(_METRICS) >= _METRICS_MAX:
                _METRICS.clear()
            _METRICS[key] = found
        return found


class _SVGCanvas(FigureCanvasSVG):
    """``FigureCanvasSVG.print_svg`` with ``_MeasuringRenderer``; savefig picks it for SVG."""

    def print_svg(
        self,
        filename: Any,
        *,
        bbox_inches_restore: object = None,
        metadata: dict[str, object] | None = None,
        **_ignored: object,
    ) -> None:
        # print_figure has already applied facecolor/edgecolor/orientation; they are not needed here
        with cbook.open_file_cm(filename, "w", encoding="utf-8") as opened:
            fh: Any = opened if cbook.file_requires_unicode(opened) else codecs.getwriter("utf-8")(opened)
            dpi = self.figure.dpi
            self.figure.dpi = 72
            width, height = self.figure.get_size_inches()
            # matplotlib's SVG and mixed-mode renderers are not annotated (and the mixed-mode one
            # stands in for a RendererBase without being one)
            measuring = _MeasuringRenderer(  # type: ignore[no-untyped-call]
                width * 72, height * 72, fh, image_dpi=dpi, metadata=metadata
            )
            renderer: Any = MixedModeRenderer(  # type: ignore[no-untyped-call]
                self.figure, width, height, dpi, measuring, bbox_inches_restore=bbox_inches_restore
            )
            self.figure.draw(renderer)
            renderer.finalize()


class _Canvas:
    """A figure with one data box: (x, y) in data units map into ``box`` (figure fractions)."""

    def __init__(
        self,
        width: float,
        height: float,
        xlim: tuple[float, float],
        ylim: tuple[float, float],
        box: tuple[float, float, float, float],
    ) -> None:
        font_files()  # a clear error now, rather than boxes later, if Georgian is missing
        self.fig = Figure(figsize=(width, height))
        _SVGCanvas(self.fig)
        self.width, self.height = width, height
        (x0, x1), (y0, y1) = xlim, ylim
        left, bottom, right, top = box
        self.data: Transform = (
            Affine2D()
            .translate(-x0, -y0)
            .scale((right - left) / (x1 - x0), (top - bottom) / (y1 - y0))
            .translate(left, bottom)
            + self.fig.transFigure
        )

    def rect(self, x: float, y: float, w: float, h: float, **kw: Any) -> None:
        self.fig.add_artist(Rectangle((x, y), w, h, transform=self.data, **kw))

    def line(self, xs: Sequence[float], ys: Sequence[float], **kw: Any) -> None:
        self.fig.add_artist(Line2D(xs, ys, transform=self.data, **kw))

    def polygon(self, points: Sequence[tuple[float, float]], **kw: Any) -> None:
        self.fig.add_artist(Polygon(points, closed=True, transform=self.data, **kw))

    def arrow(self, x0: float, y0: float, x1: float, y1: float, **kw: Any) -> None:
        self.fig.add_artist(FancyArrowPatch((x0, y0), (x1, y1), transform=self.data, **kw))

    def text(self, x: float, y: float, s: str, size: float = 8.0, colour: str = INK, **kw: Any) -> None:
        self.fig.text(x, y, s, transform=self.data, fontsize=size, color=colour, fontfamily=_FONT, **kw)

    def title(self, s: str | None) -> None:
        if s:
            self.fig.text(
                0.5,
                1 - 0.09 / self.height,
                s,
                ha="center",
                va="top",
                fontsize=9.5,
                fontweight="bold",
                color=INK,
                fontfamily=_FONT,
            )

    def save(self, fmt: Format, dpi: int) -> bytes:
        if fmt not in ("svg", "png"):
            raise ReportError(f"chart format must be 'svg' or 'png' (got {fmt!r})")
        buf = io.BytesIO()
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "proforient"}):
            self.fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else {"Software": None})
        return _lean_svg(buf.getvalue()) if fmt == "svg" else buf.getvalue()


_TAG_WITH_STYLE = re.compile(rb'<([A-Za-z]+)([^<>]*?) style="([^"<>]*)"([^<>]*)>')
_DEFAULT_STROKE = b' stroke-linejoin="round" stroke-linecap="butt"'  # matplotlib's default *{…} rule


def _lean_svg(svg: bytes) -> bytes:
    """Each ``style="a: b; …"`` as presentation attributes ``a="b" …``, and matplotlib's
    default stroke join and cap on the root, where every element inherits them.

    The same drawing (no element relies on a stylesheet any more, so an attribute is
    not overridden by one), parsed by WeasyPrint without a CSS parser per element.
    """

    def attributes(m: re.Match[bytes]) -> bytes:
        tag, before, style, after = m.groups()
        pairs = [(k.strip(), v.strip()) for k, sep, v in (d.partition(b":") for d in style.split(b";")) if sep]
        if any(b" %s=" % k in before + after for k, _ in pairs):  # never a duplicate attribute
            return m.group(0)
        return b"<%s%s%s%s>" % (tag, before, b"".join(b' %s="%s"' % kv for kv in pairs), after)

    svg = _TAG_WITH_STYLE.sub(attributes, svg)
    return svg.replace(b"<svg ", b"<svg" + _DEFAULT_STROKE + b" ", 1)


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width=width, break_long_words=False)) or text


def _fmt(v: float) -> str:
    """A value drawn when the caller wrote none (callers in a report pass the report's own text)."""
    return _format.number(v, 1, "en")


def _check_letters(totals: Mapping[str, float], names: Mapping[str, str]) -> None:
    missing = [L for L in HEX_LETTERS if L not in totals or L not in names]
    if missing:
        raise ReportError(f"RIASEC chart needs a total and a name for every type; missing {missing}")


def riasec_hexagon(
    totals: Mapping[str, float],
    *,
    names: Mapping[str, str],
    max_score: float,
    rings: Sequence[float] = (),
    highlight: str = "",
    title: str | None = None,
    values: Mapping[str, str] | None = None,
    fmt: Format = "svg",
    dpi: int = 150,
) -> bytes:
    """The person's RIASEC totals as a polygon on Holland's hexagon.

    ``values``: each total as the report writes it (the language's decimal sign, a mark for a
    prorated score); without them the totals are written plainly.

    The hexagon's order (R-I-A-S-E-C) is what consistency is read from, so the
    shape shows at a glance whether the strongest interests are neighbours.
    ``rings`` are band limits drawn as inner hexagons; ``highlight`` letters
    (the summary code) are drawn in the accent colour.
    """
    _check_letters(totals, names)
    if max_score <= 0:
        raise ReportError("max_score must be positive")
    c = _Canvas(4.4, 3.9, (-1.75, 1.75), (-1.35, 1.45), (0.0, 0.0, 1.0, 0.93 if title else 1.0))
    c.title(title)
    angles = {L: math.radians(120 - 60 * k) for k, L in enumerate(HEX_LETTERS)}

    def point(L: str, r: float) -> tuple[float, float]:
        return (r * math.cos(angles[L]), r * math.sin(angles[L]))

    for r in [*(x / max_score for x in rings if 0 < x < max_score), 1.0]:
        c.polygon(
            [point(L, r) for L in HEX_LETTERS],
            fill=False,
            edgecolor=GRID,
            linewidth=0.9 if r == 1.0 else 0.6,
            linestyle="-" if r == 1.0 else "--",
        )
    for L in HEX_LETTERS:
        x, y = point(L, 1.0)
        c.line([0, x], [0, y], color=GRID, linewidth=0.6)
    shown = dict(values or {})
    points = {
        L: (0.0 if math.isnan(float(totals[L])) else max(0.0, min(float(totals[L]), max_score))) for L in HEX_LETTERS
    }
    c.polygon(
        [point(L, points[L] / max_score) for L in HEX_LETTERS],
        facecolor=BLUE_FILL,
        edgecolor=BLUE,
        linewidth=1.6,
        alpha=0.75,
    )
    dots = [point(L, points[L] / max_score) for L in HEX_LETTERS]
    c.fig.add_artist(
        Line2D(
            [x for x, _ in dots],
            [y for _, y in dots],
            linestyle="none",
            marker="o",
            markersize=4,
            color=BLUE,
            transform=c.data,
        )
    )
    for L in HEX_LETTERS:
        lx, ly = point(L, 1.16)
        ha = "left" if lx > 0.2 else "right" if lx < -0.2 else "center"
        strong = L in highlight
        colour = ACCENT if strong else INK
        c.text(lx, ly + 0.07, L, size=11, colour=colour, ha=ha, va="bottom", fontweight="bold")
        c.text(
            lx,
            ly + 0.05,
            f"{_wrap(names[L], 16)}\n{shown[L] if L in shown else _fmt(points[L])}",
            size=7.5,
            colour=colour,
            ha=ha,
            va="top",
            linespacing=1.15,
        )
    return c.save(fmt, dpi)


def riasec_bars(
    totals: Mapping[str, float],
    *,
    names: Mapping[str, str],
    max_score: float,
    bands: Sequence[tuple[float, str]] = (),
    highlight: str = "",
    title: str | None = None,
    values: Mapping[str, str] | None = None,
    letters: bool = True,
    fmt: Format = "svg",
    dpi: int = 150,
) -> bytes:
    """The six RIASEC totals as bars over shaded interest bands.

    ``bands`` are (upper limit, label) from the lowest; the last band runs to
    ``max_score``. Code letters are drawn in the accent colour. ``values``: each total as
    the report writes it (see ``riasec_hexagon``; an empty text draws no number). ``letters``:
    the type letters under the bars (without them the names stand alone, as the beneficiary reads them).
    """
    shown = dict(values or {})
    _check_letters(totals, names)
    c = _Canvas(
        6.4, 2.7, (-0.1, 7.3), (-0.27 * max_score, max_score * 1.12), (0.02, 0.02, 0.98, 0.90 if title else 0.97)
    )
    c.title(title)
    lower = 0.0
    for k, (upper, label) in enumerate([*bands[:-1], (max_score, bands[-1][1])] if bands else []):
        c.rect(0, lower, 6, min(upper, max_score) - lower, facecolor=ZONE_COLOURS[k % 3], edgecolor="none")
        c.text(6.1, (lower + min(upper, max_score)) / 2, _wrap(label, 14), size=7, colour=MUTED, va="center", ha="left")
        lower = min(upper, max_score)
    for k, L in enumerate(HEX_LETTERS):
        v = float(totals[L])
        strong = L in highlight
        if not math.isnan(v):
            c.rect(k + 0.18, 0, 0.64, max(v, 0.0), facecolor=ACCENT if strong else BLUE, edgecolor="none")
            label = shown.get(L, _fmt(v))
            if label:
                c.text(k + 0.5, v + max_score * 0.02, label, size=7.5, ha="center", va="bottom")
        if letters:
            c.text(
                k + 0.5,
                -max_score * 0.03,
                L,
                size=9.5,
                ha="center",
                va="top",
                fontweight="bold",
                colour=ACCENT if strong else INK,
            )
        c.text(
            k + 0.5,
            -max_score * (0.13 if letters else 0.04),
            _wrap(names[L], 13),
            size=6.2,
            ha="center",
            va="top",
            colour=MUTED,
            linespacing=1.1,
        )
    c.line([0, 6], [0, 0], color=INK, linewidth=0.8)
    return c.save(fmt, dpi)


def barrier_profile(
    bars: Sequence[tuple[str, float] | tuple[str, float, str]],
    *,
    zones: Sequence[tuple[float, float, str]],
    lo: float,
    hi: float,
    not_scored: str = "—",
    title: str | None = None,
    fmt: Format = "svg",
    dpi: int = 150,
) -> bytes:
    """Barriers as horizontal bars, strongest first, over the level bands.

    ``bars`` are (label, mean score) or (label, mean score, the score as the report writes it);
    NaN means not scored and is listed last.
    ``zones`` are (from, to, label) for the levels (none, moderate, salient).
    """
    if not bars:
        raise ReportError("barrier_profile needs at least one barrier")
    rows = sorted(bars, key=lambda b: (math.isnan(b[1]), -b[1] if not math.isnan(b[1]) else 0.0))
    n = len(rows)
    row_h = 0.36
    height = 0.95 + row_h * n + (0.3 if title else 0)
    top_frac = 1 - (0.62 + (0.3 if title else 0)) / height
    c = _Canvas(
        6.4, height, (-(hi - lo) * 1.08, hi - lo + (hi - lo) * 0.13), (n, 0), (0.0, 0.3 / height, 0.99, top_frac)
    )
    c.title(title)
    for k, (start, end, label) in enumerate(zones):
        c.rect(start - lo, 0, end - start, n, facecolor=ZONE_COLOURS[k % 3], edgecolor="none")
        c.text(
            (start + end) / 2 - lo,
            -0.12,
            _wrap(label, 18),
            size=7,
            colour=MUTED,
            ha="center",
            va="bottom",
            linespacing=1.05,
        )
    for k, (label, v, *written) in enumerate(rows):
        y = k + 0.5
        c.text(-(hi - lo) * 0.03, y, _wrap(label, 38), size=7.5, ha="right", va="center", linespacing=1.05)
        if math.isnan(v):
            c.text(0.05, y, not_scored, size=7.5, colour=MUTED, va="center")
            continue
        c.rect(0, y - 0.28, v - lo, 0.56, facecolor=BLUE, edgecolor="none")
        c.text(v - lo + 0.04, y, written[0] if written else _format.number(v, 2, "en"), size=7, va="center", ha="left")
    c.line([0, 0], [0, n], color=INK, linewidth=0.8)
    for t in range(int(math.ceil(lo)), int(math.floor(hi)) + 1):
        c.line([t - lo, t - lo], [n, n + 0.08], color=INK, linewidth=0.6)
        c.text(t - lo, n + 0.1, str(t), size=6.5, colour=MUTED, ha="center", va="top")
    return c.save(fmt, dpi)


def bipolar_profile(
    rows: Sequence[BipolarRow],
    *,
    zones: Sequence[tuple[float, str]] = (),
    title: str | None = None,
    fmt: Format = "svg",
    dpi: int = 150,
) -> bytes:
    """Bipolar dimensions as bars from the centre towards the preferred pole.

    The scale runs from −1 (left pole, fully) to +1 (right pole) as a share of
    each dimension's maximum, so the bar's length is the clarity index.
    ``zones`` are (upper clarity limit, label) from the centre outwards,
    shaded symmetrically; the last runs to 1.
    """
    if not rows:
        raise ReportError("bipolar_profile needs at least one dimension")
    n = len(rows)
    height = 0.55 + 0.62 * n + (0.3 if title else 0)
    top_frac = 1 - (0.12 + (0.3 if title else 0)) / height
    c = _Canvas(6.4, height, (-1.75, 1.75), (n, 0), (0.0, 0.36 / height, 1.0, top_frac))
    c.title(title)
    lower = 0.0
    limits = [*(z for z in zones[:-1]), (1.0, zones[-1][1])] if zones else []
    for k, (upper, _label) in enumerate(limits):
        for sign in (-1, 1):
            x0, x1 = sign * lower, sign * upper
            c.rect(min(x0, x1), 0, abs(x1 - x0), n, facecolor=ZONE_COLOURS[k % 4], edgecolor="none")
        lower = upper
    for k, r in enumerate(rows):
        y = k + 0.4
        c.text(-1.04, y, _wrap(r.left, 20), size=8, ha="right", va="center", linespacing=1.05)
        c.text(1.04, y, _wrap(r.right, 20), size=8, ha="left", va="center", linespacing=1.05)
        share = 0.0
        if math.isnan(r.score) or r.max_score <= 0:
            c.text(0, y, "—", size=8, colour=MUTED, ha="center", va="center")
        else:
            share = max(-1.0, min(1.0, r.score / r.max_score))
            c.rect(min(0.0, share), y - 0.16, abs(share), 0.32, facecolor=BLUE, edgecolor="none")
        if r.note:
            left = share < 0
            c.text(
                -0.03 if left else 0.03,
                y + 0.2,
                r.note,
                size=6.8,
                colour=MUTED,
                ha="right" if left else "left",
                va="top",
            )
    for k, (_upper, label) in enumerate(limits):  # legend: a swatch per clarity band, full width
        x = -1.72 + 3.44 * k / len(limits)
        c.rect(x, n + 0.12, 0.07, 0.2, facecolor=ZONE_COLOURS[k % 4], edgecolor=GRID, linewidth=0.5)
        c.text(x + 0.1, n + 0.22, _wrap(label, 24), size=6.3, colour=MUTED, va="center")
    c.line([0, 0], [0, n], color=INK, linewidth=0.9)
    c.line([-1, -1], [0, n], color=GRID, linewidth=0.6)
    c.line([1, 1], [0, n], color=GRID, linewidth=0.6)
    return c.save(fmt, dpi)


def change_chart(
    rows: Sequence[tuple[str, float, float]],
    *,
    lo: float,
    hi: float,
    before_label: str,
    after_label: str,
    title: str | None = None,
    fmt: Format = "svg",
    dpi: int = 150,
) -> bytes:
    """Change between two administrations: an arrow from the earlier score to the later one.

    ``rows`` are (label, before, after) on the common scale ``lo``..``hi``;
    a row with either value missing shows only what exists.
    """
    if not rows:
        raise ReportError("change_chart needs at least one row")
    if not hi > lo:
        raise ReportError("change_chart needs hi > lo")
    n = len(rows)
    height = 1.0 + 0.34 * n + (0.3 if title else 0)
    top_frac = 1 - (0.55 + (0.3 if title else 0)) / height
    span = hi - lo
    c = _Canvas(6.4, height, (lo - span * 1.02, hi + span * 0.05), (n, 0), (0.0, 0.3 / height, 0.98, top_frac))
    c.title(title)
    for k, (label, before, after) in enumerate(rows):
        y = k + 0.5
        if k % 2 == 0:
            c.rect(lo - span * 1.0, k, span * 2.0, 1, facecolor="#f4f6f8", edgecolor="none")
        c.text(lo - span * 0.03, y, _wrap(label, 38), size=7.5, ha="right", va="center", linespacing=1.05)
        has_b, has_a = not math.isnan(before), not math.isnan(after)
        if has_b and has_a and abs(after - before) > 1e-9:
            c.arrow(
                before, y, after, y, arrowstyle="-|>", mutation_scale=9, color=BLUE, linewidth=1.4, shrinkA=3, shrinkB=3
            )
        if has_b:
            c.fig.add_artist(
                Line2D(
                    [before],
                    [y],
                    marker="o",
                    markersize=5,
                    markerfacecolor="white",
                    markeredgecolor=MUTED,
                    transform=c.data,
                )
            )
        if has_a:
            c.fig.add_artist(Line2D([after], [y], marker="o", markersize=5, color=BLUE, transform=c.data))
    c.line([lo, hi], [n, n], color=INK, linewidth=0.8)
    step = 1 if span <= 10 else 5 if span <= 50 else 10
    t = math.ceil(lo / step) * step
    while t <= hi + 1e-9:
        c.line([t, t], [n, n + 0.1], color=INK, linewidth=0.6)
        c.text(t, n + 0.13, _fmt(t), size=6.5, colour=MUTED, ha="center", va="top")
        t += step
    c.fig.add_artist(
        Line2D([lo], [-0.3], marker="o", markersize=5, markerfacecolor="white", markeredgecolor=MUTED, transform=c.data)
    )
    c.text(lo + span * 0.03, -0.3, before_label, size=7, colour=MUTED, va="center")
    mid = lo + span * 0.5
    c.fig.add_artist(Line2D([mid], [-0.3], marker="o", markersize=5, color=BLUE, transform=c.data))
    c.text(mid + span * 0.03, -0.3, after_label, size=7, colour=MUTED, va="center")
    return c.save(fmt, dpi)


RETENTION_COLOURS = (BLUE, "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#4a5568")


def retention_chart(
    curves: Sequence[tuple[str, Sequence[float], Sequence[float], Sequence[float], Sequence[float]]],
    *,
    months_label: str,
    retained_label: str,
    marks: Sequence[float] = (3, 6, 12),
    title: str | None = None,
    fmt: Format = "svg",
    dpi: int = 150,
    lang: str = "en",
    at_risk: Sequence[Sequence[int | None]] | None = None,
    at_risk_label: str = "",
) -> bytes:
    """Kaplan–Meier retention curves: each (label, times, survival, lower, upper) a step line with its
    confidence band; dotted guides at the ``marks`` months. Times in months, survival 0–1.

    ``at_risk``: per curve, the number of people still followed at month 0 and at each of the
    ``marks`` (None: not shown), written in rows under the time axis in the curve's colour, with
    ``at_risk_label`` above them (the usual number-at-risk table of a Kaplan–Meier plot)."""
    if not curves:
        raise ReportError("retention_chart needs at least one curve")
    if at_risk is not None and (len(at_risk) != len(curves) or any(len(row) != len(marks) + 1 for row in at_risk)):
        raise ReportError("retention_chart: at_risk needs one row per curve, with month 0 and each mark")
    font_files()
    rows = len(at_risk) if at_risk is not None else 0
    extra = 0.28 + 0.17 * rows if rows else 0.0  # inches under the axis for the at-risk rows
    height = 3.4 + extra
    fig = Figure(figsize=(6.4, height))
    _SVGCanvas(fig)
    bottom = (0.16 * 3.4 + extra) / height
    ax = fig.add_axes((0.1, bottom, 0.62, 0.72 * 3.4 / height))
    end = max([max(c[1], default=0.0) for c in curves] + [max(marks, default=12)])
    for k, (label, times, surv, lower, upper) in enumerate(curves):
        colour = RETENTION_COLOURS[k % len(RETENTION_COLOURS)]
        xs, ys = [0.0, *times, end], [1.0, *surv, surv[-1] if surv else 1.0]
        lo = [1.0, *lower, lower[-1] if lower else 1.0]
        hi = [1.0, *upper, upper[-1] if upper else 1.0]
        ax.fill_between(xs, lo, hi, step="post", color=colour, alpha=0.15, linewidth=0)
        # the first curve (the whole group) solid; the others dashed, so a curve that coincides stays visible
        ax.step(
            xs,
            ys,
            where="post",
            color=colour,
            linewidth=1.8 if k == 0 else 1.4,
            label=label,
            linestyle="-" if k == 0 else (0, (4, 2)),
        )
    for m in marks:
        ax.axvline(m, color=MUTED, linewidth=0.6, linestyle=":")
    ax.set_xlim(0, end)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(sorted({0, *marks, end}))
    ax.set_xticklabels([_format.number(t, 0, lang) for t in sorted({0, *marks, end})], fontfamily=_FONT, fontsize=7)
    ax.set_yticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.set_yticklabels(
        [f"{_format.number(v * 100, 0, lang)} %" for v in (0, 0.25, 0.5, 0.75, 1.0)], fontfamily=_FONT, fontsize=7
    )
    ax.set_xlabel(months_label, fontfamily=_FONT, fontsize=8, color=INK)
    ax.set_ylabel(retained_label, fontfamily=_FONT, fontsize=8, color=INK)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, prop={"family": _FONT, "size": 7})
    if at_risk is not None:
        top = -(0.16 * 3.4 + 0.08) * 72  # points under the axis: below the axis label
        ax.annotate(
            at_risk_label,
            xy=(0, 0),
            xycoords="axes fraction",
            xytext=(-4, top),
            textcoords="offset points",
            ha="left",
            va="top",
            fontsize=7,
            fontweight="bold",
            color=INK,
            fontfamily=_FONT,
        )
        for k, (row, curve) in enumerate(zip(at_risk, curves, strict=True)):
            colour = RETENTION_COLOURS[k % len(RETENTION_COLOURS)]
            y = top - 0.17 * 72 * (k + 1)
            for t, n in zip((0, *marks), row, strict=True):
                if n is None or t > end:
                    continue
                ax.annotate(
                    str(n),
                    xy=(t, 0),
                    xycoords=("data", "axes fraction"),
                    xytext=(0, y),
                    textcoords="offset points",
                    ha="center",
                    va="top",
                    fontsize=7,
                    color=colour,
                    fontfamily=_FONT,
                )
            ax.annotate(
                curve[0],
                xy=(1, 0),
                xycoords="axes fraction",
                xytext=(10, y),
                textcoords="offset points",
                ha="left",
                va="top",
                fontsize=7,
                color=colour,
                fontfamily=_FONT,
            )
    if title:
        fig.text(0.02, 0.96, title, fontsize=9.5, fontweight="bold", color=INK, fontfamily=_FONT, va="top")
    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "proforient"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else {"Software": None})
    return _lean_svg(buf.getvalue()) if fmt == "svg" else buf.getvalue()
