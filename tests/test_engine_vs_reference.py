"""The vectorized engine must equal the slow per-row reference scorer exactly."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import instruments
import scoring
from tests.reference import score_row
from tests.strategies import random_answers, to_answer_lists

SCORED = ("vdq", "sds", "ppi")


def _spec(iid: str) -> tuple[instruments.Instrument, scoring.InstrumentSpec]:
    inst = instruments.load(iid)
    return inst, instruments.scoring_spec(inst)


def _same(a: object, b: object) -> bool:
    if isinstance(a, float | np.floating) and isinstance(b, float | np.floating):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, np.integer | np.bool_):
        a = a.item()
    return a == b


def assert_matches(inst, spec, x, aspirations=None, seconds=None) -> None:
    asp_idx = None
    if aspirations is not None:
        asp_idx = scoring.aspiration_indices(np.array([[c or "" for c in row] for row in aspirations], dtype=object))
    frame = scoring.score(spec, x, seconds=seconds, aspirations=asp_idx, block_rows=97).to_frame()
    rows = to_answer_lists(x)
    for r, answers in enumerate(rows):
        expected = score_row(
            inst,
            answers,
            None if aspirations is None else aspirations[r],
            None if seconds is None else float(seconds[r]),
        )
        got = frame.iloc[r]
        for key, value in expected.items():
            assert _same(got[key], value), f"row {r}, {key}: engine {got[key]!r} != reference {value!r}"


@pytest.mark.parametrize("iid", SCORED)
@pytest.mark.parametrize("p_missing,concentrate", [(0.0, 0.0), (0.08, 0.0), (0.15, 3.0), (0.4, 0.5)])
def test_engine_equals_reference_on_random_rows(iid, p_missing, concentrate):
    inst, spec = _spec(iid)
    x = random_answers(spec, 700, seed=hash((iid, p_missing)) % 2**32, p_missing=p_missing, concentrate=concentrate)
    rng = np.random.default_rng(7)
    seconds = rng.uniform(0, 8, size=len(x)) * len(spec.items)
    aspirations = None
    if iid == "sds":
        codes = list(scoring.CANDIDATES) + [None] * 20
        aspirations = [[codes[k] for k in rng.integers(0, len(codes), 3)] for _ in range(len(x))]
    assert_matches(inst, spec, x, aspirations, seconds)


@pytest.mark.parametrize("iid", SCORED)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_engine_equals_reference_property(iid, data):
    inst, spec = _spec(iid)
    values = list(spec.valid_values) + [int(scoring.MISSING)]
    x = data.draw(
        arrays(np.int8, st.tuples(st.integers(1, 30), st.just(len(spec.items))), elements=st.sampled_from(values))
    )
    assert_matches(inst, spec, x)


def test_sds_ties_are_all_listed():
    inst, spec = _spec("sds")
    # every type equally liked: all 120 orderings are admissible
    x = np.zeros((1, len(spec.items)), dtype=np.int8)
    frame = scoring.score(spec, x).to_frame()
    assert frame["code_orderings"][0] == 120
    assert len(frame["code"][0].split("/")) == 120
