"""Occupation matching, checked against an independent reading of instruments/data/occupations.csv.

Matching takes the ISCED 2011 level of the completed education (``isced=``: what the intake form's
data, its isced.csv, make of the education answer) and what the person cannot do (``limits=``:
``night_work``, ``driving``), no longer an education answer or intake option values; the answers
are read through the intake record in a profile (the last tests)."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pandas as pd
import pytest

import instruments
import reports
from api.scoring_facade import records_of_frame
from reports import ReportError, match_occupations
from tests.test_reports_data import INTAKE, PERSON, records

CSV = instruments.data_dir() / "occupations.csv"
WEIGHTS = ((22, 10, 4), (10, 5, 2), (4, 2, 1))  # Iachan (1984)
LETTERS = "RIASEC"
MAX_LEVEL = {"none": 2, "primary": 2, "basic": 2, "secondary": 3, "vocational": 4, "bachelor": 5, "master": 5}
"""Education answer → highest training level reachable (written out by hand, not read from the code)."""


def _isced(version: str) -> dict[str, int]:
    """Education answer → ISCED level, read straight from the intake form's isced.csv."""
    path = instruments.DEFINITIONS / "intake" / version / "isced.csv"
    with path.open(encoding="utf-8") as fh:
        return {r["value"]: int(r["isced"]) for r in csv.DictReader(fh) if r["field"] == "education_level"}


ISCED = _isced("1.1")


def _rows() -> list[dict[str, str]]:
    with Path(CSV).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


ROWS = _rows()
UNSUITABLE = {r["name_en"] for r in ROWS if r["excluded"] == "1" or "night" in r["tags"].split(";")}


def m_index(p: str, q: str) -> int:
    return sum(WEIGHTS[i][j] for i in range(3) for j in range(3) if p[i] == q[j])


def test_catalogue_has_unsuitable_settings_to_exclude() -> None:
    assert {"bartender", "casino dealer", "night-club dancer"} <= UNSUITABLE


@pytest.mark.parametrize("isced", [None, *range(9)])
def test_never_suggests_an_excluded_occupation(isced: int | None) -> None:
    codes = ["".join(p) for p in itertools.permutations(LETTERS, 3)]
    for code in codes:
        r = match_occupations(code, isced=isced, limit=400, retraining_limit=400)
        names = {m.occupation.name.en for m in (*r.suggested, *r.retraining)}
        assert not names & UNSUITABLE, (code, names & UNSUITABLE)


def test_an_excluded_occupation_is_dropped_even_when_its_code_fits_perfectly() -> None:
    # night-club dancer is ASE; the person's code is ASE
    r = match_occupations("ASE", isced=ISCED["master"], limit=400, retraining_limit=400)
    assert "night-club dancer" not in {m.occupation.name.en for m in r.suggested}
    assert any(m.occupation.riasec == "ASE" for m in r.suggested)


def test_ranking_matches_an_independent_iachan_computation() -> None:
    r = match_occupations("SAE", isced=ISCED["secondary"], limit=400)
    got = [(m.occupation.name.en, m.m) for m in r.suggested]
    expected = {
        row["name_en"]: m_index("SAE", row["riasec"])
        for row in ROWS
        if row["name_en"] not in UNSUITABLE and int(row["training_level"]) <= 3 and m_index("SAE", row["riasec"]) >= 10
    }
    assert dict(got) == expected
    ms = [m for _, m in got]
    assert ms == sorted(ms, reverse=True)
    assert got[0][1] == 28 and {n for n, m in got if m == 28} == {n for n, v in expected.items() if v == 28}


def test_c_index_breaks_ties_in_m() -> None:
    r = match_occupations("SAE", isced=ISCED["master"], limit=400)
    for a, b in zip(r.suggested, r.suggested[1:], strict=False):
        if a.m == b.m:
            assert a.c >= b.c


def test_education_filter_and_retraining_list() -> None:
    r = match_occupations("SAE", isced=ISCED["basic"], limit=400, retraining_limit=400)
    assert r.max_level == 2 and r.isced == 2
    assert all(m.occupation.training_level <= 2 for m in r.suggested)
    assert r.retraining and all(3 <= m.occupation.training_level <= 4 for m in r.retraining)
    unknown = match_occupations("SAE", isced=None, limit=400)
    assert unknown.max_level is None and unknown.retraining == ()
    assert max(m.occupation.training_level for m in unknown.suggested) == 5


