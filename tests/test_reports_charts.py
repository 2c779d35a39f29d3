"""Charts: PNG and SVG bytes from ``matplotlib.figure.Figure``, Georgian labels, no missing glyphs.

The project runs with warnings as errors, so matplotlib's "Glyph … missing from
font(s)" warning fails any test that draws a chart; the last tests prove the
warning does fire when a glyph is really missing.
"""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

import reports
from tests.test_reports_data import profile

NAMES_KA = {
    "R": "რეალისტური",
    "I": "კვლევითი",
    "A": "არტისტული",
    "S": "სოციალური",
    "E": "მეწარმეობრივი",
    "C": "კონვენციური",
}
TOTALS = {"R": 4, "I": 2, "A": 16, "S": 22, "E": 12, "C": 6}


def _charts(fmt: str) -> dict[str, bytes]:
    return {
        "hexagon": reports.riasec_hexagon(
            TOTALS, names=NAMES_KA, max_score=22, rings=(8, 15), highlight="SAE", fmt=fmt
        ),
        "bars": reports.riasec_bars(
            TOTALS, names=NAMES_KA, max_score=22, bands=[(8, "დაბალი"), (15, "საშუალო"), (22, "მაღალი")], fmt=fmt
        ),
        "barriers": reports.barrier_profile(
            [("ინფორმაციის ნაკლებობა", 3.4), ("მზაობა", 1.2), ("უნარები", math.nan)],
            zones=[(1, 2, "არ ვლინდება"), (2, 2.75, "ზომიერი"), (2.75, 4, "გამოკვეთილი")],
            lo=1,
            hi=4,
            fmt=fmt,
        ),
        "bipolar": reports.bipolar_profile(
            [reports.BipolarRow("ექსტრავერსია (E)", "ინტროვერსია (I)", -14, 24, "მკაფიოდ")],
            zones=[(0.2, "სუსტად"), (0.5, "ზომიერად"), (0.8, "მკაფიოდ"), (1.0, "ძალიან")],
            fmt=fmt,
        ),
        "change": reports.change_chart(
            [("ინფორმაცია", 3.4, 2.6), ("მზაობა", 1.2, math.nan)],
            lo=1,
            hi=4,
            before_label="01.12.2024",
            after_label="14.03.2025",
            fmt=fmt,
        ),
    }


def test_png_charts() -> None:
    for name, data in _charts("png").items():
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), name


def test_svg_charts_keep_georgian_as_text() -> None:
    charts = _charts("svg")
    for name, data in charts.items():
        assert b"<svg" in data[:400], name
        assert "Noto Sans Georgian" in data.decode("utf-8"), name
    assert "სოციალური" in charts["hexagon"].decode("utf-8")
    assert "ექსტრავერსია (E)" in charts["bipolar"].decode("utf-8")


def test_hexagon_polygon_follows_the_scores() -> None:
    a = reports.riasec_hexagon(TOTALS, names=NAMES_KA, max_score=22, fmt="svg")
    b = reports.riasec_hexagon({**TOTALS, "R": 20}, names=NAMES_KA, max_score=22, fmt="svg")
    assert a != b
    assert reports.riasec_hexagon(TOTALS, names=NAMES_KA, max_score=22, fmt="svg") == a  # deterministic


def test_view_charts_follow_the_audience() -> None:
    p = profile()
    psych = reports.view_charts(reports.build_view(p, "ka", "psychologist"))
    assert set(psych) == {"hexagon", "riasec_bars", "barriers", "bipolar"}
    assert "ემოციური დაძაბულობა" in psych["barriers"].decode("utf-8")
    employment = reports.view_charts(reports.build_view(p, "ka", "employment"))
    assert "ემოციური დაძაბულობა" not in employment["barriers"].decode("utf-8")
    assert set(reports.view_charts(reports.build_view(p, "ka", "beneficiary"))) == {"riasec_bars", "bipolar"}


def test_bad_chart_input_is_a_clear_error() -> None:
    with pytest.raises(reports.ReportError, match="svg' or 'png"):
        reports.riasec_bars(TOTALS, names=NAMES_KA, max_score=22, fmt="jpg")  # type: ignore[arg-type]
    with pytest.raises(reports.ReportError, match="every type"):
        reports.riasec_hexagon({"R": 1}, names=NAMES_KA, max_score=22)


def test_missing_glyph_warning_fires() -> None:
    """A label no font can draw must warn (and so fail every other test that draws one)."""
    with pytest.warns(UserWarning, match="Glyph .* missing"):
        reports.barrier_profile([("\ue000", 2.0)], zones=[(1, 4, "x")], lo=1, hi=4, fmt="png")


def test_charts_never_load_pyplot() -> None:
    code = (
        "import reports, sys; reports.riasec_bars({L: 1 for L in 'RIASEC'}, names={L: L for L in 'RIASEC'}, "
        "max_score=22, fmt='png'); print('matplotlib.pyplot' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_chart_values_are_written_as_the_report_writes_them() -> None:
    """A report passes each score as its text writes it (Georgian decimal comma, * for a prorated score)."""
    totals = {**TOTALS, "E": 11 * 22 / 21}
    written = {**{L: str(v) for L, v in TOTALS.items()}, "E": "11,5*"}
    for chart in (reports.riasec_bars, reports.riasec_hexagon):
        svg = chart(totals, names=NAMES_KA, max_score=22, values=written, fmt="svg").decode("utf-8")
        assert ">11,5*<" in svg and ">11.5<" not in svg, chart.__name__
        plain = chart(totals, names=NAMES_KA, max_score=22, fmt="svg").decode("utf-8")
        assert "11.5<" in plain, chart.__name__  # without them, the plain number
    zones = [(1, 2, "არ ვლინდება"), (2, 2.75, "ზომიერი"), (2.75, 4, "გამოკვეთილი")]
    svg = reports.barrier_profile([("მზაობა", 2.6667, "2,67*")], zones=zones, lo=1, hi=4, fmt="svg").decode("utf-8")
    assert ">2,67*<" in svg and ">2.67<" not in svg
    assert ">2.67<" in reports.barrier_profile([("მზაობა", 2.6667)], zones=zones, lo=1, hi=4, fmt="svg").decode("utf-8")
