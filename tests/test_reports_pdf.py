"""PDF output: produced, Georgian text extractable, Noto fonts embedded, no WeasyPrint complaints.

WeasyPrint reports a glyph no font has (``.notdef glyph rendered``) and any CSS it
ignores through the ``weasyprint`` logger; ``render_pdf`` turns those into
warnings, the project runs with warnings as errors, and the fixture below also
fails on any WARNING record, so a box instead of a letter fails the tests.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pypdf
import pytest

import instruments
import reports
from reports import MissingGlyphWarning
from tests.test_reports_data import profile


@pytest.fixture
def no_weasyprint_warnings(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        yield
    bad = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint") and r.levelno >= logging.WARNING]
    assert bad == []


def _fonts(reader: pypdf.PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            names.add(str(ref.get_object()["/BaseFont"]))
    return names


@pytest.mark.usefixtures("no_weasyprint_warnings")
@pytest.mark.parametrize("audience", ["employment", "beneficiary"])
def test_georgian_pdf_is_produced_with_georgian_text(audience: str) -> None:
    pdf = reports.render_pdf(profile(), "ka", audience)
    assert pdf.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for word in ("პროფესიული", "ორიენტაციის", "კოსმეტოლოგი"):
        assert word in text, word
    assert ("SAE" in text) == (audience != "beneficiary")  # the beneficiary reads no letter codes
    assert any("NotoSansGeorgian" in f.replace("-", "") for f in _fonts(reader))
    first = reader.pages[0].extract_text()
    s = reports.strings("ka")
    assert s.get(f"ui.heading.{'you' if audience == 'beneficiary' else 'pro'}.summary") in first
    assert s.get("ui.heading.pro.interests") not in first and s.get("ui.heading.you.interests") not in first
    assert len(reader.pages) >= 2  # the summary stands alone on the first page


@pytest.mark.usefixtures("no_weasyprint_warnings")
def test_english_psychologist_pdf() -> None:
    pdf = reports.render_pdf(profile(), "en", "psychologist")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Primary career-orientation profile" in text and instruments.load("vdq").ref in text


def test_a_character_no_font_has_is_reported() -> None:
    odd = profile(name="\ue000 private-use")
    with pytest.warns(MissingGlyphWarning, match="U\\+E000"):
        reports.render_html(odd, "ka", "employment", charts=False)


def test_weasyprint_notdef_becomes_a_missing_glyph_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our own check runs first; silence it to prove WeasyPrint's own report is not lost either."""
    monkeypatch.setattr(reports._render, "warn_missing_glyphs", lambda text, where: None)  # noqa: SLF001
    odd = profile(name="\ue000")
    with pytest.warns(MissingGlyphWarning, match="WeasyPrint"):
        reports.render_pdf(odd, "en", "beneficiary", charts=False)


# ---------------------------------------------------------------- the report's HTML read without the HTML5 parser


def _tostring(tree: object) -> str:
    from xml.etree import ElementTree

    assert isinstance(tree, ElementTree.Element)
    return ElementTree.tostring(tree, encoding="unicode")


@pytest.mark.parametrize("lang", ["ka", "en"])
@pytest.mark.parametrize("audience", ["psychologist", "employment", "beneficiary"])
def test_the_pdf_reads_the_report_into_the_tree_html5_builds(audience: str, lang: str) -> None:
    """The PDF path builds the report's element tree with html.parser; it must be the tree WeasyPrint's
    own HTML5 parser (tinyhtml5) builds, element for element, with the text and whitespace in the same places."""
    import tinyhtml5  # type: ignore[import-untyped]  # WeasyPrint's HTML5 parser ships no type information

    from reports import _render, _render_pdf
    from reports._view import build_view

    odd = profile(name='N. <b>"Beridze" & Co</b>\u00a0\u2014 ნინო')  # markup characters in the data are text
    for inline_css in (False, True):
        html = _render._html(build_view(odd, lang, audience, False), True, inline_css=inline_css)  # noqa: SLF001
        tree = _render_pdf.html_tree(html)
        assert tree is not None  # the template stays inside the subset, so the fast path is taken
        assert _tostring(tree) == _tostring(tinyhtml5.parse(html, namespace_html_elements=False))


