"""Interpretation reports: the primary career-orientation profile and per-instrument reports.

Scored results in, an HTML / PDF / JSON report out, in Georgian or English,
for the psychologist, the employment programmes department or the
beneficiary. ``reports`` reads instrument definitions and catalogues
(``instruments``) and scoring's result types; it never touches a database
and never imports ``api``.

>>> import reports
>>> # profile = reports.build_profile("B-0012", intake=row, vdq=row, sds=row, ppi=row,
>>> #                                 administrator="N. N.", administered=date(2025, 3, 14))
>>> # html = reports.render_html(profile, "ka", "employment")
>>> # pdf = reports.render_pdf(profile, "ka", "beneficiary")
>>> # with norms: build_profile(..., norms={"holland": scoring.research.read_norms(path_to_json)})
>>> # adds PR / T / stanine for the psychologist and names the table in every report;
>>> # a table that carries its sample's α and SD also gives SEM bands and reliable change.
"""

from ._charts import (
    BipolarRow,
    barrier_profile,
    bipolar_profile,
    change_chart,
    retention_chart,
    riasec_bars,
    riasec_hexagon,
)
from ._context import build_profile, stored_reliability_source
from ._errors import MissingGlyphWarning, ReportError
from ._fonts import FAMILIES, missing_glyphs
from ._format import DEFAULT_ZONE, local_date, spreadsheet_time, today
from ._format import day as format_day
from ._format import number as format_number
from ._format import plural as plural_category
from ._format import when as format_when
from ._format import zone as time_zone
from ._indicators import indicators_chart, render_indicators
from ._matching import Match, MatchResult, match_occupations
from ._model import Profile, Reliability, ReportConfig, ResultNote
from ._render import (
    RenderWarning,
    heading_case,
    jsonable_view,
    render_html,
    render_json,
    render_pdf,
    render_view_html,
    render_view_pdf,
    view_charts,
    view_json,
)
from ._strings import check_strings, required_keys, strings
from ._study import render_study
from ._view import AUDIENCES, PACKET_PARTS, build_view, packet_view

LANGS = ("ka", "en")

__all__ = [
    "AUDIENCES",
    "DEFAULT_ZONE",
    "BipolarRow",
    "FAMILIES",
    "LANGS",
    "Match",
    "MatchResult",
    "MissingGlyphWarning",
    "Profile",
    "Reliability",
    "ResultNote",
    "RenderWarning",
    "ReportConfig",
    "ReportError",
    "barrier_profile",
    "bipolar_profile",
    "build_profile",
    "build_view",
    "change_chart",
    "retention_chart",
    "check_strings",
    "format_day",
    "format_number",
    "format_when",
    "heading_case",
    "local_date",
    "plural_category",
    "spreadsheet_time",
    "time_zone",
    "today",
    "match_occupations",
    "missing_glyphs",
    "render_html",
    "render_json",
    "render_pdf",
    "required_keys",
    "riasec_bars",
    "riasec_hexagon",
    "stored_reliability_source",
    "strings",
    "view_charts",
    "PACKET_PARTS",
    "packet_view",
    "render_view_html",
    "render_view_pdf",
    "render_study",
    "render_indicators",
    "indicators_chart",
    "view_json",
    "jsonable_view",
]
