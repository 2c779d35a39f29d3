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
