"""Psychometrics for researchers validating the instruments on their population.

Pure numpy / scipy / pandas / statsmodels; no database, no reports, no texts.
Only the dataset functions (import, pseudonymized export, norm files) touch
files.

- Item and scale analysis from one covariance pass: ``item_analysis``
  (item statistics, α raw and standardized with Feldt's interval, λ6, ω,
  split halves, SEM, scale intercorrelations) and the coefficient functions
  it is built from (``cronbach_alpha``, ``omega_total``, …).
- Structure: ``parallel_analysis``, ``exploratory_factor_analysis``,
  ``circumplex_test``.
- DIF: ``mantel_haenszel`` (like/dislike, ETS A/B/C), ``ordinal_logistic_dif``
  (1–4 and paired items).
- Norms: ``build_norms`` → ``NormTable`` (PR, T, stanine per group).
- Change: ``test_retest``, ``reliable_change``.
- Retention (survival): ``kaplan_meier``, ``km_curve``, ``cox``, ``detectable_hazard_ratio``,
  ``cox_power``, ``simulate_placements`` (lifelines).
- Simulation: ``simulate`` (2PL / graded response, correlated traits, group
  differences, planted DIF) and ``population_values``.
- Data: ``read_dataset``, ``read_submissions`` (ODK Central / KoboToolbox exports of
  an instrument's XLSForm), ``export_pseudonymized``, ``write_norms``, ``read_norms``.

Variants reported where psych offers several: ``lambda6`` is Guttman's λ6 on
the correlation matrix with each item's smc from the other items of its scale
(psych ``alpha()``'s G6(smc)); ``omega_total`` is McDonald's ω total from a
one-factor minres solution of the correlation matrix with the observed total
variance as denominator (psych ``omega(nfactors = 1)``'s omega.tot).
"""

from ..tables import ID_COLUMNS, UnusedColumnsWarning, unused_columns_message
from ._change import ReliableChange, RetestReliability, reliable_change, test_retest
from ._circumplex import CircumplexTest, circumplex_test, hexagon_correlations, hexagon_distances
from ._coefficients import (
    alpha_ase,
    cov2cor,
    cronbach_alpha,
    feldt_interval,
    guttman_lambda6,
    minres,
    omega_total,
    smc,
    spearman_brown,
    split_halves,
    standard_error_of_measurement,
)
from ._datasets import (
    Dataset,
    DatasetError,
    DatasetProblem,
    dataset_from_frame,
    export_pseudonymized,
    new_study_salt,
    norm_paths,
    pseudonymized_frame,
    pseudonyms,
    read_dataset,
    read_norms,
    read_submissions,
    write_norms,
    write_table,
)
from ._dif import (
    LogisticDIF,
    MantelHaenszelDIF,
    benjamini_hochberg,
    ets_class,
    mantel_haenszel,
    ordinal_logistic_dif,
)
from ._factor import FactorSolution, ParallelAnalysis, exploratory_factor_analysis, parallel_analysis, promax, varimax
from ._items import (
    MISSING_POLICIES,
    AnalysisNote,
    ItemAnalysis,
    ItemAnalysisWarning,
    ItemStatistics,
    ScaleReliability,
    describe_missing,
    item_analysis,
)
from ._moments import ItemMoments, item_moments
from ._norms import NormSample, NormScores, NormTable, build_norms, sample_reliability, stanine_from_pr, t_from_pr
from ._simulate import (
    DIF,
    Group,
    ItemParameters,
    PopulationValues,
    SimulatedData,
    as_groups,
    planning_spec,
    population_values,
    random_parameters,
    simulate,
)
from ._survival import (
    CONGRUENCE_BANDS,
    CoxFit,
    CoxTerm,
    KMPoint,
    congruence_band,
    cox,
    cox_power,
    detectable_hazard_ratio,
    kaplan_meier,
    km_curve,
    predictive_validity,
    simulate_placements,
)

__all__ = [
    "AnalysisNote",
    "ID_COLUMNS",
    "MISSING_POLICIES",
    "DIF",
    "CircumplexTest",
    "Dataset",
    "DatasetError",
    "DatasetProblem",
    "FactorSolution",
    "Group",
    "ItemAnalysis",
    "ItemAnalysisWarning",
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
    "UnusedColumnsWarning",
    "alpha_ase",
    "as_groups",
    "benjamini_hochberg",
    "build_norms",
    "circumplex_test",
    "cov2cor",
    "cronbach_alpha",
    "dataset_from_frame",
    "describe_missing",
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
    "CoxFit",
    "CoxTerm",
    "KMPoint",
    "cox",
    "cox_power",
    "detectable_hazard_ratio",
    "kaplan_meier",
    "predictive_validity",
    "congruence_band",
    "CONGRUENCE_BANDS",
    "km_curve",
    "simulate_placements",
    "simulate",
    "smc",
    "spearman_brown",
    "split_halves",
    "standard_error_of_measurement",
    "stanine_from_pr",
    "t_from_pr",
    "test_retest",
    "unused_columns_message",
    "varimax",
    "write_norms",
    "write_table",
]
