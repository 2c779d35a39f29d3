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
    row = score_sds(dict.fromkeys("RIASEC", 2))
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


# -- the rest of the field's indices (issue 15): each against its published definition, by hand ----------


@pytest.mark.parametrize(
    "person,other,hm",
    [
        ("SAE", "SAE", 3),  # same first two letters, same order
        ("SAE", "ASR", 3),  # same two letters, swapped: still full agreement
        ("SAE", "SEA", 2),  # S shared, A vs E differ
        ("SAE", "ESA", 2),  # S shared, in another position of the pair
        ("SAE", "EAR", 2),  # A shared
        ("SAE", "ECS", 1),  # S is only the other code's third letter: two-letter codes share nothing
        ("RIC", "SEA", 1),
    ],
)
def test_healy_mourton_two_letter_agreement(person, other, hm):
    assert scoring.healy_mourton(person, other) == hm


def test_differentiation_indices_by_hand():
    # scores R I A S E C = 2 4 12 16 9 5 → sorted 16 12 9 5 4 2, total 48, mean 8
    d = scoring.differentiation_indices(np.array([[2.0, 4, 12, 16, 9, 5]]))
    squares = (16 - 8) ** 2 + (12 - 8) ** 2 + (9 - 8) ** 2 + (5 - 8) ** 2 + (4 - 8) ** 2 + (2 - 8) ** 2  # 142
    expected = {
        "DI1": 16 - 12,  # Frantz & Walsh
        "DI2": 16 - 9,  # Spokane & Walsh
        "DI3": 16 - (12 + 5) / 2,  # Iachan: highest − mean of 2nd and 4th
        "DI4": 16 - (9 + 4) / 2,  # Iachan: highest − mean of 3rd and 5th
        "DI5": 16 - 2,  # Holland: range
        "DI6": (16 - 2) / 48,  # Peiser & Meir: range / total
        "DI7": (squares / 6) ** 0.5,  # Healy & Mourton: SD, divisor 6
    }
    assert squares == 142
    for k, v in expected.items():
        assert d[k][0] == pytest.approx(v, rel=1e-15), k
    # order of the columns and ties do not matter; a missing score gives NaN; a zero total leaves DI6 undefined
    d = scoring.differentiation_indices(np.array([[5.0, 16, 2, 12, 4, 9], [1, 1, np.nan, 1, 1, 1], [0, 0, 0, 0, 0, 0]]))
    assert d["DI3"][0] == 16 - (12 + 5) / 2 and np.isnan(d["DI1"][1]) and np.isnan(d["DI6"][2]) and d["DI7"][2] == 0


def test_consistency_coherence_elevation_by_hand():
    assert [scoring.consistency(c) for c in ("RIA", "RAI", "RSA", "CRE", "AES")] == [
        "high",  # R-I adjacent
        "medium",  # R-A alternate
        "low",  # R-S opposite
        "high",  # C-R adjacent (the hexagon closes)
        "medium",  # A-E alternate
    ]
    assert scoring.coherence(["SAE", "SEC", "SIA"]) == "high"  # both others start with S
    assert scoring.coherence(["SAE", "AES", "SIC"]) == "average"
    assert scoring.coherence(["SAE", "AES", "ECS"]) == "low"
    assert scoring.elevation([2, 4, 12, 16, 9, 5]) == 48
    with pytest.raises(scoring.ScoringError):
        scoring.coherence(["SAE", "SEC"])


def test_engine_reports_every_index_with_ties_as_min_and_max():
    row = score_sds({"R": 2, "I": 4, "A": 12, "S": 16, "E": 9, "C": 5}, ["SEA", None, None])  # code SAE
    assert row["code"] == "SAE"
    assert row["congruence_hm_min"] == row["congruence_hm_max"] == 2  # S shared, A vs E
    assert row["differentiation_di3"] == row["differentiation_iachan"] == 16 - (12 + 5) / 2
    assert row["differentiation_di5"] == row["differentiation_range"] == 14
    assert row["differentiation_di6"] == pytest.approx(14 / 48)
    tied = score_sds({"R": 2, "I": 3, "A": 15, "S": 15, "E": 9, "C": 4}, ["SAC", None, None])  # ASE/SAE
    assert tied["code"] == "ASE/SAE"
    assert tied["congruence_hm_min"] == tied["congruence_hm_max"] == 3  # {A, S} either way
    tied = score_sds({"R": 2, "I": 3, "A": 15, "S": 15, "E": 9, "C": 4}, ["SEC", None, None])
    # ASE vs SEC: M = S(2→1) 10 + E(3→2) 2 = 12; SAE vs SEC: 22 + E(3→2) 2 = 24
    assert (tied["congruence_m_min"], tied["congruence_m_max"]) == (12, 24)
    assert tied["congruence_hm_min"] == tied["congruence_hm_max"] == 2  # AS vs SE, SA vs SE: one letter
    assert (tied["congruence_zs_min"], tied["congruence_zs_max"]) == (0, 3)  # ASE: A not in SEC; SAE: S = S


