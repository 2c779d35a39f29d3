"""Definitions for research (issue 15, item 2): declared languages, optional bands, missing-value codes.

Shipped fund instruments keep needing Georgian and English and a band for every scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import instruments
import scoring
from tests.test_instruments import ITEMS, TOML, make, problems

EN_ONLY = """
schema_version = 1
id = "bfi_pilot"
version = "0.1"
model = "generic"
purpose = "research"
languages = ["en"]
missing_codes = [0, 9]
title = { en = "Pilot inventory" }
[response]
kind = "ordinal"
min = 1
max = 5
labels = [ { value = 1, en = "disagree strongly" }, { value = 2, en = "disagree" }, { value = 3, en = "neutral" },
           { value = 4, en = "agree" }, { value = 5, en = "agree strongly" } ]
[[sections]]
id = "one"
title = { en = "Statements" }
instructions = { en = "How well does each statement describe you?" }
[[scales]]
id = "x"
name = { en = "Extraversion" }
"""
EN_ITEMS = """id,section,scale,keyed,text_en
T1,one,x,1,is talkative
T2,one,x,-1,is reserved
T3,one,x,1,is outgoing
"""


def test_an_english_only_research_definition_without_bands_loads_and_scores(tmp_path):
    inst = instruments.load_path(make(tmp_path, EN_ONLY, EN_ITEMS), check_activities=False)
    assert inst.purpose == "research" and inst.languages == ("en",)
    assert inst.missing_codes == ("0", "9") and inst.scales[0].bands == []
    assert inst.items[1].text is not None and inst.items[1].text.get("en") == "is reserved"
    with pytest.raises(ValueError, match="no Georgian"):
        inst.title.get("ka")  # never a silent fallback to English
    spec = instruments.scoring_spec(inst)
    x = scoring.parse_block(spec, np.array([["5", "1", "4"], ["9", "2", "0"], ["3", "2", "4"]], dtype=object))
    assert x[1].tolist() == [scoring.MISSING, 2, scoring.MISSING]  # 9 and 0 declared "not answered"
    f = scoring.score(spec, x).to_frame()
    assert f["x"][0] == pytest.approx((5 + (6 - 1) + 4) / 3)  # T2 reversed: 6 − x
    assert np.isnan(f["x"][1])  # 1 of 3 answered: below the 80 % minimum
    assert f["x"][2] == pytest.approx((3 + 4 + 4) / 3)
    assert list(f["x_band"]) == ["", "", ""]  # no bands, no band labels invented


@pytest.mark.parametrize(
    "edit,expected",
    [
        # a service definition (the default purpose) must give both languages
        (('purpose = "research"\n', ""), ["E051", "Georgian and English"]),
        # and bands on every scale
        (('purpose = "research"\nlanguages = ["en"]\n', 'languages = ["ka", "en"]\n'), None),
        # a declared missing code may not be a valid answer
        (("missing_codes = [0, 9]", "missing_codes = [3]"), ["missing_codes[0]: 3 is a valid answer", "E052"]),
        (('languages = ["en"]', 'languages = ["en", "en"]'), ["E051", "listed twice"]),
    ],
)
def test_research_definition_rules(tmp_path, edit, expected):
    toml = EN_ONLY.replace(*edit)
    found = " | ".join(problems(make(tmp_path, toml, EN_ITEMS)))
    if expected is None:  # service purpose with English texts only: Georgian missing everywhere, bands too
        assert "[instrument.toml] title: has no Georgian text (ka) (E013)" in found
        assert "[items.csv row 2] item 'T1' has no Georgian text (text_ka)" in found
        assert "scales[0].bands: scale 'x' has no interpretation bands" in found
        return
    for part in expected:
        assert part in found, found


def test_a_research_definition_lists_every_text_missing_in_its_languages(tmp_path):
    toml = EN_ONLY.replace('languages = ["en"]', 'languages = ["ka", "en"]')
    found = problems(
        make(
            tmp_path,
            toml,
            EN_ITEMS.replace("text_en", "text_en,text_ka").replace("talkative", "talkative,ლაპარაკი უყვარს"),
        )
    )
    text = " | ".join(found)
    for where in ("title", "sections[0].title", "sections[0].instructions", "scales[0].name", "response.labels[0]"):
        assert f"[instrument.toml] {where}: has no Georgian text (ka) (E013)" in text, where
    assert "[items.csv row 3] item 'T2' has no Georgian text (text_ka)" in text
    assert "row 2" not in text  # T1 has both


def test_shipped_instruments_are_service_instruments_in_both_languages():
    for iid, version in instruments.available():
        inst = instruments.load(iid, version)
        assert inst.purpose == "service" and inst.languages == ("ka", "en"), inst.ref
        for s in inst.scales:
            assert s.bands, (inst.ref, s.id)


def test_the_toy_service_definition_still_needs_a_band_per_scale(tmp_path):
    toml = TOML.replace(
        """bands = [ { id = "low", below = 3, label = { ka = "დაბალი", en = "low" } },
          { id = "high", label = { ka = "მაღალი", en = "high" } } ]""",
        "",
    )
    assert any("E021" in p and "no interpretation bands" in p for p in problems(make(tmp_path, toml, ITEMS)))


def test_missing_codes_apply_on_every_import_path(tmp_path):
    """Declared codes are read as skipped by the engine's parser and by research imports alike."""
    from scoring import research as rs

    inst = instruments.load_path(make(tmp_path, EN_ONLY, EN_ITEMS), check_activities=False)
    spec = instruments.scoring_spec(inst)
    path = tmp_path / "data.csv"
    path.write_text("id,T1,T2,T3\nP1,5,9,4\nP2,0,2,3\n", encoding="utf-8")
    ds = rs.read_dataset(path, spec)
    assert ds.responses.tolist() == [[5, scoring.MISSING, 4], [scoring.MISSING, 2, 3]]
    assert ds.missing_codes == ("0", "9")
    numeric = pd.DataFrame({"id": ["P1", "P2"], "T1": [5, 0], "T2": [9, 2], "T3": [4, 3]})
    numeric.to_excel(tmp_path / "d.xlsx", index=False)
    assert rs.read_dataset(tmp_path / "d.xlsx", spec).responses.tolist() == ds.responses.tolist()  # numeric cells
    with pytest.raises(scoring.ScoringError, match="valid answer"):
        scoring.answer_lookup(
            scoring.InstrumentSpec("t", "1", "", "generic", "ordinal", 1, 5, (), (), (), missing_codes=("3",))
        )
