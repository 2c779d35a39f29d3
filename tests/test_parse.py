"""Answers in their natural forms are accepted; anything else is named and refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import instruments
import scoring
from scoring import MISSING


def spec(iid):
    return instruments.scoring_spec(instruments.load(iid))


def frame(s, rows):
    return pd.DataFrame([dict(zip(s.item_ids, r + [r[-1]] * (len(s.items) - len(r)), strict=True)) for r in rows])


def test_binary_words_in_both_languages():
    s = spec("sds")
    f = frame(s, [["მომწონს", "არ მომწონს", "Like", " dislike ", "1", "0", "", "skip", "1"]])
    x = scoring.parse_responses(s, f)
    assert list(x[0, :8]) == [1, 0, 1, 0, 1, 0, MISSING, MISSING]


def test_paired_forms():
    s = spec("ppi")
    f = frame(s, [["L3", "r2", "-1", "+3", 2, -2.0, None, "R1"]])
    x = scoring.parse_responses(s, f)
    assert list(x[0, :8]) == [-3, 2, -1, 3, 2, -2, MISSING, 1]


def test_ordinal_numbers_and_strings():
    s = spec("vdq")
    f = frame(s, [[1, "2", " 3 ", 4.0, np.nan, "4"]])
    x = scoring.parse_responses(s, f)
    assert list(x[0, :6]) == [1, 2, 3, 4, MISSING, 4]


def test_errors_name_row_item_and_value_and_list_them_all():
    s = spec("vdq")
    f = frame(s, [[1, 2, 3, 4], [1, 5, 3, 4], [1, 2, "often", 0]])
    with pytest.raises(scoring.ResponseValidationError) as info:
        scoring.parse_responses(s, f, ids=["a", "b", "c"])
    err = info.value
    found = {(p.row, p.respondent, p.item, p.value) for p in err.problems}
    assert (2, "b", s.item_ids[1], 5) in found
    assert (3, "c", s.item_ids[2], "often") in found
    assert any(p.row == 3 and p.value == 0 for p in err.problems)
    assert "row 2 (id b), item VDQ02: 5" in str(err)


def test_zero_is_not_a_paired_answer_and_like_is_not_ordinal():
    with pytest.raises(scoring.ResponseValidationError, match="PPI01"):
        scoring.parse_responses(spec("ppi"), frame(spec("ppi"), [[0]]))
    with pytest.raises(scoring.ResponseValidationError, match="VDQ01"):
        scoring.parse_responses(spec("vdq"), frame(spec("vdq"), [["like"]]))


def test_missing_item_column_is_reported():
    s = spec("vdq")
    f = frame(s, [[1]]).drop(columns=["VDQ07"])
    with pytest.raises(scoring.ResponseValidationError, match="VDQ07.*missing"):
        scoring.parse_responses(s, f)
