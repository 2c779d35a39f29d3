"""Holland's secondary constructs, each from its published definition.

The engine (``_holland``) scores them for every administration of a ``holland``
instrument, with ties handled explicitly: an index that depends on the code is
reported as its minimum and maximum over every admissible ordering of tied
types, never for one ordering chosen silently. The functions here are the
definitions themselves, on one profile or one pair of codes; the engine's
columns are tested against them.

Differentiation (Bergmann, 1993, Table 1, p. 267, who catalogued the indices in
use; the same seven as Eder, 1998, and R ``holland::dif_7_holland``), with
s1 ≥ s2 ≥ … ≥ s6 the six scale scores sorted from the highest:

===== ================================================ ===========================
DI1   s1 − s2                                          Frantz & Walsh (1972)
DI2   s1 − s3                                          Spokane & Walsh (1978)
DI3   s1 − (s2 + s4)/2                                 Iachan (1984)
DI4   s1 − (s3 + s5)/2                                 Iachan (1984)
DI5   s1 − s6                                          Holland (1973)
DI6   (s1 − s6) / (s1 + … + s6)                        Peiser & Meir (1978)
DI7   √(Σ (s_k − mean)² / 6), the SD with divisor 6    Healy & Mourton (1983)
===== ================================================ ===========================

DI6 standardizes the range by the overall level of interest, taken as the total
of the six scores (as Bergmann tabulates it and R ``holland`` computes it); it
is undefined (NaN) for a profile whose total is 0. DI7 is the dispersion of the
six scores around their mean, as a population SD (divisor 6, not 5). Sorting
makes every differentiation index independent of how ties are ordered.

References
----------
Bergmann, C. (1993). Differenziertheit der Interessen und berufliche Entwicklung.
*Zeitschrift für Differentielle und Diagnostische Psychologie*, 14, 265–279.
Brown, S. D., & Gore, P. A. (1994). An evaluation of interest congruence indices.
*J. Vocational Behavior*, 45, 310–327.
Eder, F. (1998). Differenziertheit der Interessen als Prädiktor der Interessenentwicklung.
In J. Abel & C. Tarnai (Eds.), *Pädagogisch-psychologische Interessenforschung in Studium
und Beruf* (pp. 63–77). Waxmann.
Frantz, T. T., & Walsh, E. P. (1972). Exploration of Holland's theory of vocational choice
in graduate school environments. *J. Vocational Behavior*, 2, 223–232.
Gottfredson, G. D., & Jones, E. M. (1993). Psychological meaning of profile elevation in the
Vocational Preference Inventory. *J. Career Assessment*, 1, 35–49.
Healy, C. C., & Mourton, D. L. (1983). Derivatives of the Self-Directed Search: Potential
clinical and evaluative uses. *J. Vocational Behavior*, 23, 318–328.
Holland, J. L. (1973, 1997). *Making vocational choices*. Prentice-Hall / PAR.
Iachan, R. (1984). A family of differentiation indices. *Psychometrika*, 49, 217–222.
Peiser, C., & Meir, E. I. (1978). Congruency, consistency, and differentiation of vocational
interests as predictors of vocational satisfaction and preference stability.
*J. Vocational Behavior*, 12, 270–278.
Spokane, A. R., & Walsh, W. B. (1978). Occupational level and Holland's theory for employed
men and women. *J. Vocational Behavior*, 12, 145–154.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ._errors import ScoringError

LETTERS = "RIASEC"
DIFFERENTIATION = ("DI1", "DI2", "DI3", "DI4", "DI5", "DI6", "DI7")
"""The seven differentiation indices, in Bergmann's (1993) numbering (see the module docstring)."""
CONSISTENCY_LEVELS = {1: "high", 2: "medium", 3: "low"}
COHERENCE_LEVELS = ("low", "average", "high")


def _distance(a: str, b: str) -> int:
    d = abs(LETTERS.index(a) - LETTERS.index(b))
    return min(d, 6 - d)


def _code(code: str, length: int) -> str:
    c = code.strip().upper()
    if len(c) < length or len(set(c[:length])) != length or any(ch not in LETTERS for ch in c[:length]):
        raise ScoringError(f"{code!r} is not a RIASEC code of at least {length} distinct letters")
    return c


