"""HTML → PDF with WeasyPrint, keeping what is expensive to set up between reports.

Per report, WeasyPrint would otherwise build a new ``FontConfiguration`` (a fresh
Fontconfig/Pango font map, so every font is loaded and every shaping cache is
cold again) and parse the report stylesheet again. Both are kept per thread
(a Pango font map must not be shared between threads): the first PDF in a
thread pays for them, the next ones do not.

:func:`gc_paused` keeps Python's cyclic collector from walking the whole process
in the middle of a render (see there).

WeasyPrint 70 lays out and draws SVG ``<text>`` one letter at a time (to
support per-letter ``x``/``y``/``rotate`` lists), which made the charts' labels
cost more than the rest of a chart. Our charts (matplotlib, ``svg.fonttype =
none``) never use per-letter positioning, so such a label is laid out once as
a whole string (same position, font and anchor; the glyphs keep their normal
advances) and every other ``<text>`` goes to WeasyPrint's own routine. Upstream
proposes the same ("Fix SVG text chunk shaping", Kozea/WeasyPrint#2754).
"""

from __future__ import annotations

import gc
import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from math import inf
from typing import Any

import weasyprint
from weasyprint.text.fonts import FontConfiguration

_local = threading.local()


def _state(css: str, base_url: str) -> tuple[FontConfiguration, weasyprint.CSS]:
    """This thread's font configuration and the parsed stylesheet (parsed again only if it changed)."""
    state = getattr(_local, "state", None)
    if state is None or state[0] != css:
        font_config = state[1] if state is not None else FontConfiguration()
        sheet = weasyprint.CSS(string=css, base_url=base_url, font_config=font_config)
        state = _local.state = (css, font_config, sheet)
    return state[1], state[2]


def write_pdf(html: str, css: str, base_url: str) -> bytes:
    """The PDF of ``html`` (which carries no ``<style>`` of its own) styled by ``css``."""
    font_config, sheet = _state(css, base_url)
    pdf: bytes = weasyprint.HTML(string=html, base_url=base_url).write_pdf(font_config=font_config, stylesheets=[sheet])
    return pdf


# ---------------------------------------------------------------- cyclic GC paused while rendering

_gc_lock = threading.Lock()
_gc_renders = 0  # renders in progress, in all threads
_gc_resume = False  # whether the collector was on when the first of them started


@contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a report renders (in any thread); after each
    render, one collection of the young generation only, then the collector is on again.

    A PDF allocates a few hundred thousand short-lived objects; they push the collector into
    about one *full* collection per report, and a full collection walks every object of the
    whole process (matplotlib, WeasyPrint, pandas, the web application …): 80–110 ms here,
    more than the charts and the tables of the report together. Reference counting frees
    most objects at once; the ~40 000 in reference cycles (≈ 8 MB, all young) are freed by
    the young-generation collection at the end (≈ 15 ms), so memory does not grow even when
    renders in several threads overlap. If the application has switched the collector off
    itself, it stays off and nothing is collected here.
    """
    global _gc_renders, _gc_resume
    with _gc_lock:
        if _gc_renders == 0:
            _gc_resume = gc.isenabled()
            gc.disable()
        _gc_renders += 1
        resume = _gc_resume
    try:
        yield
    finally:
        if resume:
            gc.collect(0)
        with _gc_lock:
            _gc_renders -= 1
            if _gc_renders == 0 and _gc_resume:
                gc.enable()


# ---------------------------------------------------------------- SVG labels drawn whole

_PER_LETTER_ONLY = ("rotate", "textLength", "lengthAdjust", "letter-spacing")


def _single(node: Any, name: str, font_size: float, reference: float) -> tuple[float | None, bool]:
    """(value, ok): an absent attribute is (None, True); a list of several values is not ok."""
    from weasyprint.svg.utils import normalize, size

    raw = node.attrib.get(name)
    if raw is None:
        return None, True
    parts = normalize(raw).strip().split(" ")
    if len(parts) != 1:
        return None, False
    return size(parts[0], font_size, reference), True


def _make_svg_text(original: Any) -> Any:
    from weasyprint.css.properties import INITIAL_VALUES
    from weasyprint.draw.text import draw_emojis, draw_first_line
    from weasyprint.matrix import Matrix
    from weasyprint.svg.bounding_box import extend_bounding_box
    from weasyprint.svg.text import Style, TextBox
    from weasyprint.text.line_break import split_first_line

    def svg_text(svg: Any, node: Any, font_size: float) -> None:
        """WeasyPrint's ``svg.text.text`` for a label with one position: laid out and drawn as one run."""
        string = node.text
        if not string or "\n" in string or any(node.get(a) is not None for a in _PER_LETTER_ONLY):
            original(svg, node, font_size)
            return
        x, ok_x = _single(node, "x", font_size, svg.inner_width)
        y, ok_y = _single(node, "y", font_size, svg.inner_height)
        dx, ok_dx = _single(node, "dx", font_size, svg.inner_width)
        dy, ok_dy = _single(node, "dy", font_size, svg.inner_height)
        if not (ok_x and ok_y and ok_dx and ok_dy):
            original(svg, node, font_size)
            return

        # the style exactly as WeasyPrint's own text() builds it
        style = Style()
        style.update(INITIAL_VALUES)
        style.font_config = svg.font_config
        style["font_family"] = [f.strip("\"'") for f in node.get("font-family", "sans-serif").split(",")]
        style["font_style"] = node.get("font-style", "normal")
        weight = node.get("font-weight", 400)
        weight = 400 if weight == "normal" else 700 if weight == "bold" else weight
        try:
            style["font_weight"] = int(weight)
        except ValueError:
            style["font_weight"] = 400
        style["font_size"] = font_size
        if node.get("direction") in ("ltr", "rtl"):
            style["direction"] = node.get("direction")

        layout, _, resume_index, width, height, baseline = split_first_line(string, style, svg.context, inf, 0)
        if resume_index is not None:  # more than one line after all
            original(svg, node, font_size)
            return

        ascent, descent = font_size * 0.8, font_size * 0.2  # as WeasyPrint's text()
        y_align = 0.0
        anchor = node.get("display-anchor")
        baseline_kind = node.get("dominant-baseline", node.get("alignment-baseline"))
        if anchor == "top":
            y_align = 0.0
        elif anchor == "middle":
            y_align = -height / 2
        elif anchor == "bottom":
            y_align = -height
        elif baseline_kind in ("central", "middle"):
            y_align = (ascent + descent) / 2 - descent
        elif baseline_kind in ("text-before-edge", "before_edge", "top", "hanging", "text-top"):
            y_align = ascent
        elif baseline_kind in ("text-after-edge", "after_edge", "bottom", "text-bottom"):
            y_align = -descent

        # cursor bookkeeping as WeasyPrint does it for the first letter, then advance by the whole width
        if x:
            svg.cursor_d_position[0] = 0
        if y:
            svg.cursor_d_position[1] = 0
        svg.cursor_d_position[0] += dx or 0
        svg.cursor_d_position[1] += dy or 0
        x = svg.cursor_position[0] if x is None else x
        y = svg.cursor_position[1] if y is None else y
        x_position = x + svg.cursor_d_position[0]
        y_position = y + svg.cursor_d_position[1] + y_align
        node.text_bounding_box = extend_bounding_box(
            node.text_bounding_box,
            ((x_position, y_position - baseline), (x_position + width, y_position - baseline + height)),
        )
        svg.cursor_position = x + width, y

        svg.stream.push_state()
        fill, stroke = svg.set_graphical_state(node, font_size)
        svg.stream.begin_text()
        layout.reactivate(style)
        svg.fill_stroke(fill, stroke, text=True)
        text_box = TextBox(layout, style)
        text_box.baseline = baseline
        emojis = draw_first_line(svg.stream, text_box, "none", "none", Matrix(a=1, d=-1, e=x_position, f=y_position))
        svg.stream.end_text()
        svg.stream.pop_state()
        draw_emojis(svg.stream, style, x, y, emojis)
        return

    return svg_text


def _install_svg_text() -> bool:
    """Route WeasyPrint's SVG ``<text>`` through :func:`svg_text`; only on the version it was
    written against (on any other, WeasyPrint's own routine stays: slower, never wrong)."""
    import weasyprint.svg as svg_module

    # not `import weasyprint.svg.text`: the package's name `text` is the function, not the module
    svg_text_module = importlib.import_module("weasyprint.svg.text")

    original = getattr(svg_text_module, "text", None)
    if not weasyprint.__version__.startswith("70.") or original is None or svg_module.TAGS.get("text") is not original:
        return False
    fast = _make_svg_text(original)
    for tag, handler in list(svg_module.TAGS.items()):
        if handler is original:
            svg_module.TAGS[tag] = fast
    svg_module.text = fast  # draw_node compares TAGS entries with this name to find text nodes
    return True


SVG_TEXT_FAST = _install_svg_text()