def test_the_tree_builder_follows_html5_where_the_template_relies_on_it() -> None:
    from reports._render_pdf import html_tree

    html = (
        "<!DOCTYPE html>\n<html lang='ka'>\n<head>\n<meta charset=utf-8>\n<title>a &amp; b</title>\n</head>\n"
        '<body class="x">\n<table>\n  <thead><tr><th>h</th></tr></thead>\n  <tr><td>1</td></tr>\n'
        "  <tr><td>2<br>3</td></tr>\n</table>\n<p>q &lt;r&gt;</p>\n</body>\n</html>\n"
    )
    # written out by hand: whitespace before <head> dropped, after </head> kept in <html>, the rows after
    # <thead> in an implied <tbody>, the text after </body> and </html> kept in the body
    expected = (
        '<html lang="ka"><head>\n<meta charset="utf-8" />\n<title>a &amp; b</title>\n</head>\n'
        '<body class="x">\n<table>\n  <thead><tr><th>h</th></tr></thead>\n  <tbody><tr><td>1</td></tr>\n'
        "  <tr><td>2<br />3</td></tr>\n</tbody></table>\n<p>q &lt;r&gt;</p>\n\n\n</body></html>"
    )
    assert _tostring(html_tree(html)) == expected


@pytest.mark.parametrize(
    "body",
    [
        "<p>a<div>b</div></p>",  # HTML5 closes the <p> before the <div>
        "<p>a",  # closed by HTML5, not by the text
        "<ul><li>a<li>b</ul>",
        "<table><td>a</td></table>",
        "<table>text<tr><td>a</td></tr></table>",  # HTML5 moves the text before the table
        "<a href='x'>a</a>",
        "<pre>\na</pre>",
        "<!-- a comment -->",
        "<div/>",
        "a\rb",
    ],
)
def test_html_outside_the_subset_is_left_to_the_html5_parser(body: str) -> None:
    from reports._render_pdf import html_tree

    html = f"<!DOCTYPE html>\n<html>\n<head>\n<title>t</title>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    assert html_tree(html) is None


# ---------------------------------------------------------------- WeasyPrint 70 patches: the same PDF as without them


def _pdf(audience: str, lang: str) -> bytes:
    odd = profile(name='N. <b>"Beridze" & Co</b>\u00a0\u2014 ნინო')  # Latin, Georgian, punctuation, a no-break space
    return reports.render_pdf(odd, lang, audience)


@pytest.mark.parametrize("lang", ["ka", "en"])
@pytest.mark.parametrize("audience", ["psychologist", "employment", "beneficiary"])
def test_glyphs_read_in_one_piece_paint_the_same_pdf(audience: str, lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each line painted by reading its glyphs in one piece (every text run and chart label) gives
    the PDF WeasyPrint's own ``draw_first_line`` gives, byte for byte."""
    from weasyprint.draw import text as draw_text_module

    from reports import _render_pdf

    assert _render_pdf.DRAW_FIRST_LINE_FAST  # WeasyPrint 70, as pinned
    fast = draw_text_module.draw_first_line
    patched = _pdf(audience, lang)
    monkeypatch.setattr(draw_text_module, "draw_first_line", fast.__wrapped__)
    assert _pdf(audience, lang) == patched


def test_a_missing_glyph_is_still_reported_when_glyphs_are_read_in_one_piece(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one-piece reading keeps WeasyPrint's .notdef branch: the same warning, the same PDF."""
    from weasyprint.draw import text as draw_text_module

    monkeypatch.setattr(reports._render, "warn_missing_glyphs", lambda text, where: None)  # noqa: SLF001
    odd = profile(name="\ue000")
    with pytest.warns(MissingGlyphWarning, match="U\\+E000"):
        patched = reports.render_pdf(odd, "en", "beneficiary", charts=False)
    monkeypatch.setattr(draw_text_module, "draw_first_line", draw_text_module.draw_first_line.__wrapped__)
    with pytest.warns(MissingGlyphWarning, match="U\\+E000"):
        assert reports.render_pdf(odd, "en", "beneficiary", charts=False) == patched


def test_the_layout_context_is_emptied_once_the_pdf_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """The layout context (which refers to itself and holds every computed style) is emptied after
    the render, so reference counting frees the styles; the PDF is the one WeasyPrint writes without it."""
    from weasyprint.document import Document

    from reports import _render_pdf

    assert _render_pdf.CONTEXTS_RELEASED
    recorded = Document.__dict__["_build_layout_context"]
    seen: list[object] = []

    def spy(cls: type, /, *args: object, **kwargs: object) -> object:
        context = recorded.__func__(cls, *args, **kwargs)
        seen.append(context)
        return context

    monkeypatch.setattr(Document, "_build_layout_context", classmethod(spy))
    released = _pdf("psychologist", "ka")
    assert len(seen) == 1 and vars(seen[0]) == {}  # made during the render, empty after it

    monkeypatch.setattr(Document, "_build_layout_context", classmethod(recorded.__func__.__wrapped__))
    assert _pdf("psychologist", "ka") == released
