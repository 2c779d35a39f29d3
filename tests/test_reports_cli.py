"""``proforient report``: raw answers or result records in, one report per person out, nothing half-written.

Reports are made from raw answers (scored here) or from a JSON list of result records
(``{"id", "record"}``, as the REST API gives them); a file of flat scores written by
``proforient score`` is refused with a clear message, so every number comes from one scoring."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import instruments
from api.cli.reports import register
from api.scoring_facade import records_of_frame, score_frame
from api.tableio import write_table
from tests.test_reports_data import INTAKE, ppi_answers, sds_answers, vdq_answers

app = typer.Typer(pretty_exceptions_enable=False)
register(app)


@app.command()
def _placeholder() -> None:
    """Keeps ``report`` a named sub-command, as in the real CLI."""


runner = CliRunner()


def _raw_files(tmp: Path) -> dict[str, Path]:
    second = {"id": "B-002"}
    frames = {
        "intake": [
            dict(INTAKE, name="Nino Beridze", date="2025-03-14"),
            dict(
                INTAKE,
                id="B-002",
                education_level="bachelor",
                aspired_occupations="",
                constraints="",
                name="<script>alert(1)</script>",
            ),
        ],
        "vdq": [vdq_answers(), {**vdq_answers(), **second}],
        "sds": [sds_answers(), {**sds_answers(), **second}],
        "ppi": [ppi_answers()],
    }
    out = {}
    for kind, rows in frames.items():
        path = tmp / f"{kind}.csv"
        pd.DataFrame(rows).to_csv(path, index=False)
        out[kind] = path
    return out


def _args(files: dict[str, Path], *extra: str) -> list[str]:
    args = ["report"]
    for kind, path in files.items():
        args += [f"--{kind}", str(path)]
    return [*args, *extra]


def test_raw_answers_give_one_report_per_person(tmp_path: Path) -> None:
    files = _raw_files(tmp_path)
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        _args(files, "-o", str(out), "-f", "html", "-l", "en", "-a", "employment", "--administrator", "M. K.", "-q"),
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["B-001_employment_en.html", "B-002_employment_en.html"]
    first = (out / "B-001_employment_en.html").read_text(encoding="utf-8")
    assert "SAE" in first and "Cosmetologist" in first and "14 March 2025" in first and "M. K." in first
    second = (out / "B-002_employment_en.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in second and "<script>" not in second


def _records_file(tmp: Path, kind: str, raw: Path, edit=None) -> Path:  # type: ignore[no-untyped-def]
    """A JSON list of ``{"id", "record"}`` made from raw answers (``edit`` may change one record)."""
    frame = pd.read_csv(raw, dtype=str, keep_default_na=False)
    recs = records_of_frame(instruments.load(kind), frame)
    entries = []
    for pid, rec in zip(frame["id"], recs, strict=True):
        rec = edit(pid, rec) if edit else rec
        entries.append({"id": pid, "record": rec.model_dump(mode="json")})
    path = tmp / f"{kind}-records.json"
    path.write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return path


def test_flat_score_files_are_refused_with_a_clear_message(tmp_path: Path) -> None:
    """Formerly accepted; a flat score file is now refused (reports read typed records only)."""
    raw = _raw_files(tmp_path)
    frame = score_frame(instruments.load("sds"), pd.read_csv(raw["sds"], dtype=str, keep_default_na=False))
    scored = tmp_path / "sds-scores.csv"
    write_table(frame, scored)
    out = tmp_path / "out"
    result = runner.invoke(app, ["report", "--sds", str(scored), "-o", str(out), "-f", "json", "-q"])
    assert result.exit_code == 2
    assert "holds scores written by 'proforient score'" in result.output
    assert "raw answers" in result.output and "No report was written" in result.output
    assert _no_reports(out)


def test_result_records_are_accepted_and_json_written(tmp_path: Path) -> None:
    raw = _raw_files(tmp_path)
    files = {kind: _records_file(tmp_path, kind, raw[kind]) for kind in ("vdq", "sds")}
    out = tmp_path / "json"
    result = runner.invoke(
        app, _args(files, "-o", str(out), "-f", "json", "-a", "psychologist", "-q", "--person", "B-002")
    )
    assert result.exit_code == 0, result.output
    data = json.loads((out / "B-002_psychologist_ka.json").read_text(encoding="utf-8"))
    assert data["holland"]["code"] == "SAE" and data["decision"]["status"] == "undecided"
    assert {p["instrument"] for p in data["provenance"]} == {"vdq", "sds"}
    assert [p.name for p in out.iterdir()] == ["B-002_psychologist_ka.json"]


def test_a_record_of_another_instrument_or_an_invalid_record_is_refused(tmp_path: Path) -> None:
    raw = _raw_files(tmp_path)
    sds = _records_file(tmp_path, "sds", raw["sds"])
    out = tmp_path / "out"
    wrong = runner.invoke(app, ["report", "--vdq", str(sds), "-o", str(out), "-q"])
    assert wrong.exit_code == 2 and "is a sds@" in wrong.output and "not vdq" in wrong.output
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps([{"id": "B-001", "record": {"model": "holland", "codes": "SAE"}}]), encoding="utf-8")
    invalid = runner.invoke(app, ["report", "--sds", str(broken), "-o", str(out), "-q"])
    assert invalid.exit_code == 2 and "not a valid result record" in invalid.output
    assert _no_reports(out)


def test_pdf_output(tmp_path: Path) -> None:
    files = _raw_files(tmp_path)
    out = tmp_path / "pdf"
    result = runner.invoke(app, _args({"sds": files["sds"]}, "-o", str(out), "-a", "beneficiary", "-q", "-p", "B-001"))
    assert result.exit_code == 0, result.output
    assert (out / "B-001_beneficiary_ka.pdf").read_bytes().startswith(b"%PDF-")


def _no_reports(folder: Path) -> bool:
    return not folder.exists() or not list(folder.iterdir())


def test_a_bad_answer_writes_nothing(tmp_path: Path) -> None:
    files = _raw_files(tmp_path)
    frame = pd.read_csv(files["vdq"], dtype=str)
    frame.loc[1, "VDQ05"] = "7"
    frame.to_csv(files["vdq"], index=False)
    out = tmp_path / "out"
    result = runner.invoke(app, _args(files, "-o", str(out), "-f", "html"))
    assert result.exit_code == 2
    assert "VDQ05" in result.output and "No report was written" in result.output
    assert _no_reports(out)


def test_a_failure_on_the_last_person_leaves_nothing_half_written(tmp_path: Path) -> None:
    """B-001 renders fine, B-002's record is corrupt (its code edited): neither file may appear."""
    raw = _raw_files(tmp_path)

    def corrupt(pid: str, rec):  # type: ignore[no-untyped-def]
        return rec.model_copy(update={"codes": ("XYZ",)}) if pid == "B-002" else rec

    path = _records_file(tmp_path, "sds", raw["sds"], corrupt)
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(app, ["report", "--sds", str(path), "-o", str(out), "-f", "html", "-q"])
    assert result.exit_code == 2
    assert "B-002" in result.output and "XYZ" in result.output
    assert list(out.iterdir()) == []


