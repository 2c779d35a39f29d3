"""The public surface is pinned; one error tree. (Import rules: import-linter contracts in pyproject.toml.)"""

from __future__ import annotations

import instruments
import scoring


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
