"""House rules for ``reports``: a pinned public surface (its imports: import-linter contracts in pyproject.toml)."""

from __future__ import annotations

import reports


def test_public_surface_is_pinned() -> None:
    public = {n for n in dir(reports) if not n.startswith("_") and not isinstance(getattr(reports, n), type(reports))}
    assert sorted(reports.__all__) == sorted(public - {"annotations"})
    for name in (
        "build_profile",
        "render_html",
        "render_pdf",
        "render_json",
        "match_occupations",
        "riasec_hexagon",
        "riasec_bars",
        "barrier_profile",
        "bipolar_profile",
        "change_chart",
        "check_strings",
        "ReportError",
        "ReportConfig",
        "Reliability",
        "AUDIENCES",
        "PACKET_PARTS",
        "packet_view",
        "render_view_html",
        "render_view_pdf",
        "view_json",
    ):
        assert name in reports.__all__


def test_build_profile_takes_records_and_definitions_by_keyword() -> None:
    import inspect

    params = inspect.signature(reports.build_profile).parameters
    assert list(params)[:2] == ["person_id", "records"]
    for name in ("previous", "norms", "reliabilities", "definitions", "catalogue"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name


def test_report_error_is_part_of_the_one_error_tree() -> None:
    import scoring

    assert issubclass(reports.ReportError, scoring.ProforientError)
    assert issubclass(reports.ReportError, ValueError)
