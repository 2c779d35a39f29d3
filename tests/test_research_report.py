"""``analyze --format html|json|xlsx``: one result object, three renderings, a documented JSON Schema."""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import jsonschema
import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import instruments
from api.cli.research import register
from reports import technical
from scoring import MissingPolicy
from scoring import research as rs

SCHEMA = Path(__file__).parents[1] / "docs" / "technical-report.schema.json"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer(pretty_exceptions_enable=False)

    @a.callback()
    def main() -> None:
        """test app"""

    register(a)
    return a


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = instruments.scoring_spec(instruments.load("vdq"))
    frame = rs.simulate(spec, rs.as_groups({"f": 300, "m": 300}), seed=8, missing=0.03).to_frame()
    path = tmp_path_factory.mktemp("data") / "vdq.csv"
    frame.to_csv(path, index=False)
    return path


def run(app: typer.Typer, *args: object) -> object:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_the_schema_file_is_the_models_schema():
    """docs/technical-report.schema.json is generated (python -m reports.technical FILE): no drift."""
    assert json.loads(SCHEMA.read_text(encoding="utf-8")) == technical.json_schema()


def test_json_xlsx_html_from_one_analysis(app, sample, tmp_path):
    outs = {}
    for fmt in ("json", "xlsx", "html"):
        out = tmp_path / f"report.{fmt}"
        res = run(app, "analyze", sample, "-i", "vdq", "-o", out, "-g", "group", "--seed", "2", "--lang", "en")
        assert res.exit_code == 0, res.output
        outs[fmt] = out
    data = json.loads(outs["json"].read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(data)
    meta = data["meta"]
    assert meta["instrument"] == "vdq" and meta["source"] == "vdq.csv" and meta["n_rows"] == 600
    assert meta["missing"] == "pairwise" and meta["missing_description"].startswith("pairwise")
    assert meta["scores_policy"].startswith("prorate")
    # full precision: the JSON numbers are the toolkit's floats, bit for bit
    ds = rs.read_dataset(sample, instruments.scoring_spec(instruments.load("vdq")), covariates=["group"])
    ia = rs.item_analysis(ds.spec, ds.responses)
    for got, s in zip(data["scales"], ia.scales, strict=True):
        assert got["scale"] == s.scale and got["alpha"] == s.alpha and got["omega_total"] == s.omega_total
        assert got["mean"] == s.mean and got["sd"] == s.sd and got["n"] == s.n
    assert [i["r_drop"] for i in data["items"]] == pytest.approx(list(ia.items.r_drop), rel=0, abs=0)
    # XLSX carries the same full-precision numbers, one sheet per table
    book = pd.read_excel(outs["xlsx"], sheet_name=None)
    assert {"meta", "items", "reliability", "intercorrelations", "loadings", "dif", "norms"} <= set(book)
    assert book["reliability"]["alpha"].tolist() == [s["alpha"] for s in data["scales"]]
    assert book["dif"]["item"].tolist() == [r["item"] for d in data["dif"] for r in d["ordinal_logistic"]]
    # HTML: the same result, rounded for reading, naming both policies
    page = html.unescape(outs["html"].read_text(encoding="utf-8"))
    assert f"{data['scales'][0]['alpha']:.3f}" in page
    assert meta["missing_description"] in page and meta["scores_policy"] in page
    assert "2. Reliability" in page and "Differential item functioning" in page


def test_policies_reach_the_report_and_change_what_they_should(sample):
    inst = instruments.load("vdq")
    ds = rs.read_dataset(sample, instruments.scoring_spec(inst), covariates=["group"])
    a = technical.analyze(inst, ds, seed=1)
    b = technical.analyze(inst, ds, seed=1, missing="listwise_scale", scores=MissingPolicy("median"))
    assert b.meta.missing == "listwise_scale" and b.meta.scores_policy.startswith("impute median")
    assert a.scales[0].n > b.scales[0].n  # rows complete on the scale only
    ia = rs.item_analysis(ds.spec, ds.responses, missing="listwise_scale", scores=MissingPolicy("median"))
    assert b.scales[0].alpha == ia.scales[0].alpha and b.scales[0].mean == ia.scales[0].mean


def test_cli_options_and_format_errors(app, sample, tmp_path):
    res = run(app, "analyze", sample, "-i", "vdq", "-o", tmp_path / "r.pdf")
    assert res.exit_code == 2 and "--format must be html, json or xlsx" in res.output
    res = run(app, "analyze", sample, "-i", "vdq", "-o", tmp_path / "r.html", "-f", "json")
    assert res.exit_code == 2 and "does not match" in res.output
    out = tmp_path / "r.json"
    res = run(app, "analyze", sample, "-i", "vdq", "-o", out, "--deletion", "listwise-scale", "--impute", "mean",
              "--min-answered", "2", "-c", "group")  # fmt: skip
    assert res.exit_code == 0, res.output
    meta = json.loads(out.read_text(encoding="utf-8"))["meta"]
    assert meta["missing"] == "listwise_scale" and "at least 2 of its items" in meta["scores_policy"]
    res = run(app, "analyze", sample, "-i", "vdq", "-o", out, "--deletion", "casewise")
    assert res.exit_code == 2 and "--deletion must be" in res.output


def test_undefined_statistics_are_null_in_json_and_named(tmp_path):
    """Items that do not vary: the JSON says null (never NaN, which JSON cannot carry) and names why."""
    inst = instruments.load("vdq")
    spec = instruments.scoring_spec(inst)
    frame = rs.simulate(spec, 300, seed=9).to_frame().drop(columns=["group"])
    frame[[i.id for i in inst.items if i.scale == "certainty"]] = 3
    path = tmp_path / "flat.csv"
    frame.to_csv(path, index=False)
    report = technical.analyze(inst, rs.read_dataset(path, spec))
    cert = next(s for s in report.scales if s.scale == "certainty")
    keyed = [3 if i.keyed == 1 else 1 + 4 - 3 for i in inst.items if i.scale == "certainty"]  # reversed: 5 − x
    assert cert.alpha is None and cert.sd == 0 and cert.mean == pytest.approx(sum(keyed) / len(keyed))
    assert any("certainty" in n and "do not vary" in n for n in report.meta.notes)
    text = technical.render_json(report)
    assert json.loads(text)["scales"][0]["alpha"] is None  # strict JSON: NaN would not parse
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c} in the output"))
    assert math.isfinite(next(s for s in report.scales if s.scale != "certainty").alpha or math.nan)
    assert np.isfinite(report.intercorrelations.values[1][2] or np.nan)
