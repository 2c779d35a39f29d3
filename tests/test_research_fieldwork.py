"""Field collection (issue 15, item 6): XLSForm out, ODK Central / KoboToolbox submissions back in.

The round trip for every shipped instrument: export → pyxform accepts the form → a made-up export in the
tools' format (group-prefixed columns, metadata, skipped answers) imports with the right values.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import instruments
import scoring
from api.cli import app as cli
from instruments.xlsform import validate_xlsform, write_xlsform, xlsform_sheets
from scoring import research as rs

SHIPPED = [iid for iid, _ in instruments.available()]
KOBO_META = {
    "_id": lambda r: str(1000 + r),
    "_uuid": lambda r: f"5d1b6c3e-{r:04d}-4e1a-9c1f-a0b1c2d3e4f5",
    "_submission_time": lambda r: f"2025-05-0{1 + r % 9}T10:1{r % 10}:00",
    "_validation_status": lambda r: "",
    "_notes": lambda r: "",
    "_status": lambda r: "submitted_via_web",
    "_submitted_by": lambda r: "",
    "__version__": lambda r: "vQpZ8",
    "_tags": lambda r: "",
    "_index": lambda r: str(r + 1),
}


def run(*args: object) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def form_questions(path) -> list[tuple[str, str, str]]:
    """(export column, question name, type) of every question, read back from the XLSForm file."""
    ws = load_workbook(path)["survey"]
    rows = list(ws.iter_rows(values_only=True))
    head = [str(h) for h in rows[0]]
    stack: list[str] = []
    out = []
    for row in rows[1:]:
        cell = dict(zip(head, ["" if v is None else str(v) for v in row], strict=False))
        kind, name = cell["type"], cell["name"]
        if kind == "begin_group":
            stack.append(name)
        elif kind == "end_group":
            stack.pop()
        elif kind != "note":
            out.append(("/".join([*stack, name]), name, kind))
    return out


def form_choices(path) -> dict[str, list[str]]:
    ws = load_workbook(path)["choices"]
    rows = list(ws.iter_rows(values_only=True))
    head = [str(h) for h in rows[0]]
    out: dict[str, list[str]] = {}
    for row in rows[1:]:
        cell = dict(zip(head, row, strict=False))
        out.setdefault(str(cell["list_name"]), []).append(str(cell["name"]))
    return out


def engine_code(name: str) -> int:
    """The answer a choice name means, written out: 1…5, 1/0, L3 = −3 … R3 = 3."""
    if name[0] == "L":
        return -int(name[1:])
    if name[0] == "R":
        return int(name[1:])
    return int(name)


@pytest.mark.parametrize("lang", ["ka", "en", "both"])
@pytest.mark.parametrize("iid", SHIPPED)
def test_every_shipped_instrument_exports_a_form_pyxform_accepts(iid, lang, tmp_path):
    inst = instruments.load(iid)
    path = tmp_path / f"{iid}.xlsx"
    res = run("xlsform", "-i", iid, "-o", path, "--lang", lang)
    assert res.exit_code == 0, res.output
    xform, warnings = validate_xlsform(path)
    assert warnings == []
    names = [n for _, n, _ in form_questions(path)]
    expected = list(inst.item_ids) or [f.id for f in inst.fields]
    assert [n for n in names if n in expected] == expected  # every item, in the definition's order
    for q in expected:
        assert f"<{q}/>" in xform
    assert f"'{inst.ref}'" in xform and f"'{inst.content_hash[:12]}'" in xform
    labels = [c for c in load_workbook(path)["survey"][1] if c.value and str(c.value).startswith("label::")]
    assert [c.value for c in labels] == {
        "ka": ["label::Georgian (ka)"],
        "en": ["label::English (en)"],
        "both": ["label::Georgian (ka)", "label::English (en)"],
    }[lang]


def _kobo_export(iid: str, form, n: int, seed: int, group_sep: str) -> tuple[pd.DataFrame, dict]:
    """A made-up export of ``n`` submissions: chosen answers (some skipped) and what they mean."""
    inst = instruments.load(iid)
    rng = random.Random(seed)
    questions = form_questions(form)
    choices = form_choices(form)
    rows, expected = [], {}
    for r in range(n):
        row = {"start": "2025-05-01T10:00:00.000+04:00", "end": "2025-05-01T10:20:00.000+04:00"}
        meaning = {}
        for column, name, kind in questions:
            col = column.replace("/", group_sep)
            if kind == "calculate":
                row[col] = inst.ref if name == "proforient_instrument" else inst.content_hash[:12]
            elif name == "id":
                row[col] = f"P{r + 1:03d}"
            elif kind.startswith("select_one"):
                names = choices[kind.split()[1]]
                if rng.random() < 0.15 and (not inst.fields or not inst.field_(name).required):
                    row[col], meaning[name] = "", None  # skipped
                else:
                    pick = rng.choice(names)
                    row[col], meaning[name] = pick, pick
            elif kind.startswith("select_multiple"):
                names = choices[kind.split()[1]]
                picks = rng.sample(names, rng.randint(0, min(2, len(names))))
                row[col], meaning[name] = " ".join(picks), ";".join(picks)
                for c in names:  # Kobo's one 0/1 column per choice
                    row[f"{col}{group_sep}{c}"] = "1" if c in picks else "0"
            elif kind == "decimal":
                row[col] = meaning[name] = str(rng.randint(0, 20))
            elif kind == "text":
                row[col] = meaning[name] = rng.choice(["", "cook", "Cook;Hairdresser"]) if "occupation" in name else ""
        row.update({k: f(r) for k, f in KOBO_META.items()})
        rows.append(row)
        expected[f"P{r + 1:03d}"] = meaning
    return pd.DataFrame(rows), expected


@pytest.mark.parametrize("iid", SHIPPED)
@pytest.mark.parametrize("sep,group_sep", [(";", "/"), (",", "-")])  # KoboToolbox; ODK Central
def test_round_trip_for_every_shipped_instrument(iid, sep, group_sep, tmp_path):
    inst = instruments.load(iid)
    form = write_xlsform(inst, tmp_path / "form.xlsx", "both")
    validate_xlsform(form)
    export, expected = _kobo_export(iid, form, 25, seed=len(iid) + len(sep), group_sep=group_sep)
    data = tmp_path / "export.csv"
    export.to_csv(data, index=False, sep=sep)
    clean = tmp_path / "clean.csv"
    res = run("import-submissions", data, "-i", iid, "-o", clean)
    assert res.exit_code == 0, res.output
    assert "not used" not in res.output  # metadata and choice columns are the tools', never a warning
    got = pd.read_csv(clean, dtype=str, keep_default_na=False)
    assert got["id"].tolist() == list(expected)
    if inst.model == "intake":
        for pid, meaning in expected.items():
            row = got.set_index("id").loc[pid]
            for name, value in meaning.items():
                assert row[name] == (value or ""), (pid, name)
        return
    skipped = 0
    for pid, meaning in expected.items():
        row = got.set_index("id").loc[pid]
        for item in inst.item_ids:
            want = "" if meaning[item] is None else str(engine_code(meaning[item]))
            skipped += want == ""
            assert row[item] == want, (pid, item)
    assert skipped > 0  # some answers were skipped and came back as missing, never as a default
    # and straight into a data set, with the same validation as every import
    spec = instruments.scoring_spec(inst)
    ds = rs.read_submissions(data, spec)
    codes = np.array(
        [[scoring.MISSING if m[i] is None else engine_code(m[i]) for i in inst.item_ids] for m in expected.values()]
    )
    assert np.array_equal(ds.responses, codes)
    assert run("score", clean, "-i", iid, "-o", tmp_path / "scores.csv", "-q").exit_code == 0


def test_a_bad_answer_or_another_form_is_refused_with_every_problem(tmp_path):
    inst = instruments.load("vdq")
    form = write_xlsform(inst, tmp_path / "form.xlsx")
    export, _ = _kobo_export("vdq", form, 5, seed=1, group_sep="/")
    export.loc[1, "main/VDQ03"] = "7"
    export.loc[3, "main/VDQ09"] = "often"
    export.to_csv(tmp_path / "bad.csv", index=False, sep=";")
    res = run("import-submissions", tmp_path / "bad.csv", "-i", "vdq", "-o", tmp_path / "c.csv")
    text = " ".join(res.output.split())
    assert res.exit_code == 2 and "2 problem(s)" in text and "[row 2, column VDQ03] '7'" in text
    assert "[row 4, column VDQ09] 'often'" in text and not (tmp_path / "c.csv").exists()
    export, _ = _kobo_export("vdq", form, 3, seed=2, group_sep="/")
    export["proforient_instrument"] = "vdq@0.9"
    export.to_csv(tmp_path / "old.csv", index=False, sep=";")
    with pytest.raises(rs.DatasetError, match=f"come from a form of vdq@0.9, not of {instruments.load('vdq').ref}"):
        rs.read_submissions(tmp_path / "old.csv", instruments.scoring_spec(inst))


def test_a_research_instrument_in_english_only(tmp_path):
    from tests.test_instruments import make
    from tests.test_research_definitions import EN_ITEMS, EN_ONLY

    inst = instruments.load_path(make(tmp_path, EN_ONLY, EN_ITEMS), check_activities=False)
    sheets = xlsform_sheets(inst, "en")
    assert sheets["settings"][0]["default_language"] == "English (en)"
    with pytest.raises(instruments.InstrumentError, match="no Georgian texts"):
        xlsform_sheets(inst, "ka")
    form = tmp_path / "en.xlsx"
    res = run("xlsform", "--definition", inst.path, "-o", form, "--lang", "en")
    assert res.exit_code == 0, res.output
    assert validate_xlsform(form)[1] == []
    # without --lang the form takes the definition's own languages (before: "both", refused for want of Georgian)
    default = tmp_path / "default.xlsx"
    res = run("xlsform", "--definition", inst.path, "-o", default)
    assert res.exit_code == 0, res.output
    assert "(en)" in res.output and validate_xlsform(default)[1] == []
    assert xlsform_sheets(inst)["settings"][0]["default_language"] == "English (en)"
    assert not any("Georgian" in k for row in xlsform_sheets(inst)["survey"] for k in row)
    res = run("xlsform", "--definition", inst.path, "-o", tmp_path / "ka.xlsx", "--lang", "ka")
    assert res.exit_code == 2 and "no Georgian texts" in res.output and not (tmp_path / "ka.xlsx").exists()
