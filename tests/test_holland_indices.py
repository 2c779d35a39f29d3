"""Holland indices against their published definitions, computed by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import instruments
import scoring
from scoring import brown_gore_c, hexagon_distance, iachan_m, zener_schnuelle


def test_hexagon_distances():
    # R-I-A-S-E-C around the hexagon: adjacent 1, alternate 2, opposite 3
    assert [hexagon_distance("R", L) for L in "RIASEC"] == [0, 1, 2, 3, 2, 1]
    assert hexagon_distance("A", "S") == 1  # the R package 'holland' gets this one wrong
    assert hexagon_distance("I", "E") == 3
    assert hexagon_distance("S", "C") == 2
    for a, b in itertools.product("RIASEC", repeat=2):
        assert hexagon_distance(a, b) == hexagon_distance(b, a)


@pytest.mark.parametrize(
    "person,other,m",
    [
        ("SAE", "SAE", 28),  # 22 + 5 + 1
        ("SAE", "ASE", 21),  # S→pos2 10, A→pos1 10, E→pos3 1
        ("SAE", "SEA", 26),  # 22 + A(2→3) 2 + E(3→2) 2
        ("SAE", "RIS", 4),  # S first in person, third in other
        ("RIC", "SAE", 0),
        ("ECS", "CES", 21),
    ],
)
def test_iachan_m(person, other, m):
    assert iachan_m(person, other) == m


def test_iachan_m_identical_codes_is_28_for_all_codes():
    assert all(iachan_m(c, c) == 28 for c in scoring.CANDIDATES)


@pytest.mark.parametrize(
    "person,other,c",
    [
        ("SAE", "SAE", 18),
        ("RIA", "SEC", 0),  # every letter opposite: 3·0 + 2·0 + 0
        ("SAE", "AES", 3 * 2 + 2 * 1 + 1 * 2),  # S/A adjacent (2), A/E alternate (1), E/S adjacent (2)
        ("RIC", "IRC", 3 * 2 + 2 * 2 + 3),
    ],
)
def test_brown_gore_c(person, other, c):
    assert brown_gore_c(person, other) == c


@pytest.mark.parametrize(
    "person,other,zs",
    [
        ("SAE", "SAE", 6),
        ("SAE", "SAC", 5),
        ("SAE", "EAS", 4),
        ("SAE", "SCR", 3),
        ("SAE", "ASC", 2),
        ("SAE", "RIS", 1),
        ("SAE", "RIC", 0),
        ("SAE", "ESA", 4),  # same three letters beats "first letter appears elsewhere"
    ],
)
def test_zener_schnuelle(person, other, zs):
    assert zener_schnuelle(person, other) == zs


def test_bad_codes_are_rejected():
    for bad in ("SA", "SAS", "XYZ", "saee"):
        with pytest.raises(scoring.ScoringError):
            iachan_m(bad, "SAE")


def _sds_with_totals(totals: dict[str, int]) -> np.ndarray:
    """One SDS administration whose type totals are exactly ``totals`` (nothing skipped)."""
    sds = instruments.load("sds")
    x = np.zeros((1, len(sds.items)), dtype=np.int8)
    left = dict(totals)
    for j, it in enumerate(sds.items):
        L = sds.scale(it.scale).letter
        if left[L] > 0:
            x[0, j] = 1
            left[L] -= 1
    return x


def score_sds(totals, aspirations=None):
    spec = instruments.scoring_spec(instruments.load("sds"))
    asp = None if aspirations is None else scoring.aspiration_indices(np.array([aspirations], dtype=object))
    return scoring.score(spec, _sds_with_totals(totals), aspirations=asp).to_frame().iloc[0]


def test_code_ties_are_all_listed_never_broken():
    row = score_sds({"R": 2, "I": 3, "A": 15, "S": 15, "E": 9, "C": 4})
    assert row["code"] == "ASE/SAE"
    assert row["code_orderings"] == 2
    assert "code_tied" in row["flags"]
    row = score_sds({"R": 2, "I": 3, "A": 10, "S": 15, "E": 10, "C": 10})  # S, then a 3-way tie
    assert row["code"] == "SAE/SAC/SEA/SEC/SCA/SCE"


def test_consistency_differentiation_elevation():
    row = score_sds({"R": 2, "I": 4, "A": 12, "S": 16, "E": 9, "C": 5})  # code SAE
    assert row["code"] == "SAE"
    assert row["consistency"] == "high"  # S-A adjacent
    assert row["differentiation_iachan"] == 16 - (12 + 5) / 2  # highest − (2nd + 4th)/2
    assert row["differentiation_range"] == 16 - 2
    assert row["elevation"] == 48
    assert "code_unstable" not in row["flags"]  # gaps 4, 3, 4 ≥ margin 3
    row = score_sds({"R": 2, "I": 4, "A": 12, "S": 16, "E": 3, "C": 11})  # SAC: S-A high; A-C 11 vs 12
    assert "code_unstable" in row["flags"]
    row = score_sds({"R": 14, "I": 4, "A": 3, "S": 12, "E": 9, "C": 5})  # R-S opposite
    assert row["code"] == "RSE" and row["consistency"] == "low"


def test_flat_and_depressed_profiles():
    row = score_sds({L: 2 for L in "RIASEC"})
    assert "flat_profile" in row["flags"] and "depressed_profile" in row["flags"]
    assert row["code_orderings"] == 120


def test_congruence_and_coherence():
    row = score_sds({"R": 2, "I": 4, "A": 12, "S": 16, "E": 9, "C": 5}, ["SAE", "SEC", "ASE"])
    assert row["congruence_m_min"] == row["congruence_m_max"] == 28
    assert row["congruence_zs_min"] == 6
    assert row["coherence"] == "average"  # SEC shares S, ASE does not
    tied = score_sds({"R": 2, "I": 3, "A": 15, "S": 15, "E": 9, "C": 4}, ["SAE", "SIR", "SRC"])
    # person ASE or SAE against SAE: M is 21 or 28 — both reported, none chosen
    assert (tied["congruence_m_min"], tied["congruence_m_max"]) == (21, 28)
    assert tied["coherence"] == "high"
    none = score_sds({"R": 2, "I": 3, "A": 15, "S": 15, "E": 9, "C": 4}, ["SAE", "", ""])
    assert none["coherence"] == ""
