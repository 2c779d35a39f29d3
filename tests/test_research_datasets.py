"""Dataset import (every problem listed, nothing half-imported), missing codes, pseudonymized export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

import instruments
from scoring import MISSING
from scoring import research as rs

SDS = instruments.scoring_spec(instruments.load("sds"))
VDQ = instruments.scoring_spec(instruments.load("vdq"))


def vdq_frame(n: int = 4, seed: int = 1) -> pd.DataFrame:
    sim = rs.simulate(VDQ, n, seed=seed)
    frame = sim.to_frame()
    frame.insert(1, "gender", ["f", "m"] * (n // 2) + ["f"] * (n % 2))
    return frame.drop(columns=["group"])


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".sav"])
def test_roundtrip_every_format(tmp_path, suffix):
    frame = vdq_frame(6)
    path = tmp_path / f"data{suffix}"
    rs.write_table(frame, path)
    ds = rs.read_dataset(path, VDQ, covariates=["gender"])
    expected = frame[list(VDQ.item_ids)].to_numpy(dtype=np.int8)
    assert np.array_equal(ds.responses, expected)
    assert ds.ids.tolist() == frame["id"].tolist() and ds.group("gender").tolist() == frame["gender"].tolist()


def test_declared_missing_codes_and_natural_encodings(tmp_path):
    frame = vdq_frame(3).astype(object)
    frame.loc[0, "VDQ01"] = 9
    frame.loc[1, "VDQ02"] = "99"
    frame.loc[2, "VDQ03"] = ""
    frame.loc[2, "VDQ04"] = "skip"
    ds = rs.read_dataset(write_csv(frame, tmp_path / "a.csv"), VDQ, covariates=["gender"], missing_codes=[9, 99])
    x = ds.responses
    assert x[0, 0] == MISSING and x[1, 1] == MISSING and x[2, 2] == MISSING and x[2, 3] == MISSING
    assert ds.missing_codes == ("9", "99")
    sds = rs.simulate(SDS, 2, seed=2).to_frame().drop(columns=["group"]).astype(object)
    sds.loc[0, "SDS_ACT_R1"] = "like"
    sds.loc[1, "SDS_ACT_R1"] = "არ მომწონს"
    ds = rs.read_dataset(write_csv(sds, tmp_path / "s.csv"), SDS)
    assert ds.responses[:, 0].tolist() == [1, 0]


def test_spss_user_missing_values_are_missing(tmp_path):
    frame = vdq_frame(2).drop(columns=["gender"])
    frame = frame.astype(dict.fromkeys(VDQ.item_ids, "float64"))
    frame.loc[0, "VDQ05"] = 9.0
    path = tmp_path / "um.sav"
    pyreadstat.write_sav(frame, str(path), missing_ranges={"VDQ05": [9]})
    ds = rs.read_dataset(path, VDQ)
    assert ds.responses[0, 4] == MISSING


def test_every_problem_is_listed_and_nothing_is_imported(tmp_path):
    frame = vdq_frame(5).astype(object)
    frame = frame.drop(columns=["VDQ10"])  # a missing item column
    frame["name"] = "someone"  # an undeclared column
    frame.loc[0, "VDQ01"] = 5  # out of range
    frame.loc[1, "VDQ02"] = "often"  # not an answer
    frame.loc[3, "VDQ02"] = 0  # out of range
    frame.loc[2, "id"] = frame.loc[1, "id"]  # duplicate id
    frame.loc[4, "id"] = ""  # empty id
    path = write_csv(frame, tmp_path / "bad.csv")
    with pytest.raises(rs.DatasetError) as info, pytest.warns(rs.UnusedColumnsWarning, match="not used: name"):
        rs.read_dataset(path, VDQ, covariates=["gender"])
    problems = info.value.problems
    codes = sorted(p.code for p in problems)
    assert codes == [  # the undeclared column is reported as a warning, not a problem
        "bad_value",
        "bad_value",
        "bad_value",
        "duplicate_id",
        "empty_id",
        "missing_column",
    ]
    bad = {(p.row, p.column) for p in problems if p.code == "bad_value"}
    assert bad == {(1, "VDQ01"), (2, "VDQ02"), (4, "VDQ02")}
    assert any(p.code == "duplicate_id" and p.row == 3 for p in problems)
    text = str(info.value)
    assert "nothing imported" in text and "VDQ10" in text


def test_the_column_rule(tmp_path):
    """Items scored; the id named or detected (id, respondent, code); covariates kept; ignored columns
    dropped silently; any other column left out with a warning that lists them (never scored or refused)."""
    frame = vdq_frame(3).rename(columns={"id": "respondent"})
    frame["note"], frame["wave"], frame["age"] = "x", "1", "30"
    path = write_csv(frame, tmp_path / "c.csv")
    with pytest.warns(rs.UnusedColumnsWarning, match=r"2 column\(s\) not used: note, age"):
        ds = rs.read_dataset(path, VDQ, covariates=["gender"], ignore=["wave"])
    assert ds.id_column == "respondent" and ds.ids.tolist() == frame["respondent"].tolist()
    assert ds.unused_columns == ("note", "age") and list(ds.covariates.columns) == ["gender"]
    assert ds.responses.tolist() == frame[list(VDQ.item_ids)].to_numpy().tolist()
    plain = write_csv(frame.drop(columns=["respondent", "note", "age"]), tmp_path / "p.csv")
    ds = rs.read_dataset(plain, VDQ, covariates=["gender", "wave"])  # no id column: rows are numbered
    assert ds.id_column is None and ds.ids.tolist() == ["1", "2", "3"]
    with pytest.raises(ValueError, match="no respondent id column"):
        rs.pseudonymized_frame(ds, "a study salt of 16+ chars")
    with pytest.raises(rs.DatasetError, match="the id column 'pid' is missing"):
        rs.read_dataset(plain, VDQ, id_column="pid", covariates=["gender", "wave"])


def test_a_missing_code_that_is_a_valid_answer_is_a_problem(tmp_path):
    frame = rs.simulate(SDS, 3, seed=3).to_frame().drop(columns=["group"])
    with pytest.raises(rs.DatasetError) as info:
        rs.read_dataset(write_csv(frame, tmp_path / "s.csv"), SDS, missing_codes=[0, 9])
    assert [p.code for p in info.value.problems] == ["missing_code_conflict"]
    assert "dislike" in str(info.value) or "valid answer" in str(info.value)


def test_many_bad_cells_are_all_reported(tmp_path):
    frame = vdq_frame(300).astype(object)
    frame["VDQ07"] = 7
    with pytest.raises(rs.DatasetError) as info:
        rs.read_dataset(write_csv(frame, tmp_path / "x.csv"), VDQ, ignore=["gender"])
    assert len(info.value.problems) == 300
    assert "and 270 more" in str(info.value)


def test_file_level_problems(tmp_path):
    with pytest.raises(rs.DatasetError, match="no such file"):
        rs.read_dataset(tmp_path / "nope.csv", VDQ)
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(rs.DatasetError, match="use a"):
        rs.read_dataset(tmp_path / "a.txt", VDQ)
    (tmp_path / "h.csv").write_text("id," + ",".join(VDQ.item_ids) + "\n")
    with pytest.raises(rs.DatasetError, match="no data rows"):
        rs.read_dataset(tmp_path / "h.csv", VDQ)
    (tmp_path / "d.csv").write_text("id,id," + ",".join(VDQ.item_ids) + "\n" + "1,1," + ",".join(["1"] * 56) + "\n")
    with pytest.raises(rs.DatasetError, match="more than once"):
        rs.read_dataset(tmp_path / "d.csv", VDQ)


def test_rows_are_numbered_without_an_id_column(tmp_path):
    frame = vdq_frame(3).drop(columns=["id", "gender"])
    ds = rs.read_dataset(write_csv(frame, tmp_path / "n.csv"), VDQ, id_column=None)
    assert ds.ids.tolist() == ["1", "2", "3"]


# -- export ------------------------------------------------------------------------------------------

SALT = "study-2025-secret-salt-0123456789"


def test_pseudonymized_export_has_no_ids_and_stable_pseudonyms(tmp_path):
    frame = vdq_frame(6)
    ds = rs.read_dataset(write_csv(frame, tmp_path / "a.csv"), VDQ, covariates=["gender"])
    out = rs.export_pseudonymized(ds, tmp_path / "out.csv", salt=SALT)
    written = pd.read_csv(tmp_path / "out.csv", dtype=str, keep_default_na=False)
    assert "id" not in written.columns and written.columns[0] == "pid"
    text = (tmp_path / "out.csv").read_text()
    assert not any(str(i) in text for i in frame["id"])
    assert written["pid"].tolist() == rs.pseudonyms(frame["id"], SALT).tolist()
    assert set(rs.pseudonyms(frame["id"], SALT)).isdisjoint(rs.pseudonyms(frame["id"], SALT + "other"))
    assert {"certainty", "decision_status", "instrument_version"} <= set(out.columns)
    assert written["gender"].tolist() == frame["gender"].tolist()


def test_export_to_spss_and_without_scores(tmp_path):
    frame = vdq_frame(4)
    frame.loc[0, "VDQ03"] = pd.NA
    ds = rs.read_dataset(write_csv(frame, tmp_path / "a.csv"), VDQ, ignore=["gender"])
    rs.export_pseudonymized(ds, tmp_path / "out.sav", salt=SALT, include_scores=False)
    back, _ = pyreadstat.read_sav(str(tmp_path / "out.sav"))
    assert list(back.columns) == ["pid", *VDQ.item_ids]
    assert np.isnan(back.loc[0, "VDQ03"]) and back.loc[1, "VDQ03"] == frame.loc[1, "VDQ03"]


def test_identifying_covariates_are_refused(tmp_path):
    frame = vdq_frame(2)
    frame["first_name"] = ["Nino", "Giorgi"]
    ds = rs.read_dataset(write_csv(frame, tmp_path / "a.csv"), VDQ, covariates=["gender", "first_name"])
    with pytest.raises(ValueError, match="identifying"):
        rs.export_pseudonymized(ds, tmp_path / "out.csv", salt=SALT)
    assert not (tmp_path / "out.csv").exists()
    frame2 = rs.export_pseudonymized(ds, tmp_path / "ok.csv", salt=SALT, covariates=["gender"])
    assert "first_name" not in frame2.columns and "Nino" not in (tmp_path / "ok.csv").read_text()


def test_salt_must_be_long_enough():
    with pytest.raises(ValueError, match="16 bytes"):
        rs.pseudonyms(["a"], "short")
    assert len(rs.new_study_salt()) == 64


def test_write_table_is_atomic(tmp_path):
    class Boom(pd.DataFrame):
        def to_csv(self, *a, **k):  # type: ignore[override]
            Path(a[0]).write_text("partial")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        rs.write_table(Boom({"a": [1]}), tmp_path / "t.csv")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="must end in"):
        rs.write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.json")


def test_an_empty_row_is_a_problem_of_its_own_and_a_clashing_code_is_named(tmp_path):
    """A blank line between respondents is no respondent: it is reported once, by its row (before:
    read as a person who skipped everything, or as an empty id); the clashing missing code is named."""
    items = list(VDQ.item_ids)
    lines = ["id," + ",".join(items), "P1," + ",".join(["2"] * len(items)), "," * len(items)]
    lines.append("P3," + ",".join(["3"] * len(items)))
    path = tmp_path / "gap.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(rs.DatasetError) as e:
        rs.read_dataset(path, VDQ)
    assert [(p.code, p.row) for p in e.value.problems] == [("empty_row", 2)]
    no_ids = tmp_path / "gap-no-ids.csv"
    no_ids.write_text("\n".join(line.split(",", 1)[1] for line in lines) + "\n", encoding="utf-8")
    with pytest.raises(rs.DatasetError) as e:
        rs.read_dataset(no_ids, VDQ, missing_codes=["4"])
    assert [(p.code, p.row, p.value) for p in e.value.problems] == [
        ("missing_code_conflict", 0, "4"),
        ("empty_row", 2, None),
    ]