def healy_mourton(person: str, other: str) -> int:
    """Healy & Mourton's (1983) two-letter agreement index (1–3) of two Holland codes.

    Only the first two letters of each code count: 3 when they are the same two
    letters (in either order), 2 when the codes share one of them, 1 when they
    share none. Higher means more congruent. This is the two-letter agreement
    index as reviewed by Brown & Gore (1994) and as R ``holland::con_twoletter_holland``
    computes it.

    >>> healy_mourton("SAE", "SAC"), healy_mourton("SA", "AS"), healy_mourton("SAE", "ESR"), healy_mourton("RI", "SE")
    (3, 3, 2, 1)
    """
    p, q = _code(person, 2)[:2], _code(other, 2)[:2]
    if set(p) == set(q):
        return 3
    if set(p) & set(q):
        return 2
    return 1


def differentiation_indices(scores: np.ndarray) -> dict[str, np.ndarray]:
    """DI1…DI7 (see the module docstring) for rows × 6 scale scores; NaN where a score is missing.

    The columns may be in any order (the indices only use the sorted scores).

    >>> d = differentiation_indices(np.array([[70.0, 90, 120, 75, 100, 130]]))   # R holland's example
    >>> [round(float(d[k][0]), 4) for k in DIFFERENTIATION]
    [10.0, 30.0, 25.0, 42.5, 60.0, 0.1026, 21.9374]
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 6:
        raise ScoringError(f"differentiation needs rows × 6 scale scores, got shape {x.shape}")
    complete = np.asarray(np.isfinite(x).all(axis=1), dtype=bool)
    s = -np.sort(-np.where(complete[:, None], x, 0.0), axis=1)  # descending
    # sums added left to right, highest score first (as the definition reads; numpy's reduction may
    # associate differently and change the last digit)
    total = s[:, 0] + s[:, 1] + s[:, 2] + s[:, 3] + s[:, 4] + s[:, 5]
    mean = total / 6
    sq = (s - mean[:, None]) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        out = {
            "DI1": s[:, 0] - s[:, 1],
            "DI2": s[:, 0] - s[:, 2],
            "DI3": s[:, 0] - (s[:, 1] + s[:, 3]) / 2,
            "DI4": s[:, 0] - (s[:, 2] + s[:, 4]) / 2,
            "DI5": s[:, 0] - s[:, 5],
            "DI6": np.where(total != 0, (s[:, 0] - s[:, 5]) / np.where(total != 0, total, 1.0), np.nan),
            "DI7": np.sqrt((sq[:, 0] + sq[:, 1] + sq[:, 2] + sq[:, 3] + sq[:, 4] + sq[:, 5]) / 6),
        }
    return {k: np.where(complete, v, np.nan) for k, v in out.items()}


def consistency(code: str) -> str:
    """Holland's (1973, 1997) consistency of a code: the hexagon distance of its first two letters.

    Adjacent types (1 step, e.g. R–I) give ``high``, alternate types (2 steps,
    e.g. R–A) ``medium``, opposite types (3 steps, e.g. R–S) ``low``.

    >>> consistency("SAE"), consistency("RAS"), consistency("ISE")
    ('high', 'medium', 'medium')
    >>> consistency("IEC")
    'low'
    """
    c = _code(code, 2)
    return CONSISTENCY_LEVELS[_distance(c[0], c[1])]


def coherence(aspirations: Sequence[str]) -> str:
    """Holland's (1997) coherence of vocational aspirations, from the first three aspirations' codes.

    How many of the second and third aspirations share the first one's first
    letter (main type): both ``high``, one ``average``, none ``low``.

    >>> coherence(["SAE", "SEC", "SIA"]), coherence(["SAE", "SEC", "RIC"]), coherence(["SAE", "ESC", "RIC"])
    ('high', 'average', 'low')
    """
    if len(aspirations) < 3:
        raise ScoringError(f"coherence needs three aspirations, got {len(aspirations)}")
    first, *rest = (_code(a, 1)[0] for a in aspirations[:3])
    return COHERENCE_LEVELS[sum(1 for r in rest if r == first)]


def elevation(scores: Sequence[float] | np.ndarray) -> float:
    """Profile elevation: the total of the six scale scores (the overall level of interest).

    A low total (a flat, depressed profile) asks for careful interpretation
    (Holland, 1997; Gottfredson & Jones, 1993).

    >>> elevation([2, 4, 12, 16, 9, 5])
    48.0
    """
    x = np.asarray(scores, dtype=np.float64)
    if x.shape != (6,):
        raise ScoringError(f"elevation needs the six scale scores, got shape {x.shape}")
    total = 0.0
    for v in x:  # a fixed order, as the engine sums
        total += float(v)
    return total


__all__ = [
    "COHERENCE_LEVELS",
    "CONSISTENCY_LEVELS",
    "DIFFERENTIATION",
    "coherence",
    "consistency",
    "differentiation_indices",
    "elevation",
    "healy_mourton",
]
