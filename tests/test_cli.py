"""`proforient` end to end: files in, scores out, bad input refused with nothing written."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import instruments
from api.cli import EXAMPLES, app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_score_examples_in_every_format(tmp_path, fmt):
    out = tmp_path / f"scores.{fmt}"
    res = run("score", str(EXAMPLES / "sds.csv"), "-i", "sds", "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    if fmt == "json":
        rows = json.loads(out.read_text(encoding="utf-8"))
        first = rows[0]
    else:
        frame = pd.read_csv(out) if fmt == "csv" else pd.read_excel(out)
        rows = frame.to_dict(orient="records")
        first = rows[0]
    assert len(rows) == 12
    assert first["id"] == "B-001"
    assert first["instrument"] == "sds" and str(first["instrument_version"]) == instruments.load("sds").version
    assert set("RIASEC") <= set(first)
    assert first["code"]


def test_xlsx_input(tmp_path):
    src = tmp_path / "vdq.xlsx"
    pd.read_csv(EXAMPLES / "vdq.csv", dtype=str, keep_default_na=False).to_excel(src, index=False)
    out = tmp_path / "vdq-scores.csv"
    res = run("score", str(src), "-i", "vdq", "-o", str(out), "-q")
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(out)) == 12


def test_bad_answer_exits_nonzero_names_it_and_writes_nothing(tmp_path):
    src = tmp_path / "bad.csv"
    frame = pd.read_csv(EXAMPLES / "vdq.csv", dtype=str, keep_default_na=False)
    frame.loc[6, "VDQ10"] = "7"
    frame.to_csv(src, index=False)
    out = tmp_path / "scores.csv"
    out.write_text("previous results\n")
    res = run("score", str(src), "-i", "vdq", "-o", str(out), "-q")
    assert res.exit_code == 2
    assert "row 7 (id B-007), item VDQ10: '7'" in res.output
    assert "nothing was written" in res.output
    assert out.read_text() == "previous results\n"  # the old file is untouched
    assert not any(p.name.startswith(".scores") for p in tmp_path.iterdir())


def test_errors_across_chunks_keep_their_row_numbers(tmp_path, monkeypatch):
    import api.tableio as tio

    monkeypatch.setattr(tio, "CHUNK_ROWS", 5)
    src = tmp_path / "bad.csv"
    frame = pd.read_csv(EXAMPLES / "vdq.csv", dtype=str, keep_default_na=False)
    frame.loc[11, "VDQ03"] = "x"
    frame.to_csv(src, index=False)
    res = run("score", str(src), "-i", "vdq", "-o", str(tmp_path / "o.csv"), "-q")
    assert res.exit_code == 2 and "row 12 (id B-012), item VDQ03" in res.output


def test_unknown_aspiration_and_unknown_instrument(tmp_path):
    src = tmp_path / "sds.csv"
    frame = pd.read_csv(EXAMPLES / "sds.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "aspiration_1"] = "astronaut on the moon"
    frame.to_csv(src, index=False)
    res = run("score", str(src), "-i", "sds", "-o", str(tmp_path / "o.csv"), "-q")
    assert res.exit_code == 2 and "aspiration_1" in res.output and "astronaut" in res.output
    res = run("score", str(src), "-i", "nope", "-o", str(tmp_path / "o.csv"), "-q")
    assert res.exit_code == 2 and "no such instrument" in res.output
    res = run("score", str(tmp_path / "missing.csv"), "-i", "sds", "-o", str(tmp_path / "o.csv"))
    assert res.exit_code == 2 and "no such file" in res.output


def test_check_and_instruments_commands(tmp_path):
    from instruments import DEFINITIONS

    assert run("check", str(DEFINITIONS / "vdq" / "1.0")).exit_code == 0
    broken = tmp_path / "broken"
    shutil.copytree(DEFINITIONS / "vdq" / "1.0", broken)
    items = (broken / "items.csv").read_text(encoding="utf-8").replace("VDQ05,main,", "VDQ05,nowhere,")
    (broken / "items.csv").write_text(items, encoding="utf-8")
    res = run("check", str(broken))
    assert res.exit_code == 1 and "unknown section 'nowhere'" in res.output
    listing = run("instruments")
    assert listing.exit_code == 0 and "vdq" in listing.output and "sds" in listing.output


def test_installed_entry_point_runs_the_demo(tmp_path):
    exe = Path(sys.executable).parent / "proforient"
    res = subprocess.run([str(exe), "demo", "--output", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    for iid in ("intake", "vdq", "sds", "ppi"):
        assert (tmp_path / f"{iid}-scores.csv").is_file()


def test_check_keeps_every_location_and_goes_on_after_an_extra_cell(tmp_path):
    """Before: Rich markup ate '[items.csv row 7]', and an extra cell (E002) stopped the check there."""
    from instruments import DEFINITIONS

    broken = tmp_path / "broken"
    shutil.copytree(DEFINITIONS / "vdq" / "1.0", broken)
    lines = (broken / "items.csv").read_text(encoding="utf-8").splitlines()
    assert lines[5].startswith("VDQ05,main,")  # spreadsheet row 6 (the header is row 1)
    lines[3] = lines[3] + ",an extra cell"  # row 4: one cell too many
    lines[5] = lines[5].replace("VDQ05,main,", "VDQ05,nowhere,")  # row 6: unknown section
    (broken / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run("check", str(broken))
    assert res.exit_code == 1
    text = " ".join(res.output.split())  # undo soft wrapping
    assert "[items.csv row 4] has more cells than the header" in text and "'an extra cell'" in text
    assert "(E002)" in text
    assert "[items.csv row 6] section: item 'VDQ05' names unknown section 'nowhere' (E011)" in text


def test_check_lists_a_rows_unknown_references_next_to_its_bad_cell(tmp_path):
    """A row whose keyed cell is invalid still has its unknown section and scale listed (before: only
    the keyed problem, the rest of the row hidden until it was fixed)."""
    from instruments import DEFINITIONS

    broken = tmp_path / "broken"
    shutil.copytree(DEFINITIONS / "vdq" / "1.0", broken)
    lines = (broken / "items.csv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    cells = lines[5].split(",")  # spreadsheet row 6
    cells[header.index("section")] = "nowhere"
    cells[header.index("scale")] = "no_such_scale"
    cells[header.index("keyed")] = "2"
    lines[5] = ",".join(cells)
    (broken / "items.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run("check", str(broken))
    assert res.exit_code == 1
    text = " ".join(res.output.split())
    assert "3 problem(s)" in text
    assert "[items.csv row 6] keyed:" in text and "(E001)" in text
    assert "[items.csv row 6] section: item 'VDQ05' names unknown section 'nowhere' (E011)" in text
    assert "[items.csv row 6] scale: item 'VDQ05' is keyed to unknown scale 'no_such_scale' (E012)" in text


def test_cli_startup_does_not_load_the_research_toolkit():
    code = (
        "import sys, api.cli, api.tableio; "
        "print(','.join(m for m in ('scipy', 'statsmodels', 'scoring.research', 'matplotlib') if m in sys.modules))"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert res.stdout.strip() == ""


def test_score_takes_missing_codes(tmp_path):
    """Before: no -m for score, so a survey file where 0 means 'not answered' was refused cell by cell."""
    frame = pd.read_csv(EXAMPLES / "vdq.csv", dtype=str, keep_default_na=False)
    plain = tmp_path / "plain.csv"
    frame.to_csv(plain, index=False)
    frame.loc[0, "VDQ01"] = "0"
    frame.loc[1, ["VDQ02", "VDQ03"]] = "99"
    coded = tmp_path / "coded.csv"
    frame.to_csv(coded, index=False)
    assert run("score", str(coded), "-i", "vdq", "-o", str(tmp_path / "x.csv"), "-q").exit_code == 2
    res = run("score", str(coded), "-i", "vdq", "-o", str(tmp_path / "m.csv"), "-q", "-m", "0", "--missing", "99")
    assert res.exit_code == 0, res.output
    blank = frame.copy()
    blank.loc[0, "VDQ01"] = ""
    blank.loc[1, ["VDQ02", "VDQ03"]] = ""
    blank.to_csv(tmp_path / "blank.csv", index=False)
    assert run("score", str(tmp_path / "blank.csv"), "-i", "vdq", "-o", str(tmp_path / "b.csv"), "-q").exit_code == 0
    got, expected = pd.read_csv(tmp_path / "m.csv"), pd.read_csv(tmp_path / "b.csv")
    pd.testing.assert_frame_equal(got, expected)  # a code is exactly a skipped answer
    assert got.loc[0, "certainty_missing"] + got.loc[1, "n_missing"] >= 3
    res = run("score", str(coded), "-i", "vdq", "-o", str(tmp_path / "c.csv"), "-q", "-m", "3")
    assert res.exit_code == 2 and "valid answer" in res.output  # 3 is an answer, never 'not answered'


def test_definition_needs_no_instrument_and_a_contradiction_is_an_error(tmp_path):
    """Before: -i was required with --definition and then silently ignored."""
    from tests.test_instruments import make
    from tests.test_research_definitions import EN_ITEMS, EN_ONLY

    folder = make(tmp_path, EN_ONLY, EN_ITEMS)
    data = tmp_path / "d.csv"
    data.write_text("respondent,T1,T2,T3\nP1,5,1,4\nP2,9,2,3\n", encoding="utf-8")
    res = run("score", str(data), "--definition", str(folder), "-o", str(tmp_path / "s.csv"), "-q")
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(tmp_path / "s.csv")
    assert scores["id"].tolist() == ["P1", "P2"] and scores["instrument"].tolist() == ["bfi_pilot"] * 2
    assert scores["x_missing"].tolist() == [0, 1]  # 9 is a declared missing code of the definition
    res = run("score", str(data), "--definition", str(folder), "-i", "vdq", "-o", str(tmp_path / "t.csv"))
    assert res.exit_code == 2 and "is instrument 'bfi_pilot', not 'vdq'" in res.output
    res = run("score", str(data), "--definition", str(folder), "--version", "2.0", "-o", str(tmp_path / "t.csv"))
    assert res.exit_code == 2 and "not '2.0'" in res.output
    res = run("score", str(data), "-o", str(tmp_path / "t.csv"))
    assert res.exit_code == 2 and "--instrument" in res.output
    assert not (tmp_path / "t.csv").exists()


def test_score_column_rule_keeps_covariates_and_warns_about_the_rest(tmp_path):
    frame = pd.read_csv(EXAMPLES / "ppi.csv", dtype=str, keep_default_na=False)
    frame["gender"], frame["remark"], frame["wave"] = "f", "tired", "1"
    src = tmp_path / "ppi.csv"
    frame.to_csv(src, index=False)
    out = tmp_path / "s.csv"
    res = run("score", str(src), "-i", "ppi", "-o", str(out), "-q", "-c", "gender", "--ignore", "wave")
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "warning:" in text and "1 column(s) not used: remark" in text and "wave" not in text
    scores = pd.read_csv(out)
    assert list(scores.columns[:2]) == ["id", "gender"] and set(scores["gender"]) == {"f"}
    assert "remark" not in scores.columns
    res = run("score", str(src), "-i", "ppi", "-o", str(out), "-q", "-c", "age")
    assert res.exit_code == 2 and "age" in res.output and "missing from the file" in res.output


def test_score_names_its_missing_data_policy(tmp_path):
    frame = pd.read_csv(EXAMPLES / "vdq.csv", dtype=str, keep_default_na=False)
    frame.loc[0, ["VDQ01", "VDQ02"]] = ""
    src = tmp_path / "v.csv"
    frame.to_csv(src, index=False)
    res = run("score", str(src), "-i", "vdq", "-o", str(tmp_path / "m.csv"), "-q", "--impute", "median")
    assert res.exit_code == 0, res.output
    scores = pd.read_csv(tmp_path / "m.csv")
    assert set(scores["missing_policy"]) == {scores["missing_policy"][0]}
    assert scores["missing_policy"][0].startswith("impute median") and "imputed" in scores["flags"][0]
    plain = run("score", str(src), "-i", "vdq", "-o", str(tmp_path / "p.csv"), "-q")
    assert plain.exit_code == 0 and "missing_policy" not in pd.read_csv(tmp_path / "p.csv").columns
    res = run("score", str(src), "-i", "vdq", "-o", str(tmp_path / "x.csv"), "-q", "--impute", "hot-deck")
    assert res.exit_code == 2 and "--impute must be none, median or mean" in res.output
