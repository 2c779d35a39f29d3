"""The public surface of scoring.research and its doctest examples (its layering: import-linter, pyproject.toml)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import scoring.research as rs

PACKAGE = Path(rs.__file__).parent
MODULES = sorted(m.name for m in pkgutil.iter_modules([str(PACKAGE)]))


def test_exported_members_are_pinned():
    assert set(rs.__all__) == {
        # survival: retention after placement and its predictive validity (issue 16)
        "CONGRUENCE_BANDS",
        "CoxFit",
        "CoxTerm",
        "KMPoint",
        "congruence_band",
        "cox",
        "cox_power",
        "detectable_hazard_ratio",
        "kaplan_meier",
        "km_curve",
        "predictive_validity",
        "simulate_placements",
        "DIF",
        "ID_COLUMNS",
        "MISSING_POLICIES",
        "ItemAnalysisWarning",
        "AnalysisNote",  # a note on an undefined statistic as data (key + values), for the report's languages
        "describe_missing",
        "UnusedColumnsWarning",
        "unused_columns_message",
        "CircumplexTest",
        "Dataset",
        "DatasetError",
        "DatasetProblem",
        "FactorSolution",
        "Group",
        "ItemAnalysis",
        "ItemMoments",
        "ItemParameters",
        "ItemStatistics",
        "LogisticDIF",
        "MantelHaenszelDIF",
        "NormSample",
        "NormScores",
        "NormTable",
        "ParallelAnalysis",
        "PopulationValues",
        "ReliableChange",
        "RetestReliability",
        "ScaleReliability",
        "SimulatedData",
        "alpha_ase",
        "as_groups",
        "benjamini_hochberg",
        "build_norms",
        "circumplex_test",
        "cov2cor",
        "cronbach_alpha",
        "dataset_from_frame",
        "ets_class",
        "exploratory_factor_analysis",
        "export_pseudonymized",
        "feldt_interval",
        "guttman_lambda6",
        "hexagon_correlations",
        "hexagon_distances",
        "item_analysis",
        "item_moments",
        "mantel_haenszel",
        "minres",
        "new_study_salt",
        "norm_paths",
        "omega_total",
        "ordinal_logistic_dif",
        "parallel_analysis",
        "planning_spec",
        "population_values",
        "promax",
        "pseudonymized_frame",
        "pseudonyms",
        "random_parameters",
        "read_dataset",
        "read_norms",
        "read_submissions",
        "reliable_change",
        "sample_reliability",
        "simulate",
        "smc",
        "spearman_brown",
        "split_halves",
        "standard_error_of_measurement",
        "stanine_from_pr",
        "t_from_pr",
        "test_retest",
        "varimax",
        "write_norms",
        "write_table",
    }
    for name in rs.__all__:
        assert getattr(rs, name) is not None


@pytest.mark.parametrize("module", MODULES)
def test_doctest_examples_run(module):
    mod = importlib.import_module(f"scoring.research.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("module", [m for m in MODULES if m != "_datasets"])
def test_only_the_dataset_module_touches_files(module):
    source = (PACKAGE / f"{module}.py").read_text(encoding="utf-8")
    for call in ("open(", "read_csv", "to_csv", "write_text", "read_text", "tempfile", "os.replace"):
        assert call not in source.replace(">>> ", ""), f"{module} uses {call}"


def test_results_are_frozen_dataclasses():
    import dataclasses

    for name in (
        "ItemAnalysis",
        "ScaleReliability",
        "ItemStatistics",
        "NormTable",
        "NormSample",
        "MantelHaenszelDIF",
        "LogisticDIF",
        "CircumplexTest",
        "ParallelAnalysis",
        "FactorSolution",
        "SimulatedData",
        "ReliableChange",
        "RetestReliability",
        "Dataset",
        "PopulationValues",
    ):
        cls = getattr(rs, name)
        assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, name
