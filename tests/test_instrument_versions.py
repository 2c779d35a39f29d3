"""Instrument versions: 1.0 stays exactly as stored results were scored with it, 1.1 scores like it,
and the new parts of the format (short labels, a section's own labels, ISCED levels) are checked."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import instruments
import scoring
from instruments import InstrumentError
from tests.strategies import random_answers

SCORED = ("vdq", "sds", "ppi")

STORED_1_0 = {  # content hashes stored with every 1.0 result: 1.0 must never change
    "vdq": "2e4b6f86c3fb2f5029e4f8968ea1c4ae45dec92fca7bdbe66ceabfed462eaf9d",
    "sds": "f3f8e400071b1ca3b3edbdb1b1f61b5c863aa25f152e81fe67484a53777a32f8",
    "ppi": "fedab6acb9da6b08adbce8cc21c7e8e2bbbf2c747a0ec7106296527239954514",
    "intake": "3afd43a135aedf534db0a2bf859fa46843b6e05bfd7f65a73712283d1abc72a5",
}

ISCED_1_0 = {"none": 0, "primary": 1, "basic": 2, "secondary": 3, "vocational": 4, "bachelor": 6, "master": 7}
"""The levels the engine used, hard-coded, when 1.0 results were scored."""

ISCED_1_1 = {
    **ISCED_1_0,
    "vocational_after_basic": 3,  # old vocational-technical school after 8 grades: upper-secondary vocational
    "technikum": 5,  # mid-level specialist programme: short-cycle tertiary
}


@pytest.mark.parametrize("iid", sorted(STORED_1_0))
def test_version_1_0_is_unchanged(iid):
    assert instruments.load(iid, "1.0").content_hash == STORED_1_0[iid]


@pytest.mark.parametrize("iid", sorted(STORED_1_0))
def test_the_newest_version_is_the_default(iid):
    assert instruments.load(iid).version == "1.1"
    assert [v for i, v in instruments.available() if i == iid] == ["1.0", "1.1"]


def test_isced_levels_of_the_shipped_intake_forms():
    for version, expected in (("1.0", ISCED_1_0), ("1.1", ISCED_1_1)):
        form = instruments.load("intake", version)
        levels = {o.value: o.isced for o in form.field_("education_level").options}
        assert levels == expected, version
        assert instruments.intake_spec(form).isced() == expected


@pytest.mark.parametrize("iid", SCORED)
@pytest.mark.parametrize("p_missing", [0.0, 0.1, 0.35])
def test_1_1_scores_exactly_like_1_0(iid, p_missing):
    old, new = (instruments.scoring_spec(instruments.load(iid, v)) for v in ("1.0", "1.1"))
    assert new.items == old.items and new.scales == old.scales and new.params == old.params
    x = random_answers(old, 400, seed=11, p_missing=p_missing, concentrate=0.5)
    seconds = np.random.default_rng(3).uniform(0, 6, size=len(x)) * len(old.items)
    asp = None
    if iid == "sds":
        asp = np.random.default_rng(5).integers(-1, len(scoring.CANDIDATES), size=(len(x), 3)).astype(np.int16)
    a = scoring.score(old, x, seconds=seconds, aspirations=asp).to_frame()
    b = scoring.score(new, x, seconds=seconds, aspirations=asp).to_frame()
    provenance = [c for c in a.columns if c.startswith(("instrument", "engine"))]
    assert list(a.columns) == list(b.columns)
    pd.testing.assert_frame_equal(a.drop(columns=provenance), b.drop(columns=provenance))
    assert (b["instrument_version"] == "1.1").all()


def _intake_rows(education: list[str]) -> pd.DataFrame:
    base = {
        "has_profession": "yes",
        "profession_in_demand": "yes",
        "work_experience_years": "5",
        "months_since_last_job": "3",
        "never_worked": "no",
        "currently_employed": "no",
        "seeking_better_job": "",
        "computer_skills": "basic",
        "driving_licence": "no",
        "communication": "with_support",
        "economic_situation": "no_income",
        "rehabilitation_phase": "transition",
        "expectation": "employment",
        "constraints": "transport",
    }
    return pd.DataFrame([{**base, "education_level": e} for e in education])


def _groups(version: str, education: list[str]) -> pd.DataFrame:
    spec = instruments.intake_spec(instruments.load("intake", version))
    return scoring.score_intake(scoring.parse_intake(spec, _intake_rows(education)), spec)


def test_intake_1_1_scores_the_1_0_options_like_1_0():
    options = list(ISCED_1_0)
    pd.testing.assert_frame_equal(_groups("1.0", options), _groups("1.1", options))


@pytest.mark.parametrize(
    "education,group,low",
    [
        ("basic", "III", True),  # old 8-grade school: ISCED 2
        ("secondary", "I", False),  # old 10- or 11-grade school: ISCED 3
        ("vocational_after_basic", "I", False),  # old vocational-technical school after 8 grades: ISCED 3
        ("technikum", "I", False),  # ISCED 5
    ],
)
def test_old_schooling_places_the_person_in_the_right_group(education, group, low):
    r = _groups("1.1", [education]).iloc[0]
    assert r["job_seeker_group"] == group
    assert ("low_education" in r["group_reasons"]) is low


def test_an_unclassified_education_answer_is_unknown_not_low():
    spec = instruments.intake_spec(instruments.load("intake", "1.1"))
    bare = scoring.IntakeSpec(
        spec.id,
        spec.version,
        spec.content_hash,
        tuple(scoring.FieldSpec(f.id, f.type, f.required, f.options) for f in spec.fields),
    )
    r = scoring.score_intake(scoring.parse_intake(bare, _intake_rows(["none"])), bare).iloc[0]
    assert "low_education" not in r["group_reasons"]
    assert r["job_seeker_group"] == "II"  # not I: group I needs a known ISCED 3 or more


# -- the new parts of the format ------------------------------------------------------------------


def test_vdq_1_1_labels_have_short_forms_and_fit_factual_statements():
    vdq = instruments.load("vdq", "1.1")
    shorts = {lab.value: lab.short.ka for lab in vdq.response.labels}
    assert shorts == {
        4: "სავსებით შემესაბამება",
        3: "მეტწილად შემესაბამება",
        2: "ცოტათი შემესაბამება",
        1: "სრულიად არ შემესაბამება",
    }
    for lab in vdq.response.labels:
        assert "გრძნობ" not in lab.ka  # "my feelings" does not fit money, transport or a diploma
        assert lab.ka.startswith(lab.short.ka) and lab.en.startswith(lab.short.en)
    assert all(lab.short is None for lab in instruments.load("vdq", "1.0").response.labels)


def test_sds_1_1_competencies_are_answered_i_can():
    sds = instruments.load("sds", "1.1")
    can = {lab.value: (lab.ka, lab.en) for lab in sds.labels_for("competencies")}
    assert can == {1: ("შემიძლია", "I can"), 0: ("არ შემიძლია", "I can't")}
    for sec in ("activities", "occupations", "settings"):
        assert {lab.value: lab.ka for lab in sds.labels_for(sec)} == {1: "მომწონს", 0: "არ მომწონს"}
    assert all(i.text.ka.startswith("შემიძლია") for i in sds.section_items("competencies"))
    old = instruments.load("sds", "1.0")
    assert {lab.ka for lab in old.labels_for("competencies")} == {"მომწონს", "არ მომწონს"}


def test_every_version_after_the_first_has_a_changes_file_that_checks():
    for iid, version in instruments.available():
        folder = instruments.DEFINITIONS / iid / version
        first = [v for i, v in instruments.available() if i == iid][0]
        assert (folder / "changes.md").is_file() == (version != first), folder
        instruments.load_path(folder)  # runs the changes.md check


TOY = """
schema_version = 1
id = "toy"
version = "1.0"
model = "generic"
title = { ka = "სატესტო", en = "Toy" }
[response]
kind = "binary"
min = 0
max = 1
[[response.labels]]
value = 1
ka = "მომწონს"
en = "Like"
[[response.labels]]
value = 0
ka = "არ მომწონს"
en = "Dislike"
[[sections]]
id = "one"
title = { ka = "პირველი", en = "One" }
instructions = { ka = "უპასუხეთ", en = "Answer" }
[[sections]]
id = "two"
title = { ka = "მეორე", en = "Two" }
instructions = { ka = "უპასუხეთ", en = "Answer" }
[[sections.labels]]
value = 1
ka = "შემიძლია"
en = "I can"
[[sections.labels]]
value = 0
ka = "არ შემიძლია"
en = "I can't"
[[scales]]
id = "x"
score = "sum"
name = { ka = "იქსი", en = "X" }
bands = [ { id = "low", below = 2, label = { ka = "დაბალი", en = "low" } },
          { id = "high", label = { ka = "მაღალი", en = "high" } } ]
