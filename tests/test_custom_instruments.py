"""A researcher's own instrument scores without code changes (hand-computed expectations)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import instruments
import scoring
from tests.test_instruments import ITEMS, TOML, make

NAN = float("nan")


def spec_of(tmp_path, toml=TOML, items=ITEMS):
    return instruments.scoring_spec(instruments.load_path(make(tmp_path, toml, items), check_activities=False))


def test_ordinal_1_to_5_with_a_reversed_item(tmp_path):
    spec = spec_of(tmp_path)
    # T2 is reversed: 1..5 → 5..1 (min + max − x = 6 − x)
    x = np.array([[5, 5, 5], [1, 2, 3], [4, scoring.MISSING, 2]], dtype=np.int8)
    f = scoring.score(spec, x).to_frame()
    # row 0: 5 + (6-5) + 5 = 11 → mean 11/3; row 1: 1 + 4 + 3 = 8 → 8/3
    # row 2: one of three missing (33 % > 20 %) → not scored
    assert f["x"][0] == pytest.approx(11 / 3)
    assert f["x"][1] == pytest.approx(8 / 3)
    assert math.isnan(f["x"][2])
    assert list(f["x_band"]) == ["high", "low", ""]
    assert f["x_missing"][2] == 1
    assert "scale_not_scored" in f["flags"][2]


def test_zero_to_ten_sum_scale_prorated(tmp_path):
    toml = (
        TOML.replace("min = 1\nmax = 5", "min = 0\nmax = 10")
        .replace(
            "labels = [",
            'labels = [ { value = 0, ka = "0", en = "0" }, { value = 6, ka = "6", en = "6" }, '
            '{ value = 7, ka = "7", en = "7" }, { value = 8, ka = "8", en = "8" }, { value = 9, ka = "9", en = "9" }, '
            '{ value = 10, ka = "10", en = "10" },',
        )
        .replace('id = "x"\n', 'id = "x"\nscore = "sum"\nmin_answered = 2\n')
    )
    items = ITEMS.replace("T2,one,x,-1", "T2,one,x,1")
    spec = spec_of(tmp_path, toml, items)
    x = np.array([[10, 0, 7], [9, scoring.MISSING, 3]], dtype=np.int8)
    f = scoring.score(spec, x).to_frame()
    assert f["x"][0] == 17
    assert f["x"][1] == pytest.approx(12 * 3 / 2)  # sum of answered, prorated to 3 items
    assert "prorated" in f["flags"][1]
    with pytest.raises(scoring.ResponseValidationError, match="T1"):
        scoring.score(spec, np.array([[11, 0, 0]], dtype=np.int8))


FORCED_TOML = """
schema_version = 1
id = "forced"
version = "0.1"
model = "generic"
title = { ka = "იძულებითი არჩევანი", en = "Forced choice" }
[response]
kind = "paired"
min = 1
max = 2
labels = [ { value = 1, ka = "ნაწილობრივ", en = "partly" }, { value = 2, ka = "სრულიად", en = "fully" } ]
[[sections]]
id = "s"
title = { ka = "წყვილები", en = "Pairs" }
instructions = { ka = "აირჩიეთ", en = "Choose" }
[[scales]]
id = "people"
score = "sum"
name = { ka = "ადამიანები", en = "People" }
bands = [ { id = "all", label = { ka = "ყველა", en = "all" } } ]
[[scales]]
id = "things"
score = "sum"
name = { ka = "საგნები", en = "Things" }
bands = [ { id = "all", label = { ka = "ყველა", en = "all" } } ]
"""
FORCED_ITEMS = """id,section,scale,keyed,left_ka,left_en,right_ka,right_en,repeat_of,left_scale,right_scale
F1,s,,,ხალხი,people,ნივთები,things,,people,things
F2,s,,,ნივთები,things,ხალხი,people,,things,people
F3,s,,,ხალხი,people,ნივთები,things,,people,things
"""


def test_forced_choice_between_scales_is_ipsative(tmp_path):
    inst = instruments.load_path(make(tmp_path, FORCED_TOML, FORCED_ITEMS), check_activities=False)
    assert inst.ipsative
    spec = instruments.scoring_spec(inst)
    assert spec.ipsative
    # F1 left (people) rated 2; F2 right (people) rated 1; F3 right (things) rated 2
    x = np.array([[-2, 1, 2]], dtype=np.int8)
    f = scoring.score(spec, x).to_frame()
    assert f["people"][0] == 3
    assert f["things"][0] == 2


def test_bipolar_with_hand_computed_type():
    ppi = instruments.load("ppi")
    spec = instruments.scoring_spec(ppi)
    x = np.full((1, len(spec.items)), scoring.MISSING, dtype=np.int8)
    for j, it in enumerate(ppi.items):
        if it.scale == "EI":  # always the E pole (negative), fully: E score −3·8 = −24
            x[0, j] = -3 * it.keyed
        elif it.scale == "SN":  # the N pole, partly: +1 per pair → +8, clarity 8/24 = 0.33 → moderate
            x[0, j] = 1 * it.keyed
        elif it.scale == "TF":  # four pairs each way, rated 2: score 0 → no preference
            seen = sum(1 for k in ppi.items[:j] if k.scale == "TF")
            x[0, j] = (2 if seen < 4 else -2) * it.keyed
        elif it.scale == "JP":  # P pole, rated 1 on two pairs only → 2 of 8 answered → not scored
            x[0, j] = it.keyed if sum(1 for k in ppi.items[:j] if k.scale == "JP") < 2 else scoring.MISSING
    f = scoring.score(spec, x).to_frame()
    assert f["EI"][0] == -24 and f["EI_clarity_band"][0] == "very_clear"
    assert f["SN"][0] == 8 and f["SN_clarity_band"][0] == "moderate"
    assert math.isnan(f["JP"][0])
    assert f["TF"][0] == 0 and f["TF_pole"][0] == ""
    assert f["type"][0] == "ENx?"  # E clear, N moderate, T/F none, J/P not scored
    assert f["environments"][0] == "IASE"  # E → S,E; N → A,I (in R-I-A-S-E-C order)
