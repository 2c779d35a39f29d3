"""Holland RIASEC: summary code with every tied ordering, and the classic indices.

References
----------
Holland, J. L. (1997). *Making vocational choices* (3rd ed.): hexagon,
consistency, differentiation, coherence of aspirations.
Iachan, R. (1984). A measure of agreement for use with the Holland
classification system. *J. Vocational Behavior*, 24, 133–141 (M index,
weights 22,10,4 / 10,5,2 / 4,2,1; maximum 28).
Brown, S. D., & Gore, P. A. (1994). An evaluation of interest congruence
indices. *J. Vocational Behavior*, 45, 310–327 (C index, 0–18).
Zener, T. B., & Schnuelle, L. (1976). Effects of the Self-Directed Search on
high school students. *J. Counseling Psychology*, 23, 353–359 (0–6 index).
Healy, C. C., & Mourton, D. L. (1983). Derivatives of the Self-Directed
Search. *J. Vocational Behavior*, 23, 318–328 (two-letter agreement, 1–3).
Differentiation DI1–DI7, consistency, coherence and elevation: see
``_holland_indices``.

The R package ``holland`` has a hexagon-table typo (A→S) and misses
Zener–Schnuelle patterns; these functions follow the publications instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from itertools import permutations

import numpy as np

from ._errors import ScoringError
from ._holland_indices import healy_mourton
from ._scales import ScaleBlock
from ._spec import InstrumentSpec

LETTERS = "RIASEC"
IACHAN_WEIGHTS = ((22, 10, 4), (10, 5, 2), (4, 2, 1))
CONSISTENCY = {1: "high", 2: "medium", 3: "low"}
COHERENCE = ("low", "average", "high")

CANDIDATES: tuple[str, ...] = tuple("".join(p) for p in permutations(LETTERS, 3))
"""All 120 three-letter codes, in RIASEC-lexicographic order (the order ties are listed in)."""
_CAND_IDX = np.array([[LETTERS.index(ch) for ch in c] for c in CANDIDATES], dtype=np.intp)
CANDIDATE_INDEX = {c: k for k, c in enumerate(CANDIDATES)}


def hexagon_distance(a: str, b: str) -> int:
    """Steps between two types on the R-I-A-S-E-C hexagon: 0 same, 1 adjacent, 2 alternate, 3 opposite."""
    d = abs(LETTERS.index(a) - LETTERS.index(b))
    return min(d, 6 - d)


def _check_code(code: str) -> str:
    if len(code) != 3 or len(set(code)) != 3 or any(ch not in LETTERS for ch in code):
        raise ScoringError(f"{code!r} is not a three-letter RIASEC code of distinct letters")
    return code


def iachan_m(person: str, other: str) -> int:
    """Iachan's M agreement index between two three-letter codes (0–28).

    >>> iachan_m("SAE", "SAE"), iachan_m("SAE", "ASE"), iachan_m("RIC", "SAE")
    (28, 21, 0)
    """
    p, q = _check_code(person), _check_code(other)
    return sum(IACHAN_WEIGHTS[i][j] for i in range(3) for j in range(3) if p[i] == q[j])


def brown_gore_c(person: str, other: str) -> int:
    """Brown & Gore's C index: 3·X1 + 2·X2 + X3, Xi = 3 − hexagon distance of the i-th letters (0–18).

    >>> brown_gore_c("SAE", "SAE"), brown_gore_c("RIA", "SEC")
    (18, 0)
    """
    p, q = _check_code(person), _check_code(other)
    return sum(w * (3 - hexagon_distance(p[i], q[i])) for i, w in enumerate((3, 2, 1)))


def zener_schnuelle(person: str, other: str) -> int:
    """Zener–Schnuelle index (0–6); the first rule that holds wins.

    6 same three letters in order; 5 first two in order; 4 same three in any
    order; 3 first letters equal; 2 the first two letters are the same pair,
    swapped; 1 the person's first letter appears elsewhere in the other code;
    0 otherwise.

    >>> [zener_schnuelle("SAE", o) for o in ("SAE", "SAC", "ESA", "SRI", "ASR", "RAS", "RIC")]
    [6, 5, 4, 3, 2, 1, 0]
    """
    p, q = _check_code(person), _check_code(other)
    if p == q:
        return 6
    if p[:2] == q[:2]:
        return 5
    if set(p) == set(q):
        return 4
    if p[0] == q[0]:
        return 3
    if p[0] == q[1] and p[1] == q[0]:
        return 2
    if p[0] in q[1:]:
        return 1
    return 0


def _table(fn: object) -> np.ndarray:
    return np.array([[fn(p, q) for q in CANDIDATES] for p in CANDIDATES], dtype=np.float64)  # type: ignore[operator]


M_TABLE = _table(iachan_m)
C_TABLE = _table(brown_gore_c)
ZS_TABLE = _table(zener_schnuelle)
HM_TABLE = _table(healy_mourton)
_SMALL = {
    "m": M_TABLE.astype(np.int8),
    "c": C_TABLE.astype(np.int8),
    "zs": ZS_TABLE.astype(np.int8),
    "hm": HM_TABLE.astype(np.int8),
}
FIRST_PAIR_DISTANCE = np.array([hexagon_distance(c[0], c[1]) for c in CANDIDATES], dtype=np.int8)


def _admissible_table() -> np.ndarray:
    """Admissible codes for every pattern g of "how many types score strictly higher".

    Which three-letter codes are admissible depends only on the order relation
    among the six totals, and g (each 0–5) encodes it exactly: t_a > t_b iff
    g_a < g_b. Code (a, b, c) is admissible iff g_a ≤ g_b ≤ g_c and the types
    strictly above c are exactly those of a, b strictly above it:
    g_c = [g_a < g_c] + [g_b < g_c]. Indexed by Σ g_k·6^k (46,656 patterns).
    """
    g = np.array(list(np.ndindex(*(6,) * 6)), dtype=np.int8)[:, ::-1]  # g[:, k] is the k-th digit
    ga, gb, gc = g[:, _CAND_IDX[:, 0]], g[:, _CAND_IDX[:, 1]], g[:, _CAND_IDX[:, 2]]
    return np.asarray((ga <= gb) & (gb <= gc) & (gc == (ga < gc).astype(np.int8) + (gb < gc)))


ADMISSIBLE = _admissible_table()
"""patterns × 120 candidates → admissible."""
_N_CODES = ADMISSIBLE.sum(axis=1).astype(np.int16)
_CONS_MIN = np.where(ADMISSIBLE, FIRST_PAIR_DISTANCE, 9).min(axis=1).astype(np.int8)
_CONS_MAX = np.where(ADMISSIBLE, FIRST_PAIR_DISTANCE, 0).max(axis=1).astype(np.int8)
_FEW = 6
# The first six admissible codes of each pattern, padded by repeating the first
# one (a repeat changes no minimum or maximum), for the common few-ties case.
_FIRST = np.argsort(~ADMISSIBLE, axis=1, kind="stable")[:, :_FEW].astype(np.int16)
_FIRST = np.where(np.arange(_FEW) < _N_CODES[:, None], _FIRST, _FIRST[:, :1])


def admissible_codes(pattern: np.ndarray) -> np.ndarray:
    """Rows × 120 booleans from order patterns (−1 = no code)."""
    return np.asarray(ADMISSIBLE[np.maximum(pattern, 0)] & (pattern >= 0)[:, None])


@dataclass(frozen=True)
class HollandScores:
    totals: np.ndarray
    """Rows × 6 type scores in R I A S E C order (the scales' reported scores: prorated like
    counts, or rating sums or means for an ordinal instrument)."""
    section_counts: np.ndarray
    """Rows × sections × 6 raw sums of the answered items (like counts for like/dislike items)."""
    pattern: np.ndarray
    """Order pattern of the totals (see ``ADMISSIBLE``); −1 where a type was not scored."""
    n_codes: np.ndarray
    consistency_min: np.ndarray
    """Smallest first-pair hexagon distance over the admissible codes (1 high … 3 low; 0 none)."""
    consistency_max: np.ndarray
    differentiation_iachan: np.ndarray
    differentiation_range: np.ndarray
    elevation: np.ndarray
    flat: np.ndarray
    depressed: np.ndarray
    unstable: np.ndarray
    m_min: np.ndarray
    m_max: np.ndarray
    c_min: np.ndarray
    c_max: np.ndarray
    zs_min: np.ndarray
    zs_max: np.ndarray
    hm_min: np.ndarray
    """Healy–Mourton two-letter agreement (1–3), min and max over the admissible codes."""
    hm_max: np.ndarray
    coherence: np.ndarray
    """Index into ``COHERENCE``; −1 when fewer than three aspirations are given."""

    @property
    def admissible(self) -> np.ndarray:
        """Rows × 120: which of ``CANDIDATES`` are admissible summary codes (ties → several)."""
        return admissible_codes(self.pattern)


_CONGRUENCE = np.stack([_SMALL[k] for k in _SMALL], axis=-1).view(np.int32).reshape(-1)
"""(code · 120 + other code) → the four indices packed as int8 in one int32 (in ``_SMALL`` order)."""
_SORT6 = ((0, 5), (1, 3), (2, 4), (1, 2), (3, 4), (0, 3), (2, 5), (0, 1), (2, 3), (4, 5), (1, 2), (3, 4))
"""A sorting network for six values (12 compare-exchanges)."""
_LEAD = _CAND_IDX[:, 0].copy()
"""The first letter (as an index into LETTERS) of each of ``CANDIDATES``."""


@cache
def _congruence_table() -> tuple[np.ndarray, np.ndarray]:
    """(pattern → row, row · 120 + aspiration → the four indices' minima then maxima as 8 int8).

    A row per distinct list of first admissible codes (``_FIRST``), built on first use."""
    key = np.zeros(len(_FIRST), dtype=np.int64)
    for k in range(_FEW):
        key = key * len(CANDIDATES) + _FIRST[:, k]
    _, first_rows, row_of = np.unique(key, return_index=True, return_inverse=True)
    codes = _FIRST[first_rows].astype(np.int64)  # rows × 6
    idx = codes[:, :, None] * len(CANDIDATES) + np.arange(len(CANDIDATES))  # rows × 6 × aspirations
    vals = _CONGRUENCE.take(idx).view(np.int8).reshape(*idx.shape, len(_SMALL))
    both = np.concatenate([vals.min(axis=1), vals.max(axis=1)], axis=-1)  # rows × aspirations × 8
    return row_of.astype(np.int32), np.ascontiguousarray(both).view(np.uint64).reshape(-1)


def _congruence(pattern: np.ndarray, n_codes: np.ndarray, first: np.ndarray) -> dict[str, np.ndarray]:
    """Min and max of each index over the admissible codes, against the first aspiration."""
    has = (first >= 0) & (pattern >= 0)
    # every row through its first six admissible codes (padded by repeats), all four indices in one look-up
    row_of, table = _congruence_table()
    idx = row_of.take(np.maximum(pattern, 0))
    idx *= len(CANDIDATES)
    idx += np.maximum(first, 0)
    both = table.take(idx).view(np.int8).reshape(len(pattern), 2 * len(_SMALL))
    many = has & (n_codes > _FEW)
    if many.any():  # heavy ties (up to 120 codes): mask over all candidates
        rows = np.flatnonzero(many)
        adm = ADMISSIBLE[pattern[rows]]
        for t, table in enumerate(_SMALL.values()):
            v = table[:, first[rows]].T
            both[rows, t] = np.where(adm, v, 127).min(axis=1)
            both[rows, len(_SMALL) + t] = np.where(adm, v, -1).max(axis=1)
    out = {}
    for t, name in enumerate(_SMALL):
        out[f"{name}_min"] = np.where(has, both[:, t], np.nan)
        out[f"{name}_max"] = np.where(has, both[:, len(_SMALL) + t], np.nan)
    return out


def aspiration_indices(codes: np.ndarray) -> np.ndarray:
    """Map an array of code strings ('' or None = missing) to ``CANDIDATES`` indices (−1 missing)."""
    flat = np.asarray(codes, dtype=object).ravel()
    out = np.full(flat.shape, -1, dtype=np.int16)
    for k, c in enumerate(flat):
        if c is None or c == "" or (isinstance(c, float) and np.isnan(c)):
            continue
        code = str(c).strip().upper()
        if code not in CANDIDATE_INDEX:
            raise ScoringError(f"aspiration code {c!r} is not a three-letter RIASEC code")
        out[k] = CANDIDATE_INDEX[code]
    return out.reshape(np.shape(codes))


def score_holland(
    spec: InstrumentSpec, x: np.ndarray, block: ScaleBlock, aspirations: np.ndarray | None
) -> HollandScores:
    p = spec.params
    order = [next(k for k, s in enumerate(spec.scales) if s.letter == L) for L in LETTERS]
    in_order = order == list(range(len(spec.scales)))
    totals = block.score if in_order else block.score[:, order]
    tt = np.ascontiguousarray(totals.T)  # 6 × rows: each type's scores contiguous
    n = tt.shape[1]
    complete = ~np.isnan(tt).any(axis=0)
    # the six totals sorted high to low, by a sorting network (0 where a type was not scored)
    srt = list(np.where(complete, tt, 0.0))
    for i, j in _SORT6:
        srt[i], srt[j] = np.maximum(srt[i], srt[j]), np.minimum(srt[i], srt[j])
    # Σ_k 6^k · (number of types scoring strictly above type k)
    higher = np.zeros((6, n), dtype=np.int8)
    for k in range(6):
        for m in range(k + 1, 6):
            higher[k] += tt[m] > tt[k]
            higher[m] += tt[k] > tt[m]
    pattern = higher[5].astype(np.int32)
    for k in range(4, -1, -1):
        pattern *= 6
        pattern += higher[k]
    pattern[~complete] = -1
    safe = np.maximum(pattern, 0)
    n_codes = np.where(complete, _N_CODES[safe], 0).astype(np.int16)
    cmin = np.where(complete, _CONS_MIN[safe], 0).astype(np.int8)
    cmax = np.where(complete, _CONS_MAX[safe], 0).astype(np.int8)

    nan = np.full(n, np.nan)
    diff_i = np.where(complete, srt[0] - (srt[1] + srt[3]) / 2, nan)
    diff_r = np.where(complete, srt[0] - srt[5], nan)
    elev = np.zeros(n)
    for k in range(6):  # fixed order, so the sum is reproducible bit for bit
        elev += tt[k]
    margin = float(p["code_margin"])  # type: ignore[arg-type]
    unstable = complete & ((srt[0] - srt[1] < margin) | (srt[1] - srt[2] < margin) | (srt[2] - srt[3] < margin))
    flat = complete & (diff_r <= float(p["flat_max_range"]))  # type: ignore[arg-type]
    depressed = complete & (elev <= float(p["depressed_max_total"]))  # type: ignore[arg-type]

    cong = {f"{k}_{m}": nan for k in _SMALL for m in ("min", "max")}
    coherence = np.full(n, -1, dtype=np.int8)
    if aspirations is not None:
        asp = np.asarray(aspirations, dtype=np.int16)
        if asp.ndim != 2 or asp.shape[0] != n:
            raise ScoringError(f"aspirations must be rows × k code indices, got shape {asp.shape}")
        cong = _congruence(pattern, n_codes, asp[:, 0])
        if asp.shape[1] >= 3:
            a0, a1, a2 = asp[:, 0], asp[:, 1], asp[:, 2]
            lead0 = _LEAD.take(np.maximum(a0, 0))
            same = (_LEAD.take(np.maximum(a1, 0)) == lead0).astype(np.int8)
            same += _LEAD.take(np.maximum(a2, 0)) == lead0
            all3 = (a0 >= 0) & (a1 >= 0) & (a2 >= 0)
            coherence = np.where(all3, same, np.int8(-1)).astype(np.int8)
    return HollandScores(
        totals=totals,
        section_counts=(block.section_raw if in_order else block.section_raw[:, :, order]).astype(np.int16),
        pattern=pattern,
        n_codes=n_codes,
        consistency_min=cmin,
        consistency_max=cmax,
        differentiation_iachan=diff_i,
        differentiation_range=diff_r,
        elevation=elev,
        flat=flat,
        depressed=depressed,
        unstable=unstable,
        **cong,
        coherence=coherence,
    )


def code_strings(pattern: np.ndarray) -> np.ndarray:
    """'SAE' or 'ASE/SAE' per row ('' where no code): every admissible ordering, none dropped."""
    uniq, inverse = np.unique(pattern, return_inverse=True)
    names = np.array(["" if u < 0 else "/".join(np.asarray(CANDIDATES)[ADMISSIBLE[u]]) for u in uniq], dtype=object)
    return names[inverse.ravel()]