"""
TOY_ITEMS = "id,section,scale,keyed,text_ka,text_en\nT1,one,x,1,ერთი,one\nT2,two,x,1,შემიძლია ორი,I can two\n"


def _toy(tmp_path: Path, toml: str = TOY) -> Path:
    folder = tmp_path / "toy" / "1.0"
    folder.mkdir(parents=True)
    (folder / "instrument.toml").write_text(textwrap.dedent(toml), encoding="utf-8")
    (folder / "items.csv").write_text(TOY_ITEMS, encoding="utf-8")
    return folder


def _problems(folder: Path) -> str:
    with pytest.raises(InstrumentError) as info:
        instruments.load_path(folder, check_activities=False)
    return "\n".join(str(p) for p in info.value.problems)


def test_a_section_may_have_its_own_labels_and_a_label_a_short_form(tmp_path):
    toml = TOY.replace(
        'ka = "მომწონს"\nen = "Like"',
        'ka = "მომწონს: სიამოვნებით გავაკეთებდი"\nen = "Like"\nshort = { ka = "მომწონს", en = "Like" }',
    )
    inst = instruments.load_path(_toy(tmp_path, toml), check_activities=False)
    assert [lab.ka for lab in inst.labels_for("two")] == ["შემიძლია", "არ შემიძლია"]
    assert inst.labels_for("one")[0].short.ka == "მომწონს"
    spec = instruments.scoring_spec(inst)  # scored exactly like the instrument's own values
    x = np.array([[1, 1], [1, 0], [0, scoring.MISSING]], dtype=np.int8)
    assert scoring.score(spec, x).to_frame()["x"].tolist()[:2] == [2.0, 1.0]


@pytest.mark.parametrize(
    "edit,expected",
    [
        (
            ('[[sections.labels]]\nvalue = 0\nka = "არ შემიძლია"\nen = "I can\'t"\n', ""),
            ["sections[1].labels", "one label for each value", "E032"],
        ),
        (('value = 0\nka = "არ შემიძლია"', 'value = 2\nka = "არ შემიძლია"'), ["sections[1].labels", "E032"]),
        (
            ('en = "I can"\n', 'en = "I can"\nshort = { ka = "შემიძლია" }\n'),
            ["sections[1].labels[0].short", "no English text", "E013"],
        ),
        (('en = "I can"\n', 'en = "I can"\ncolour = "red"\n'), ["sections[1].labels[0].colour", "unknown key"]),
    ],
)
def test_broken_section_labels_are_reported(tmp_path, edit, expected):
    assert edit[0] in TOY
    text = _problems(_toy(tmp_path, TOY.replace(edit[0], edit[1], 1)))
    for piece in expected:
        assert piece in text, f"{piece!r} not in:\n{text}"


INTAKE_TOML = """
schema_version = 1
id = "form"
version = "1.0"
model = "intake"
title = { ka = "ფორმა", en = "Form" }
[[sections]]
id = "s"
title = { ka = "განათლება", en = "Education" }
instructions = { ka = "შეავსეთ", en = "Fill in" }
"""
FIELDS = (
    "id,section,type,required,label_ka,label_en\neducation_level,s,choice,true,განათლება,Education\n"
    "langs,s,multi,false,ენები,Languages\n"
)
OPTIONS = (
    "field,value,label_ka,label_en\neducation_level,low,დაბალი,Low\neducation_level,high,მაღალი,High\n"
    "langs,ka,ქართული,Georgian\nlangs,en,ინგლისური,English\n"
)
ISCED = "field,value,isced\neducation_level,low,2\neducation_level,high,6\n"
RULES = '[roles]\neducation = "education_level"\n[packet]\nfields = ["education_level"]\n'
"""The form's rules.toml: education_level plays the education role, so it must be placed on ISCED."""


