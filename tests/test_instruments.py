"""Shipped definitions load and meet the issue's content requirements; broken ones fail clearly."""

from __future__ import annotations

import textwrap
from collections import Counter
from pathlib import Path

import pytest

import instruments
from instruments import InstrumentError


@pytest.mark.parametrize("iid,version", instruments.available())
def test_every_shipped_definition_loads(iid, version):
    inst = instruments.load(iid, version)
    assert inst.ref == f"{iid}@{version}"
    assert len(inst.content_hash) == 64
    for sec in inst.sections:
        assert sec.instructions.ka and sec.instructions.en


def test_vdq_content():
    vdq = instruments.load("vdq")
    per_scale = Counter(i.scale for i in vdq.items)
    assert 4 <= per_scale["certainty"] <= 6
    barriers = [s for s in vdq.scales if s.role == "barrier"]
    assert len(barriers) >= 10
    for s in barriers:
        assert 4 <= per_scale[s.id] <= 5, s.id
        assert s.interventions, f"barrier {s.id} suggests no activity"
    assert {"emotional_strain", "practical", "confidence", "skills_experience", "expectations"} <= {
        s.id for s in barriers
    }
    assert any(i.keyed == -1 for i in vdq.items)
    assert [lab.value for lab in vdq.response.labels] == [4, 3, 2, 1]


def test_sds_content():
    sds = instruments.load("sds")
    letter = {s.id: s.letter for s in sds.scales}
    counts = Counter((i.section, letter[i.scale]) for i in sds.items)
    assert {s.id for s in sds.sections} == {"activities", "competencies", "occupations", "settings"}
    for sec in ("activities", "competencies", "occupations"):
        for L in "RIASEC":
            assert counts[(sec, L)] >= 6, (sec, L)
    for L in "RIASEC":
        assert counts[("settings", L)] >= 1
    titles = " ".join(i.text.en.lower() for i in sds.items if i.section == "occupations")
    for seed_job in ("cook", "hairdresser", "cashier", "receptionist", "nanny", "gardener"):
        assert seed_job in titles, seed_job


def test_ppi_content():
    ppi = instruments.load("ppi")
    per_scale = Counter(i.scale for i in ppi.items if i.scale)
    assert sorted(per_scale) == ["EI", "JP", "SN", "TF"]
    assert all(7 <= n <= 8 for n in per_scale.values())
    repeats = [i for i in ppi.items if i.repeat_of]
    assert len(repeats) >= 4
    assert {ppi.items[ppi.item_ids.index(r.repeat_of)].scale for r in repeats} == set(per_scale)
    for s in ppi.scales:  # pole order varies within each dimension
        keys = {i.keyed for i in ppi.items if i.scale == s.id}
        assert keys == {1, -1}, s.id
    assert not ppi.ipsative


def test_intake_fields():
    intake = instruments.load("intake")
    ids = {f.id for f in intake.fields}
    assert {
        "education_level",
        "currently_employed",
        "constraints",
        "aspired_occupations",
        "rehabilitation_phase",
        "expectation",
    } <= ids
    assert [o.value for o in intake.field_("rehabilitation_phase").options] == ["crisis", "transition", "inclusion"]


def test_no_upper_case_georgian():
    # Mtavruli capitals (U+1C90–U+1CBF) render inconsistently; never use them
    for iid, ver in instruments.available():
        folder = instruments.DEFINITIONS / iid / ver
        for f in folder.iterdir():
            text = f.read_text(encoding="utf-8")
            assert not any("\u1c90" <= ch <= "\u1cbf" for ch in text), f


# -- broken definitions -----------------------------------------------------------------

TOML = """
schema_version = 1
id = "toy"
version = "1.0"
model = "generic"
title = { ka = "სატესტო", en = "Toy" }
[response]
kind = "ordinal"
min = 1
max = 5
labels = [
  { value = 1, ka = "ა", en = "a" }, { value = 2, ka = "ბ", en = "b" }, { value = 3, ka = "გ", en = "c" },
  { value = 4, ka = "დ", en = "d" }, { value = 5, ka = "ე", en = "e" },
]
[[sections]]
id = "one"
title = { ka = "პირველი", en = "One" }
instructions = { ka = "უპასუხეთ", en = "Answer" }
[[scales]]
id = "x"
name = { ka = "იქსი", en = "X" }
bands = [ { id = "low", below = 3, label = { ka = "დაბალი", en = "low" } },
          { id = "high", label = { ka = "მაღალი", en = "high" } } ]
"""
ITEMS = """id,section,scale,keyed,text_ka,text_en
T1,one,x,1,პირველი,first
T2,one,x,-1,მეორე,second
T3,one,x,1,მესამე,third
"""


def make(tmp_path: Path, toml: str = TOML, items: str = ITEMS) -> Path:
    folder = tmp_path / "toy" / "1.0"
    folder.mkdir(parents=True)
    (folder / "instrument.toml").write_text(textwrap.dedent(toml), encoding="utf-8")
    (folder / "items.csv").write_text(items, encoding="utf-8")
    return folder


def problems(folder: Path) -> list[str]:
    with pytest.raises(InstrumentError) as info:
        instruments.load_path(folder, check_activities=False)
    return [str(p) for p in info.value.problems]


def test_toy_is_valid(tmp_path):
    inst = instruments.load_path(make(tmp_path), check_activities=False)
    assert inst.item_ids == ("T1", "T2", "T3")