@pytest.mark.parametrize(
    "extra, message",
    [
        (["-f", "docx"], "--format"),
        (["-a", "beneficiary", "--consent-clinical"], "--consent-clinical"),
        (["--person", "B-404"], "B-404"),
        (["--fund-name-ka", "ფონდი"], "both languages"),
        (["--date", "14/03/2025"], "not a date"),
    ],
)
def test_bad_options_are_explained(tmp_path: Path, extra: list[str], message: str) -> None:
    files = _raw_files(tmp_path)
    result = runner.invoke(app, _args(files, "-o", str(tmp_path / "out"), *extra))
    assert result.exit_code == 2
    assert message in result.output
    assert _no_reports(tmp_path / "out")


def test_wrong_file_for_an_instrument(tmp_path: Path) -> None:
    files = _raw_files(tmp_path)
    result = runner.invoke(app, ["report", "--vdq", str(files["sds"]), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2 and "right file" in result.output


def test_existing_reports_are_kept_unless_overwrite(tmp_path: Path) -> None:
    files = _raw_files(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "B-001_psychologist_ka.html").write_text("keep me", encoding="utf-8")
    result = runner.invoke(app, _args(files, "-o", str(out), "-f", "html", "-q"))
    assert result.exit_code == 2 and "--overwrite" in result.output
    assert (out / "B-001_psychologist_ka.html").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["B-001_psychologist_ka.html"]
    again = runner.invoke(app, _args(files, "-o", str(out), "-f", "html", "-q", "--overwrite"))
    assert again.exit_code == 0, again.output
    assert "keep me" not in (out / "B-001_psychologist_ka.html").read_text(encoding="utf-8")


def test_missing_codes_reach_the_report(tmp_path: Path) -> None:
    files = _raw_files(tmp_path)
    frame = pd.read_csv(files["vdq"], dtype=str, keep_default_na=False)
    frame.loc[0, "VDQ01"] = "9"
    frame.to_csv(files["vdq"], index=False)
    vdq = {"vdq": files["vdq"]}
    refused = runner.invoke(app, _args(vdq, "-o", str(tmp_path / "a"), "-f", "json", "-q"))
    assert refused.exit_code == 2 and "VDQ01" in refused.output
    result = runner.invoke(app, _args(vdq, "-o", str(tmp_path / "b"), "-f", "json", "-q", "-m", "9"))
    assert result.exit_code == 0, result.output
    blank = frame.copy()
    blank.loc[0, "VDQ01"] = ""
    blank.to_csv(tmp_path / "blank.csv", index=False)
    plain = runner.invoke(app, ["report", "--vdq", str(tmp_path / "blank.csv"), "-o", str(tmp_path / "c"),
                                "-f", "json", "-q"])  # fmt: skip
    assert plain.exit_code == 0, plain.output
    a = json.loads((tmp_path / "b" / "B-001_psychologist_ka.json").read_text(encoding="utf-8"))
    b = json.loads((tmp_path / "c" / "B-001_psychologist_ka.json").read_text(encoding="utf-8"))
    a.pop("generated", None), b.pop("generated", None)
    assert a == b  # the code is exactly a skipped answer


def _many(tmp: Path, n: int) -> dict[str, Path]:
    """n people with different answers (each VDQ answer shifted by the person's number)."""
    rows = []
    for k in range(n):
        row = {**vdq_answers(), "id": f"C-{k:03d}"}
        items = [c for c in row if c != "id"]
        for j, col in enumerate(items):
            row[col] = (int(row[col]) - 1 + (k if j % 3 == 0 else 0)) % 4 + 1
        rows.append(row)
    path = tmp / "many-vdq.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return {"vdq": path}


def test_parallel_reports_equal_the_ones_made_one_after_another(tmp_path: Path) -> None:
    """-j 2 (two worker processes) writes the same files, byte for byte apart from the time of
    making, as -j 1 (this process); the PDFs of a pool are real PDFs of the right people."""
    files = _many(tmp_path, 7)
    one, two = tmp_path / "one", tmp_path / "two"
    a = runner.invoke(app, _args(files, "-o", str(one), "-f", "json", "-q", "-j", "1"))
    b = runner.invoke(app, _args(files, "-o", str(two), "-f", "json", "-q", "-j", "2"))
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    names = sorted(p.name for p in one.iterdir())
    assert names == [f"C-{k:03d}_psychologist_ka.json" for k in range(7)]
    assert sorted(p.name for p in two.iterdir()) == names
    decisions = set()
    for name in names:
        x, y = (json.loads((d / name).read_text(encoding="utf-8")) for d in (one, two))
        assert x == y
        assert x["meta"]["person_id"] == name.split("_")[0]
        decisions.add(json.dumps(x["decision"], sort_keys=True))
    assert len(decisions) > 1  # different people, different reports
    pdf = tmp_path / "pdf"
    result = runner.invoke(app, _args(files, "-o", str(pdf), "-q", "-j", "2", "-p", "C-001", "-p", "C-004"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in pdf.iterdir()) == ["C-001_psychologist_ka.pdf", "C-004_psychologist_ka.pdf"]
    for p in pdf.iterdir():
        assert p.read_bytes().startswith(b"%PDF-")


def test_a_failure_in_a_worker_leaves_nothing_and_names_the_first_person_in_order(tmp_path: Path) -> None:
    """Two of five records corrupt: with two processes the message names the first in the file's
    order (as one process would), and no report of the three good people appears."""
    raw = tmp_path / "sds.csv"
    pd.DataFrame([{**sds_answers(), "id": f"C-{k:03d}"} for k in range(5)]).to_csv(raw, index=False)

    def corrupt(pid: str, rec):  # type: ignore[no-untyped-def]
        return rec.model_copy(update={"codes": ("XYZ",)}) if pid in ("C-002", "C-004") else rec

    path = _records_file(tmp_path, "sds", raw, corrupt)
    out = tmp_path / "out"
    out.mkdir()
    result = runner.invoke(app, ["report", "--sds", str(path), "-o", str(out), "-f", "html", "-q", "-j", "2"])
    assert result.exit_code == 2
    assert "C-002" in result.output and "C-004" not in result.output
    assert list(out.iterdir()) == []