def _form(tmp_path: Path, isced: str | None = ISCED) -> Path:
    folder = tmp_path / "form" / "1.0"
    folder.mkdir(parents=True)
    (folder / "instrument.toml").write_text(INTAKE_TOML, encoding="utf-8")
    (folder / "fields.csv").write_text(FIELDS, encoding="utf-8")
    (folder / "options.csv").write_text(OPTIONS, encoding="utf-8")
    (folder / "rules.toml").write_text(RULES, encoding="utf-8")
    if isced is not None:
        (folder / "isced.csv").write_text(isced, encoding="utf-8")
    return folder


def test_isced_levels_are_read_and_not_hashed(tmp_path):
    folder = _form(tmp_path)
    form = instruments.load_path(folder, check_activities=False)
    assert {o.value: o.isced for o in form.field_("education_level").options} == {"low": 2, "high": 6}
    assert all(o.isced is None for o in form.field_("langs").options)
    (folder / "isced.csv").write_text(ISCED.replace("low,2", "low,1"), encoding="utf-8")
    assert instruments.load_path(folder, check_activities=False).content_hash == form.content_hash


@pytest.mark.parametrize(
    "isced,expected",
    [
        (None, ["[isced.csv]", "'education_level' plays the education role", "scored by ISCED level", "E019"]),
        (ISCED.replace("high,6", "high,9"), ["isced.csv row 3", "isced", "E001"]),
        (ISCED.replace("high,6", "high,six"), ["isced.csv row 3", "E001"]),
        (ISCED + "education_level,middle,3\n", ["isced.csv row 4", "'middle' is not an option", "E019"]),
        (ISCED + "langs,ka,3\n", ["isced.csv row 4", "only a choice field", "E019"]),
        (ISCED + "age,young,3\n", ["isced.csv row 4", "'age' is not a field", "E019"]),
        (ISCED + "education_level,low,3\n", ["isced.csv row 4", "classified twice", "E019"]),
        ("field,value,isced\neducation_level,low,2\n", ["every option of 'education_level'", "high", "E019"]),
    ],
)
def test_broken_isced_files_are_reported(tmp_path, isced, expected):
    text = _problems(_form(tmp_path, isced))
    for piece in expected:
        assert piece in text, f"{piece!r} not in:\n{text}"
