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

Every run of text WeasyPrint measures or draws (≈ 2 000 in a psychologist's
report) gets a ``Layout`` whose set-up made a new Pango context and a new font
description each time, although a report has only a handful of different ones:
:func:`_make_layout_setup` makes each once (per font configuration, so per
thread) and reuses it. The PDF is byte for byte the same.

WeasyPrint reads HTML with tinyhtml5, an HTML5 parser in pure Python (5–15 ms
for a report). Our template writes well-formed HTML, so :func:`html_tree` builds
the same element tree with the standard library's ``html.parser`` in about a
fifth of the time, and hands anything outside that subset back to WeasyPrint.

``resolve_percentages`` runs for every box at every layout step (~2 500 times
per report) and was ~30 function calls each time; the same steps written out in
one loop (:func:`_make_resolve_percentages`) give the same used values.

Each of these is installed only on WeasyPrint 70 (the version it was written
against; on any other WeasyPrint's own code stays), and each leaves the PDF
byte for byte as it was.
"""

from __future__ import annotations

import gc
import importlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from math import inf
from typing import Any
from xml.etree import ElementTree

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
    with _contexts_released():
        pdf: bytes = _document(html, base_url).write_pdf(font_config=font_config, stylesheets=[sheet])
    return pdf


# ---------------------------------------------------------------- the layout context let go of once the PDF exists


@contextmanager
def _contexts_released() -> Iterator[None]:
    """Every WeasyPrint ``LayoutContext`` made inside the block (this thread) emptied when it ends.

    A layout context refers to itself (its ``get_image_from_uri`` is a partial of it, and the
    SVG images it loaded point back to it), and it holds every computed style of the document
    (≈ 35 000 dicts and tuples per psychologist's report): reference counting can never free
    them, so the young-generation collection after each render (:func:`gc_paused`) had to find
    and free them all. WeasyPrint needs the context only while it lays out and paints; once
    ``write_pdf`` has returned the bytes, emptying it breaks the cycle and the styles are freed
    at once. Only on WeasyPrint 70 (see :func:`_install_context_record`); the PDF is already
    written when this runs, so it cannot change it.
    """
    made: list[Any] = []
    previous = getattr(_local, "contexts", None)
    _local.contexts = made
    try:
        yield
    finally:
        _local.contexts = previous
        for context in made:
            context.__dict__.clear()


def _install_context_record() -> bool:
    """Record each layout context ``Document._build_layout_context`` makes inside
    :func:`_contexts_released`; only on the version this was written against."""
    from weasyprint.document import Document

    original = Document.__dict__.get("_build_layout_context")
    if (
        not weasyprint.__version__.startswith("70.")
        or not isinstance(original, classmethod)
        or getattr(original.__func__, "__wrapped__", None) is not None
    ):
        return False
    build = original.__func__

    def _build_layout_context(cls: Any, *args: Any, **kwargs: Any) -> Any:
        context = build(cls, *args, **kwargs)
        made = getattr(_local, "contexts", None)
        if made is not None:
            made.append(context)
        return context

    _build_layout_context.__wrapped__ = build  # type: ignore[attr-defined]
    setattr(Document, "_build_layout_context", classmethod(_build_layout_context))  # noqa: B010 - a private name
    return True


CONTEXTS_RELEASED = _install_context_record()


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
    from weasyprint.draw import text as draw_text_module
    from weasyprint.draw.text import draw_emojis
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
        # looked up when called: the glyph reading below (:func:`_make_draw_first_line`) may replace it
        matrix = Matrix(a=1, d=-1, e=x_position, f=y_position)
        emojis = draw_text_module.draw_first_line(svg.stream, text_box, "none", "none", matrix)
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


# ---------------------------------------------------------------- Pango set-up reused between text runs

_DESCRIPTIONS: dict[tuple[object, ...], Any] = {}
_DESCRIPTIONS_MAX = 4096


def _make_layout_setup(original: Any) -> Any:
    import weakref

    from weasyprint.text import line_break
    from weasyprint.text.constants import LST_TO_ISO, PANGO_DIRECTION
    from weasyprint.text.ffi import FROM_UNITS, ffi, gobject, pango, unicode_to_char_p
    from weasyprint.text.fonts import font_features, get_font_description

    # per font configuration (so per font map, and so per thread here): (direction, language) →
    # (PangoContext, PangoLanguage, {font description key: decoration metrics})
    contexts: weakref.WeakKeyDictionary[Any, dict[tuple[str, str | None], tuple[Any, Any, dict[Any, Any]]]]
    contexts = weakref.WeakKeyDictionary()

    def description(style: Any) -> tuple[Any, Any]:
        variations = style["font_variation_settings"]
        key = (
            tuple(style["font_family"]),
            style["font_style"],
            style["font_stretch"],
            style["font_weight"],
            int(style["font_size"] * line_break.TO_UNITS),
            style["font_variant_caps"],
            variations if variations == "normal" else tuple(map(tuple, variations)),
        )
        found = _DESCRIPTIONS.get(key)
        if found is None:
            if len(_DESCRIPTIONS) >= _DESCRIPTIONS_MAX:
                _DESCRIPTIONS.clear()
            found = _DESCRIPTIONS[key] = get_font_description(style)
        return key, found

    def setup(self: Any, style: Any) -> None:
        """WeasyPrint's ``Layout.setup`` (same calls, same order, same results), with the Pango
        context, the font description and the decoration metrics made once and reused."""
        self.style = style
        self.first_line_direction = 0

        if style["font_language_override"] != "normal":
            lang = LST_TO_ISO.get(style["font_language_override"].lower(), style["font_language_override"])
        else:
            lang = style["lang"] or None
        font_config = style.font_config
        per_config = contexts.get(font_config)
        if per_config is None:
            per_config = contexts[font_config] = {}
        found = per_config.get((style["direction"], lang))
        if found is None:
            pango_context = ffi.gc(pango.pango_font_map_create_context(font_config.font_map), gobject.g_object_unref)
            pango.pango_context_set_round_glyph_positions(pango_context, False)
            pango.pango_context_set_base_dir(pango_context, PANGO_DIRECTION[style["direction"]])
            if lang:
                lang_p, _ = unicode_to_char_p(lang)
                language = pango.pango_language_from_string(lang_p)
                pango.pango_context_set_language(pango_context, language)
            else:
                language = pango.pango_language_get_default()
            found = per_config[style["direction"], lang] = (pango_context, language, {})
        pango_context, self.language, decorations = found

        key, font_description = description(style)
        self.layout = ffi.gc(pango.pango_layout_new(pango_context), gobject.g_object_unref)
        pango.pango_layout_set_auto_dir(self.layout, False)
        pango.pango_layout_set_font_description(self.layout, font_description)

        if style["text_decoration_line"] != "none":
            metrics = decorations.get(key)
            if metrics is None:
                m = ffi.gc(
                    pango.pango_context_get_metrics(pango_context, font_description, self.language),
                    pango.pango_font_metrics_unref,
                )
                metrics = decorations[key] = (
                    FROM_UNITS * pango.pango_font_metrics_get_ascent(m),
                    FROM_UNITS * pango.pango_font_metrics_get_underline_position(m),
                    FROM_UNITS * pango.pango_font_metrics_get_strikethrough_position(m),
                    FROM_UNITS * pango.pango_font_metrics_get_underline_thickness(m),
                    FROM_UNITS * pango.pango_font_metrics_get_strikethrough_thickness(m),
                )
            (
                self.ascent,
                self.underline_position,
                self.strikethrough_position,
                self.underline_thickness,
                self.strikethrough_thickness,
            ) = metrics
        else:
            self.ascent = None
            self.underline_position = None
            self.strikethrough_position = None

        features = font_features(
            style["font_kerning"],
            style["font_variant_ligatures"],
            style["font_variant_position"],
            style["font_variant_caps"],
            style["font_variant_numeric"],
            style["font_variant_alternates"],
            style["font_variant_east_asian"],
            style["font_feature_settings"],
        )
        if features:
            encoded = ",".join(f"{k} {v}" for k, v in features.items()).encode()
            attr = font_config.font_features.setdefault(encoded, pango.pango_attr_font_features_new(encoded))
            attr_list = pango.pango_attr_list_new()
            pango.pango_attr_list_insert(attr_list, attr)
            pango.pango_layout_set_attributes(self.layout, attr_list)

    setup.__wrapped__ = original  # type: ignore[attr-defined]
    return setup


def _install_layout_setup() -> bool:
    """Route WeasyPrint's ``Layout.setup`` through the reusing version; only on the version it
    was written against (on any other, WeasyPrint's own stays: slower, never wrong)."""
    from weasyprint.text import line_break

    original = line_break.Layout.setup
    if not weasyprint.__version__.startswith("70.") or getattr(original, "__wrapped__", None) is not None:
        return False
    line_break.Layout.setup = _make_layout_setup(original)
    return True


LAYOUT_SETUP_REUSED = _install_layout_setup()


# ---------------------------------------------------------------- the report's HTML read without an HTML5 parser

_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
_HEAD = frozenset({"meta", "title", "style"})
# elements of the subset; anything else (a, pre, svg, form, template …) goes to the HTML5 parser
_KNOWN = _HEAD | frozenset(
    "html head body div p span strong em b i small br img figure figcaption section header footer "
    "h1 h2 h3 h4 h5 h6 ul ol li table thead tbody tfoot tr th td".split()
)
# start tags that would close an open <p> in HTML5
_CLOSES_P = frozenset("div figure figcaption section header footer h1 h2 h3 h4 h5 h6 ul ol li p table".split())
_TABLE_PARTS = frozenset({"table", "thead", "tbody", "tfoot", "tr"})
_SECTIONS = frozenset({"thead", "tbody", "tfoot"})


class _Unsupported(Exception):
    """The HTML leaves the subset :class:`_TreeBuilder` builds exactly as HTML5 does."""


class _TreeBuilder(HTMLParser):
    """The element tree an HTML5 parser (WeasyPrint's tinyhtml5, without namespaces) builds,
    for the well-formed subset the report template writes; ``html.parser`` reads it in a
    fraction of the time.

    The subset: ``<!DOCTYPE html>``, one ``<html>`` holding ``<head>`` (meta, title, style)
    and ``<body>``; the elements of :data:`_KNOWN`, each closed in order (void elements
    excepted), nothing that HTML5 would close or move by itself (a block inside ``<p>``, a list
    item outside a list, text or other elements directly in a table's rows). A table's rows
    outside ``thead``/``tfoot`` get their implied ``<tbody>``, and whitespace goes where HTML5
    puts it (dropped before ``<head>``, after ``</head>`` into ``<html>``, after ``</body>``
    into the body). Anything else raises :class:`_Unsupported`, and the caller lets WeasyPrint
    parse. ``tests/test_reports_pdf.py`` compares both trees for every audience and language.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: ElementTree.Element | None = None
        self.body: ElementTree.Element | None = None
        self.stack: list[ElementTree.Element] = []
        self.implied: ElementTree.Element | None = None  # the open <tbody> HTML5 added
        self.phase = "start"  # start, head, after_head, body, after_body

    @staticmethod
    def _text(parent: ElementTree.Element, data: str) -> None:
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + data
        else:
            parent.text = (parent.text or "") + data

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _KNOWN:
            raise _Unsupported(tag)
        attrib: dict[str, str] = {}
        for name, value in attrs:
            if name in attrib:
                raise _Unsupported(f"two {name} attributes")
            attrib[name] = "" if value is None else value
        element = ElementTree.Element(tag, attrib)
        expected = {"html": "start", "head": "before_head", "body": "after_head"}.get(tag)
        if expected is not None:
            if self.phase != expected:
                raise _Unsupported(f"<{tag}> in phase {self.phase}")
            if tag == "html":
                self.root = element
            else:
                assert self.root is not None  # noqa: S101 - the phase says <html> came
                self.root.append(element)
            self.stack.append(element)
            self.phase = {"html": "before_head", "head": "head", "body": "body"}[tag]
            if tag == "body":
                self.body = element
            return
        in_head = self.phase == "head" and tag in _HEAD and self.stack[-1].tag == "head"
        if not in_head and (self.phase != "body" or tag in _HEAD):
            raise _Unsupported(f"<{tag}> in phase {self.phase}")
        current = self.stack[-1]
        if tag in _CLOSES_P and any(e.tag == "p" for e in self.stack):
            raise _Unsupported(f"<{tag}> inside <p>")
        if tag == "li" and current.tag not in ("ul", "ol"):
            raise _Unsupported("<li> outside a list")
        if tag == "tr" and current.tag == "table":  # HTML5's implied <tbody>
            tbody = ElementTree.Element("tbody")
            current.append(tbody)
            self.stack.append(tbody)
            self.implied = current = tbody
        allowed = {
            "table": _SECTIONS,
            "thead": {"tr"},
            "tbody": {"tr"},
            "tfoot": {"tr"},
            "tr": {"td", "th"},
        }.get(current.tag)
        if allowed is not None and tag not in allowed:
            raise _Unsupported(f"<{tag}> directly in <{current.tag}>")
        if tag in _SECTIONS | {"tr", "td", "th"} and allowed is None:
            raise _Unsupported(f"<{tag}> outside a table")
        current.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _VOID:
            raise _Unsupported(f"<{tag}/>")
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID or not self.stack:
            raise _Unsupported(f"</{tag}>")
        if tag == "html":
            if self.phase != "after_body":
                raise _Unsupported("</html> before </body>")
            self.phase = "end"
            return
        if tag == "table" and self.stack[-1] is self.implied:
            self.stack.pop()
            self.implied = None
        if self.stack[-1].tag != tag or self.phase in ("after_body", "end"):
            raise _Unsupported(f"</{tag}> closes <{self.stack[-1].tag}>")
        if tag == "body":  # HTML5 keeps <body> open for the text that follows
            self.phase = "after_body"
            return
        closed = self.stack.pop()
        if closed is self.implied:
            self.implied = None
        if tag == "head":
            self.phase = "after_head"

    def handle_data(self, data: str) -> None:
        blank = not data.strip(" \t\n\f")
        if self.phase in ("start", "before_head"):
            if not blank:
                raise _Unsupported("text before <head>")
            return
        if self.phase in ("after_head", "after_body", "end"):
            if not blank:
                raise _Unsupported(f"text in phase {self.phase}")
            target = self.root if self.phase == "after_head" else self.body
        else:
            target = self.stack[-1]
            if not blank and target.tag in _TABLE_PARTS | {"head"}:
                raise _Unsupported(f"text directly in <{target.tag}>")
        assert target is not None  # noqa: S101 - the phase says it exists
        self._text(target, data)

    def handle_comment(self, data: str) -> None:
        raise _Unsupported("a comment")

    def handle_decl(self, decl: str) -> None:
        if decl.lower() != "doctype html" or self.phase != "start":
            raise _Unsupported(decl)

    def handle_pi(self, data: str) -> None:
        raise _Unsupported("a processing instruction")

    def unknown_decl(self, data: str) -> None:
        raise _Unsupported(data)


def html_tree(html: str) -> ElementTree.Element | None:
    """The tree WeasyPrint's HTML5 parser would build from ``html``, or None when ``html``
    leaves the subset :class:`_TreeBuilder` reads (carriage returns and NUL included: HTML5
    rewrites them before parsing)."""
    if "\r" in html or "\x00" in html:
        return None
    builder = _TreeBuilder()
    try:
        builder.feed(html)
        builder.close()
    except _Unsupported:
        return None
    if builder.phase != "end" or builder.root is None:
        return None
    return builder.root


def _document(html: str, base_url: str) -> weasyprint.HTML:
    """``weasyprint.HTML(string=html, base_url=base_url)``, with the tree from :func:`html_tree`
    when the HTML is in its subset and WeasyPrint is the version this was written against."""
    tree = html_tree(html) if _HTML_TREE_OK else None
    if tree is None:
        return weasyprint.HTML(string=html, base_url=base_url)
    import cssselect2  # type: ignore[import-untyped]  # no type information shipped
    from weasyprint.urls import URLFetcher, ensure_url

    # what HTML.__init__ sets after parsing (WeasyPrint 70); <base> is not in the subset
    document = weasyprint.HTML.__new__(weasyprint.HTML)
    document.base_url = ensure_url(base_url)
    document.url_fetcher = URLFetcher()
    document.media_type = "print"
    document.wrapper_element = cssselect2.ElementWrapper.from_html_root(tree, content_language=None)
    document.etree_element = document.wrapper_element.etree_element
    return document


_HTML_TREE_OK = weasyprint.__version__.startswith("70.")


# ---------------------------------------------------------------- used values of percentages, with fewer calls

_SIDES = ("top", "right", "bottom", "left")


def _make_resolve_percentages(original: Any) -> Any:
    from weasyprint.css.functions import check_math
    from weasyprint.formatting_structure import boxes
    from weasyprint.layout import percent

    percentage = percent.percentage
    adjust_box_sizing = percent.adjust_box_sizing
    box_type, page_type = boxes.Box, boxes.PageBox
    borders = tuple(f"border_{side}_width" for side in _SIDES)

    def resolve_percentages(box: Any, containing_block: Any) -> None:
        """WeasyPrint's ``layout.percent.resolve_percentages``: the same properties in the same
        order with the same results, with ``resolve_one_percentage`` and ``percentage`` written
        out in the loop (it runs for every box at every layout, ~2 500 times per report)."""
        if isinstance(containing_block, box_type):
            cb_width = containing_block.width
            cb_height = containing_block.height
        else:
            cb_width, cb_height = containing_block
        maybe_height = cb_height if isinstance(box, page_type) else cb_width
        style = box.style
        auto_height = cb_height == "auto"
        for name, refer_to in (
            ("margin_left", cb_width),
            ("margin_right", cb_width),
            ("margin_top", maybe_height),
            ("margin_bottom", maybe_height),
            ("padding_left", cb_width),
            ("padding_right", cb_width),
            ("padding_top", maybe_height),
            ("padding_bottom", maybe_height),
            ("width", cb_width),
            ("min_width", cb_width),
            ("max_width", cb_width),
            ("height", None),  # the height's turn: below
            ("min_height", 0 if auto_height else cb_height),
            ("max_height", inf if auto_height else cb_height),
        ):
            if refer_to is None and name == "height":
                if not auto_height:
                    refer_to = cb_height
                else:
                    height = style["height"]
                    if height == "auto" or check_math(height) or height.unit == "%":
                        box.height = "auto"
                    else:
                        assert height.unit.lower() == "px"  # noqa: S101 - as WeasyPrint asserts
                        box.height = height.value
                    continue
            value = style[name]
            if value is not None and value != "auto":
                unit = getattr(value, "unit", None)
                if unit is None:
                    value = percentage(value, style, refer_to)  # calc(), min(), max() …
                elif unit == "%":
                    value = refer_to * value.value / 100
                else:
                    value = value.value
            setattr(box, name, value)
            if value == "auto" and name in ("min_width", "min_height"):
                setattr(box, name, 0)

        collapse = style["border_collapse"] == "collapse"
        for prop in borders:
            if not (collapse and hasattr(box, prop)):
                setattr(box, prop, style[prop])
        if style["box_sizing"] != "content-box":  # content-box subtracts nothing
            adjust_box_sizing(box, "width")
            adjust_box_sizing(box, "height")

    resolve_percentages.__wrapped__ = original  # type: ignore[attr-defined]
    return resolve_percentages


def _install_resolve_percentages() -> bool:
    """Route every WeasyPrint layout module's ``resolve_percentages`` through the version above;
    only on the version it was written against."""
    import pkgutil

    import weasyprint.layout as layout_package
    from weasyprint.layout import percent

    original = percent.resolve_percentages
    if not weasyprint.__version__.startswith("70.") or getattr(original, "__wrapped__", None) is not None:
        return False
    fast = _make_resolve_percentages(original)
    for info in pkgutil.iter_modules(layout_package.__path__):
        module = importlib.import_module(f"weasyprint.layout.{info.name}")
        if getattr(module, "resolve_percentages", None) is original:
            module.resolve_percentages = fast  # type: ignore[attr-defined]
    return True


PERCENTAGES_FAST = _install_resolve_percentages()


# ---------------------------------------------------------------- a line's glyphs read in one piece when painting

_GLYPH_INFO = "=IiiiI"  # PangoGlyphInfo: glyph, geometry (width, x_offset, y_offset), visual attributes


def _make_draw_first_line(original: Any) -> Any:
    import struct

    from weasyprint.logger import LOGGER
    from weasyprint.text.ffi import FROM_UNITS, ffi, pango

    unpack = struct.Struct(_GLYPH_INFO).iter_unpack
    info_size = struct.calcsize(_GLYPH_INFO)
    glyph_empty = pango.PANGO_GLYPH_EMPTY
    glyph_unknown = pango.PANGO_GLYPH_UNKNOWN_FLAG
    old_pango = pango.pango_version() < 14802

    def draw_first_line(stream: Any, textbox: Any, text_overflow: str, block_ellipsis: Any, matrix: Any) -> Any:
        """WeasyPrint's ``draw.text.draw_first_line``: the same operators with the same numbers, with
        each run's glyphs read from Pango's array in one piece (not field by field through cffi)
        and the ``TJ`` string built as a list. Ellipses and colour (emoji) fonts: WeasyPrint's own."""
        if text_overflow == "ellipsis" or block_ellipsis != "none":
            return original(stream, textbox, text_overflow, block_ellipsis, matrix)
        if not textbox.text.strip():
            return []
        style = textbox.style
        if style["font_size"] < 1e-6:
            return []
        layout = textbox.pango_layout
        pango.pango_layout_set_single_paragraph_mode(layout.layout, True)
        first_line, _index = layout.get_first_line()

        runs = []
        run = first_line.runs[0]
        while run != ffi.NULL:
            glyph_item = run.data
            run = run.next
            pango_font = glyph_item.item.analysis.font
            font, font_size = stream.add_font(pango_font)
            if font.svg or font.png or font.colr:
                return original(stream, textbox, text_overflow, block_ellipsis, matrix)
            runs.append((glyph_item, pango_font, font, font_size))

        stream.set_text_matrix(*matrix.values)
        previous_pango_font = None
        parts: list[str] = []
        font = font_size = None
        for glyph_item, pango_font, run_font, run_font_size in runs:
            glyph_string = glyph_item.glyphs
            num_glyphs = glyph_string.num_glyphs
            clusters = glyph_string.log_clusters
            utf8_text = None
            if pango_font != previous_pango_font:
                previous_pango_font = pango_font
                font, font_size = run_font, run_font_size
                if old_pango:
                    font_size = style["font_size"]
                string = "".join(parts)
                if string:
                    stream.show_text(string)
                parts = []
                stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
            parts.append("<")
            widths, to_unicode, bitmap = font.widths, font.to_unicode, font.bitmap
            glyphs = unpack(ffi.buffer(glyph_string.glyphs, num_glyphs * info_size))
            for i, (glyph_id, width, x_offset, y_offset, _attr) in enumerate(glyphs):
                if glyph_id == glyph_empty:
                    parts.append(f">{-width / font_size}<")
                    continue
                if glyph_id & glyph_unknown:
                    codepoint = glyph_id - glyph_unknown
                    LOGGER.warning(
                        '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)',
                        chr(codepoint),
                        codepoint,
                    )
                    glyph_id = font.get_unused_glyph_id(codepoint)
                    widths[glyph_id] = round(width * 1000 * FROM_UNITS / font_size)
                    if 0 not in widths:
                        widths[0] = widths[glyph_id]
                if glyph_id not in to_unicode:
                    offset = glyph_item.item.offset
                    t1 = clusters[i]
                    if glyph_item.item.analysis.level % 2:  # rtl
                        t2 = glyph_item.item.length if i == 0 else clusters[i - 1]
                    else:
                        t2 = glyph_item.item.length if i == num_glyphs - 1 else clusters[i + 1]
                    utf8_text = utf8_text or layout.text.encode()
                    to_unicode[glyph_id] = utf8_text[offset + t1 : offset + t2].decode()

                offset = x_offset / font_size
                rise = y_offset / 1000
                if rise:
                    string = "".join(parts)
                    string = string[:-1] if string[-1] == "<" else string + ">"
                    if string:
                        stream.show_text(string)
                    stream.set_text_rise(-rise)
                    string = f"{-offset}" if offset else ""
                    string += f"<{glyph_id:02x}>" if bitmap else f"<{glyph_id:04x}>"
                    stream.show_text(string)
                    stream.set_text_rise(0)
                    parts = ["<"]
                else:
                    if offset:
                        parts.append(f">{-offset}<")
                    parts.append(f"{glyph_id:02x}" if bitmap else f"{glyph_id:04x}")

                logical_width = widths.get(glyph_id)
                if logical_width is None:
                    pango.pango_font_get_glyph_extents(pango_font, glyph_id, stream.ink_rect, stream.logical_rect)
                    logical_width = widths[glyph_id] = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)
                kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
                if kerning:
                    parts.append(f">{int(kerning)}<")

            if parts[-1][-1] == "<":  # the string so far ends with "<" (every part is non-empty)
                parts[-1] = parts[-1][:-1]
            else:
                parts.append(">")
        stream.show_text("".join(parts))
        return []

    draw_first_line.__wrapped__ = original  # type: ignore[attr-defined]
    return draw_first_line


def _install_draw_first_line() -> bool:
    """Route WeasyPrint's ``draw_first_line`` (HTML text, and SVG labels through :func:`svg_text`)
    through the version above; only on the version it was written against."""
    import struct

    from weasyprint.draw import text as draw_text_module
    from weasyprint.text.ffi import ffi

    original = draw_text_module.draw_first_line
    if (
        not weasyprint.__version__.startswith("70.")
        or getattr(original, "__wrapped__", None) is not None
        or ffi.sizeof("PangoGlyphInfo") != struct.calcsize(_GLYPH_INFO)
    ):
        return False
    draw_text_module.draw_first_line = _make_draw_first_line(original)
    return True


DRAW_FIRST_LINE_FAST = _install_draw_first_line()