@pytest.mark.parametrize(
    "toml_edit,items_edit,expected",
    [
        (
            ('model = "generic"', 'model = "generic"\ncolour = "red"'),
            None,
            ["instrument.toml", "colour", "unknown key"],
        ),
        (None, ("T3,one,x,1", "T2,one,x,1"), ["items.csv row 4", "'T2' is defined twice", "E010"]),
        (None, ("T3,one,x,1", "T3,one,y,1"), ["items.csv row 4", "unknown scale 'y'", "E012"]),
        (None, ("T3,one,x,1,მესამე", "T3,one,x,1,"), ["items.csv row 4", "no Georgian text (text_ka)"]),
        (None, ("T3,one,x,1,მესამე,third", "T3,one,x,1,მესამე,"), ["items.csv row 4", "no English text (text_en)"]),
        (None, ("T3,one,x,1", "T3,one,x,2"), ["items.csv row 4", "keyed"]),
        (None, ("T3,one,x", "T3,two,x"), ["items.csv row 4", "unknown section 'two'"]),
        (("below = 3", "below = 3, foo = 1"), None, ["instrument.toml", "scales[0].bands[0].foo"]),
        (('{ value = 5, ka = "ე", en = "e" },', ""), None, ["response.labels", "one label for each value"]),
        (("min = 1", "min = 7"), None, ["min (7) must be below max (5)"]),
        (('id = "low", below = 3', 'id = "low"'), None, ["only the last band may omit 'below'"]),
    ],
)
def test_broken_definitions_name_file_and_place(tmp_path, toml_edit, items_edit, expected):
    toml, items = TOML, ITEMS
    if toml_edit:
        assert toml_edit[0] in toml
        toml = toml.replace(toml_edit[0], toml_edit[1], 1)
    if items_edit:
        assert items_edit[0] in items
        items = items.replace(items_edit[0], items_edit[1], 1)
    text = "\n".join(problems(make(tmp_path, toml, items)))
    for piece in expected:
        assert piece in text, f"{piece!r} not in:\n{text}"


def test_all_problems_are_listed_at_once(tmp_path):
    items = ITEMS.replace("T2,one,x,-1,მეორე,second", "T2,one,y,-1,,second").replace("T3,one,x", "T3,nowhere,x")
    found = problems(make(tmp_path, items=items))
    assert len(found) >= 3  # unknown scale, missing ka, unknown section


def test_scale_needs_two_items(tmp_path):
    items = "id,section,scale,keyed,text_ka,text_en\nT1,one,x,1,ერთი,one\n"
    assert any("needs at least two" in p for p in problems(make(tmp_path, items=items)))


def test_unknown_intervention_is_reported(tmp_path):
    toml = TOML.replace(
        'name = { ka = "იქსი", en = "X" }', 'name = { ka = "იქსი", en = "X" }\ninterventions = ["astrology"]'
    )
    with pytest.raises(InstrumentError, match="astrology"):
        instruments.load_path(make(tmp_path, toml=toml))


def test_unknown_instrument_and_version():
    with pytest.raises(InstrumentError, match="no such instrument"):
        instruments.load("nope")
    with pytest.raises(InstrumentError, match="no version"):
        instruments.load("vdq", "9.9")


def test_catalogues_load():
    occ = instruments.occupations()
    assert len(occ) >= 250
    assert any(o.excluded for o in occ)
    assert {a.id for a in instruments.activities()} >= {"stress_management", "microbusiness_modules"}
    assert instruments.find_occupation("hairdresser") is not None
    assert instruments.find_occupation("nothing like this") is None


def test_catalogue_names_from_the_language_review():
    by_ka = {o.name.ka: o for o in instruments.occupations()}
    assert "დიასახლისი" not in by_ka  # housewife: never an occupation by itself (seed: offices, small hotels)
    assert by_ka["დიასახლისი სასტუმროში ან ოფისში (ჰაუსკიპერი)"].isco == "9112"
    assert by_ka["ფარმაცევტი (პროვიზორი)"].isco == "2262"  # the SDS item's pharmacist
    assert by_ka["ფარმაცევტის ასისტენტი"].isco == "3213"
    assert by_ka["მხარდაჭერითი დასაქმების სპეციალისტი"].isco == "3412"
    manual = [o.name.ka for o in instruments.occupations() if o.isco[0] in "789"]  # crafts, machines, elementary
    assert not [n for n in manual if "მუშაკი" in n] and sum("მუშა" in n for n in manual) >= 6  # one word: მუშა


@pytest.mark.parametrize(
    "given,isco",
    [
        ("დიასახლისი", "9112"),  # former names resolve, so stored aspirations keep their occupation
        ("რეცეფციონისტი", "4226"),
        ("ტექსტილის ფაბრიკის მუშაკი", "8159"),
        ("პროვიზორი", "2262"),
        ("ფარმაცევტი", "2262"),  # today's word for the pharmacist (the old row 3213 meant the technician)
        ("nutritionist", "2265"),
        ("housekeeper", "9112"),
    ],
)
def test_former_and_other_names_find_the_occupation(given, isco):
    assert instruments.find_occupation(given).isco == isco


def test_an_alias_may_not_name_another_row(tmp_path):
    src = (instruments.data_dir() / "occupations.csv").read_text(encoding="utf-8").splitlines()
    header, first, second = src[0], src[1], src[2]
    assert header.endswith(",aliases")
    name_of_first = first.split(",")[1]
    clash = second[: second.rindex(",")] + f",{name_of_first}"
    (tmp_path / "occ.csv").write_text("\n".join([header, first, clash]) + "\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match="already names another row"):
        instruments.load_occupations(tmp_path / "occ.csv")
    plain = "\n".join(line[: line.rindex(",")] for line in (header, first, second)) + "\n"
    (tmp_path / "plain.csv").write_text(plain, encoding="utf-8")  # the aliases column is optional
    assert len(instruments.load_occupations(tmp_path / "plain.csv")) == 2
