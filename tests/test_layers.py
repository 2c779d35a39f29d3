"""The house rules: scoring is pure; the public surface is pinned."""

from __future__ import annotations

import subprocess
import sys

import instruments
import scoring


def test_scoring_imports_no_api_reports_or_database():
    code = (
        "import sys, scoring; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('api', 'reports', 'instruments', 'sqlalchemy', 'fastapi')]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_surface_is_pinned():
    assert sorted(scoring.__all__) == sorted(
        n
        for n in dir(scoring)
        if not n.startswith("_")
        and n not in {"annotations", "research"}
        and not isinstance(getattr(scoring, n), type(scoring))
    )
    for name in (
        "score",
        "parse_responses",
        "ScoreResult",
        "InstrumentSpec",
        "MISSING",
        "ENGINE_VERSION",
        "iachan_m",
        "brown_gore_c",
        "zener_schnuelle",
        "ResponseValidationError",
    ):
        assert name in scoring.__all__
    for name in ("load", "load_path", "available", "scoring_spec", "Instrument", "InstrumentError"):
        assert name in instruments.__all__


def test_one_error_tree():
    assert issubclass(instruments.InstrumentError, scoring.ProforientError)
    assert issubclass(scoring.ResponseValidationError, scoring.ProforientError)
    assert issubclass(scoring.ScoringError, ValueError)