# -- a Holland inventory rated 1–5 (research definition) ----------------------------------------------

ORDINAL_HOLLAND = """
schema_version = 1
id = "riasec5"
version = "0.1"
model = "holland"
purpose = "research"
languages = ["en"]
title = { en = "RIASEC interests, rated" }
[response]
kind = "ordinal"
min = 1
max = 5
labels = [ { value = 1, en = "strongly dislike" }, { value = 2, en = "dislike" }, { value = 3, en = "unsure" },
           { value = 4, en = "like" }, { value = 5, en = "strongly like" } ]
[[sections]]
id = "act"
title = { en = "Activities" }
instructions = { en = "How much would you enjoy each activity?" }
[scoring]
code_margin = 0.5
flat_max_range = 0.5
depressed_max_total = 9
"""


def ordinal_holland(tmp_path, n_items=3):
    toml = ORDINAL_HOLLAND + "".join(
        f'[[scales]]\nid = "{L}"\nrole = "type"\nletter = "{L}"\nscore = "mean"\nname = {{ en = "{L}" }}\n'
        for L in "RIASEC"
    )
    rows = "".join(f"{L}{k},act,{L},1,{L} activity {k}\n" for k in range(1, n_items + 1) for L in "RIASEC")
    from tests.test_instruments import make

    return make(tmp_path, toml, "id,section,scale,keyed,text_en\n" + rows)


def test_a_holland_inventory_rated_1_to_5_gets_its_code_and_every_index(tmp_path):
    """Before: model 'holland' took like/dislike only, so a 1–5 RIASEC inventory got no code or index."""
    inst = instruments.load_path(ordinal_holland(tmp_path), check_activities=False)
    spec = instruments.scoring_spec(inst)
    answers = {  # three items per type → scale means
        "R": (2, 2, 2),  # 2
        "I": (3, 3, 3),  # 3
        "A": (4, 5, 4),  # 13/3
        "S": (5, 5, 5),  # 5
        "E": (4, 4, 3),  # 11/3
        "C": (1, 1, 1),  # 1
    }
    x = np.array([[answers[it.id[0]][int(it.id[1]) - 1] for it in inst.items]], dtype=np.int8)
    asp = scoring.aspiration_indices(np.array([["SEA", "SAC", "ARI"]], dtype=object))
    row = scoring.score(spec, x, aspirations=asp).to_frame().iloc[0]
    means = {"R": 2, "I": 3, "A": 13 / 3, "S": 5, "E": 11 / 3, "C": 1}
    for L, m in means.items():
        assert row[L] == pytest.approx(m, rel=1e-15)
    assert row["code"] == "SAE" and row["consistency"] == "high"
    srt = sorted(means.values(), reverse=True)  # 5, 13/3, 11/3, 3, 2, 1
    assert row["differentiation_di1"] == pytest.approx(5 - 13 / 3)
    assert row["differentiation_di3"] == pytest.approx(5 - (13 / 3 + 3) / 2)
    assert row["differentiation_di6"] == pytest.approx((5 - 1) / sum(srt))
    assert row["elevation"] == pytest.approx(2 + 3 + 13 / 3 + 5 + 11 / 3 + 1)
    assert row["congruence_m_min"] == 26  # SAE vs SEA: 22 + 2 + 2
    assert row["congruence_c_min"] == 3 * 3 + 2 * 1 + 1 * 1  # S=S, A/E alternate, E/A alternate
    assert row["congruence_zs_min"] == 4 and row["congruence_hm_min"] == 2
    assert row["coherence"] == "average"  # SEA, SAC share S; ARI does not
    assert row["flags"] == ""  # neighbouring gaps 5 − 13/3, 13/3 − 11/3, 11/3 − 3 are all 2/3 ≥ margin 0.5
    x2 = x.copy()
    x2[0, [j for j, it in enumerate(inst.items) if it.id == "E3"]] = 4  # E → 4: A − E = 1/3 < 0.5
    row2 = scoring.score(spec, x2).to_frame().iloc[0]
    assert row2["code"] == "SAE" and "code_unstable" in row2["flags"]
    # a tie between A and E on the mean scale lists both codes, never one chosen by sort order
    x3 = x.copy()
    x3[0, [j for j, it in enumerate(inst.items) if it.id == "A2"]] = 4  # A → 4
    x3[0, [j for j, it in enumerate(inst.items) if it.id == "E3"]] = 4  # E → 4
    assert scoring.score(spec, x3).to_frame().iloc[0]["code"] == "SAE/SEA"