def test_tied_code_uses_every_admissible_ordering() -> None:
    r = match_occupations("ASE/SAE", isced=ISCED["master"], limit=400)
    best = {m.occupation.name.en: (m.m, m.person_code) for m in r.suggested}
    assert best["hairdresser"] == (28, "ASE")  # ASE occupation
    assert best["cosmetologist"] == (28, "SAE")  # SAE occupation
    assert r.codes == ("ASE", "SAE")


def test_limits_remove_night_work_and_driving() -> None:
    free = match_occupations("RCE", isced=ISCED["secondary"], limit=400)
    names = {m.occupation.name.en for m in free.suggested}
    assert {"security guard", "taxi driver", "truck driver"} <= names
    assert free.limits == ()
    limited = match_occupations("RCE", isced=ISCED["secondary"], limit=400, limits=["night_work", "driving"])
    left = {m.occupation.name.en for m in limited.suggested}
    assert not {"security guard", "taxi driver", "truck driver"} & left
    assert set(limited.limits) == {"night_work", "driving"}
    night = match_occupations("RCE", isced=ISCED["secondary"], limit=400, limits=["night_work"])
    assert "security guard" not in {m.occupation.name.en for m in night.suggested}
    assert "taxi driver" in {m.occupation.name.en for m in night.suggested}


@pytest.mark.parametrize("bad", ["SAX", "SSE", "SA", ""])
def test_bad_code_is_a_clear_error(bad: str) -> None:
    with pytest.raises(ReportError):
        match_occupations(bad)


def test_unknown_limit_and_education_level_are_clear_errors() -> None:
    with pytest.raises(ReportError, match="unknown limit"):
        match_occupations("SAE", limits=["no_night_shifts"])  # an intake option value, not a limit
    for bad in (9, -1, "secondary", 3.0):
        with pytest.raises(ReportError, match="ISCED"):
            match_occupations("SAE", isced=bad)  # type: ignore[arg-type]


def test_each_match_is_explained_in_both_languages() -> None:
    profile = reports.build_profile("X1", [records()["sds"]])  # code SAE
    for lang in ("ka", "en"):
        view = reports.build_view(profile, lang, "employment")
        assert view["matches"]["suggested"]
        for m in view["matches"]["suggested"]:
            assert m["code"] in m["sentence"] and "SAE" in m["sentence"]
            assert m["sentence"].endswith(".")


MAX_LEVEL_1_1 = {  # intake 1.1 adds the schooling adults finished before the reform, placed on ISCED
    **MAX_LEVEL,
    "vocational_after_basic": 3,  # ISCED 3: vocational programme at upper-secondary level
    "technikum": 4,  # ISCED 5 (short-cycle tertiary): higher vocational level, not a degree
}


def _intake(version: str, **changes: str):  # type: ignore[no-untyped-def]
    """An intake record scored with the given version of the form."""
    frame = pd.DataFrame([{**INTAKE, **changes}]).astype(object)
    (rec,) = records_of_frame(instruments.load("intake", version), frame)
    return rec


@pytest.mark.parametrize("education", sorted(MAX_LEVEL_1_1))
def test_training_level_filter_reads_the_intake_forms_isced_levels(education: str) -> None:
    sds = records()["sds"]
    p = reports.build_profile(PERSON, [sds, _intake("1.1", education_level=education)])
    assert p.matches is not None
    assert p.matches.isced == ISCED[education]
    assert p.matches.max_level == MAX_LEVEL_1_1[education]
    assert all(m.occupation.training_level <= MAX_LEVEL_1_1[education] for m in p.matches.suggested)
    if education in MAX_LEVEL:  # the 1.0 answers mean the same under 1.0
        old = reports.build_profile(PERSON, [sds, _intake("1.0", education_level=education)])
        assert old.matches is not None and old.matches.max_level == MAX_LEVEL[education]
        assert old.intake is not None and old.intake.provenance.version == "1.0"


def test_an_answer_is_read_with_the_form_version_it_was_given_with() -> None:
    sds = records()["sds"]
    old = _intake("1.0")
    technikum = old.model_copy(update={"values": {**old.values, "education_level": "technikum"}})
    with pytest.raises(ReportError, match="education_level = 'technikum' is not one of"):
        reports.build_profile(PERSON, [sds, technikum])  # intake 1.0 has no such answer
    p = reports.build_profile(PERSON, [sds, _intake("1.1", education_level="technikum")])
    assert p.matches is not None and p.matches.max_level == 4  # the newer form knows it
    # the former constant is now read from data: every 1.1 answer, through its ISCED level
    levels = {
        e: reports.build_profile(PERSON, [sds, _intake("1.1", education_level=e)]).matches.max_level  # type: ignore[union-attr]
        for e in ISCED
    }
    assert levels == MAX_LEVEL_1_1
