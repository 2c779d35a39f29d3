"""Occupation matching, checked against an independent reading of data/occupations.csv."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest

import instruments
import reports
from reports import ReportError, match_occupations

CSV = instruments.data_dir() / "occupations.csv"
WEIGHTS = ((22, 10, 4), (10, 5, 2), (4, 2, 1))  # Iachan (1984)
LETTERS = "RIASEC"
MAX_LEVEL = {"none": 2, "primary": 2, "basic": 2, "secondary": 3, "vocational": 4, "bachelor": 5, "master": 5}


def _rows() -> list[dict[str, str]]:
    with Path(CSV).open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


ROWS = _rows()
UNSUITABLE = {r["name_en"] for r in ROWS if r["excluded"] == "1" or "night" in r["tags"].split(";")}


def m_index(p: str, q: str) -> int:
    return sum(WEIGHTS[i][j] for i in range(3) for j in range(3) if p[i] == q[j])


def test_catalogue_has_unsuitable_settings_to_exclude() -> None:
    assert {"bartender", "casino dealer", "night-club dancer"} <= UNSUITABLE


@pytest.mark.parametrize("education", [None, *MAX_LEVEL])
def test_never_suggests_an_excluded_occupation(education: str | None) -> None:
    codes = ["".join(p) for p in itertools.permutations(LETTERS, 3)]
    for code in codes:
        r = match_occupations(code, education=education, limit=400, retraining_limit=400)
        names = {m.occupation.name.en for m in (*r.suggested, *r.retraining)}
        assert not names & UNSUITABLE, (code, names & UNSUITABLE)


def test_an_excluded_occupation_is_dropped_even_when_its_code_fits_perfectly() -> None:
    # night-club dancer is ASE; the person's code is ASE
    r = match_occupations("ASE", education="master", limit=400, retraining_limit=400)
    assert "night-club dancer" not in {m.occupation.name.en for m in r.suggested}
    assert any(m.occupation.riasec == "ASE" for m in r.suggested)


def test_ranking_matches_an_independent_iachan_computation() -> None:
    r = match_occupations("SAE", education="secondary", limit=400)
    got = [(m.occupation.name.en, m.m) for m in r.suggested]
    expected = {
        row["name_en"]: m_index("SAE", row["riasec"]) for row in ROWS
        if row["name_en"] not in UNSUITABLE and int(row["training_level"]) <= 3
        and m_index("SAE", row["riasec"]) >= 10
    }
    assert dict(got) == expected
    ms = [m for _, m in got]
    assert ms == sorted(ms, reverse=True)
    assert got[0][1] == 28 and {n for n, m in got if m == 28} == {n for n, v in expected.items() if v == 28}


def test_c_index_breaks_ties_in_m() -> None:
    r = match_occupations("SAE", education="master", limit=400)
    for a, b in zip(r.suggested, r.suggested[1:], strict=False):
        if a.m == b.m:
            assert a.c >= b.c


def test_education_filter_and_retraining_list() -> None:
    r = match_occupations("SAE", education="basic", limit=400, retraining_limit=400)
    assert r.max_level == 2
    assert all(m.occupation.training_level <= 2 for m in r.suggested)
    assert r.retraining and all(3 <= m.occupation.training_level <= 4 for m in r.retraining)
    unknown = match_occupations("SAE", education=None, limit=400)
    assert unknown.max_level is None and unknown.retraining == ()
    assert max(m.occupation.training_level for m in unknown.suggested) == 5


def test_tied_code_uses_every_admissible_ordering() -> None:
    r = match_occupations("ASE/SAE", education="master", limit=400)
    best = {m.occupation.name.en: (m.m, m.person_code) for m in r.suggested}
    assert best["hairdresser"] == (28, "ASE")      # ASE occupation
    assert best["cosmetologist"] == (28, "SAE")    # SAE occupation
    assert r.codes == ("ASE", "SAE")


def test_constraints_remove_night_work_and_driving() -> None:
    free = match_occupations("RCE", education="secondary", limit=400)
    names = {m.occupation.name.en for m in free.suggested}
    assert {"security guard", "taxi driver", "truck driver"} <= names
    limited = match_occupations("RCE", education="secondary", limit=400,
                                constraints=["no_night_shifts", "no_driving_licence"])
    left = {m.occupation.name.en for m in limited.suggested}
    assert not {"security guard", "taxi driver", "truck driver"} & left
    assert set(limited.constraints) == {"no_night_shifts", "no_driving_licence"}


@pytest.mark.parametrize("bad", ["SAX", "SSE", "SA", ""])
def test_bad_code_is_a_clear_error(bad: str) -> None:
    with pytest.raises(ReportError):
        match_occupations(bad)


def test_unknown_education_is_a_clear_error() -> None:
    with pytest.raises(ReportError, match="education level"):
        match_occupations("SAE", education="phd")


def test_each_match_is_explained_in_both_languages() -> None:
    profile = reports.build_profile(
        "X1", sds={"id": "X1", "instrument": "sds", "instrument_version": "1.0", "engine_version": "1.0.0",
                   **_sds_row("SAE")})
    for lang in ("ka", "en"):
        view = reports.build_view(profile, lang, "employment")
        for m in view["matches"]["suggested"]:
            assert m["code"] in m["sentence"] and "SAE" in m["sentence"]
            assert m["sentence"].endswith(".")


def _sds_row(code: str) -> dict[str, object]:
    """A minimal scored SDS row with the given code (no flags)."""
    totals = dict.fromkeys(LETTERS, 2.0)
    for k, ch in enumerate(code):
        totals[ch] = 20.0 - 4 * k
    row: dict[str, object] = {}
    for L in LETTERS:
        row[L] = totals[L]
        row[f"{L}_band"] = "high" if totals[L] >= 15 else "medium" if totals[L] >= 8 else "low"
        row[f"{L}_missing"] = 0
        for sec in ("activities", "competencies", "occupations", "settings"):
            row[f"{sec}_{L}"] = totals[L] / 4
    row.update(code=code, code_orderings=1, consistency="high", differentiation_iachan=6.0,
               differentiation_range=18.0, elevation=sum(totals.values()), coherence="", flags="",
               **{f"congruence_{k}_{m}": float("nan") for k in ("m", "c", "zs") for m in ("min", "max")})
    return row


MAX_LEVEL_1_1 = {  # intake 1.1 adds the schooling adults finished before the reform, placed on ISCED
    **MAX_LEVEL,
    "vocational_after_basic": 3,  # ISCED 3: vocational programme at upper-secondary level
    "technikum": 4,  # ISCED 5 (short-cycle tertiary): higher vocational level, not a degree
}


@pytest.mark.parametrize("education", sorted(MAX_LEVEL_1_1))
def test_training_level_filter_reads_the_intake_forms_isced_levels(education: str) -> None:
    form = instruments.load("intake", "1.1")
    r = match_occupations("SAE", education=education, limit=400, retraining_limit=400, intake=form)
    assert r.max_level == MAX_LEVEL_1_1[education]
    assert all(m.occupation.training_level <= MAX_LEVEL_1_1[education] for m in r.suggested)
    if education in MAX_LEVEL:  # the 1.0 answers mean the same under 1.0
        old = match_occupations("SAE", education=education, limit=400, intake=instruments.load("intake", "1.0"))
        assert old.max_level == MAX_LEVEL[education]


def test_an_answer_is_read_with_the_form_version_it_was_given_with() -> None:
    with pytest.raises(ReportError, match="education level 'technikum'"):
        match_occupations("SAE", education="technikum", intake=instruments.load("intake", "1.0"))
    assert match_occupations("SAE", education="technikum").max_level == 4  # the newest form knows it
    assert dict(reports.EDUCATION_MAX_LEVEL) == MAX_LEVEL_1_1  # the former constant, now read from data
