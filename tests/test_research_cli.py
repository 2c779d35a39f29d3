"""The researcher CLI commands (analyze, build-norms, simulate, export) end to end."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import instruments
from api.cli.research import register
from scoring import research as rs


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer(pretty_exceptions_enable=False)

    @a.callback()
    def main() -> None:
        """test app"""

    register(a)
    return a


def run(app: typer.Typer, *args: str) -> object:
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)


def test_simulate_then_analyze_sds(app, tmp_path):
    data, params = tmp_path / "sds.csv", tmp_path / "p.json"
    res = run(
        app,
        "simulate",
        "-i",
        "sds",
        "-o",
        data,
        "--groups",
        "f=400,m=400",
        "--group-means",
        "m=0.3",
        "--dif",
        "SDS_ACT_R1=1.5",
        "--seed",
        "1",
        "--params-out",
        params,
        "--missing",
        "0.01",
    )
    assert res.exit_code == 0, res.output
    payload = json.loads(params.read_text())
    assert payload["synthetic"] is True and len(payload["items"]) == 132 and len(payload["population"]) == 6
    report = tmp_path / "r.html"
    res = run(app, "analyze", data, "-i", "sds", "-o", report, "-g", "group", "--reference", "group=f", "--lang", "en")
    assert res.exit_code == 0, res.output
    page = report.read_text()
    for heading in (
        "1. Item statistics",
        "2. Reliability",
        "3. Scale intercorrelations",
        "4. Factor structure",
        "5. RIASEC circumplex",
        "6. Differential item functioning",
        "7. Norms of this sample",
    ):
        assert heading in page
    assert "not an official norm table" in page and "m vs f" in page
    assert page.count("data:image/png;base64,") >= 6
    row = re.search(r"<tr class=\"flag\"><td class=\"l\">SDS_ACT_R1</td>", page)
    assert row is not None  # the planted DIF item is highlighted in the DIF table
    assert "SIM" not in page  # no respondent ids in the report


def test_analyze_vdq_ordinal_dif(app, tmp_path):
    spec = instruments.scoring_spec(instruments.load("vdq"))
    sim = rs.simulate(spec, [rs.Group("a", 300), rs.Group("b", 300)], seed=2)
    frame = sim.to_frame().rename(columns={"group": "gender"})
    frame.to_csv(tmp_path / "v.csv", index=False)
    res = run(
        app,
        "analyze",
        tmp_path / "v.csv",
        "-i",
        "vdq",
        "-o",
        tmp_path / "v.html",
        "-g",
        "gender",
        "--dif-max-rows",
        "400",
        "--lang",
        "en",
    )
    assert res.exit_code == 0, res.output
    page = (tmp_path / "v.html").read_text()
    assert "Ordinal logistic regression" in page and "random subsample of 400 rows" in page
    assert "RIASEC circumplex" not in page


def test_analyze_lists_every_problem_and_writes_nothing(app, tmp_path):
    spec = instruments.scoring_spec(instruments.load("vdq"))
    frame = rs.simulate(spec, 5, seed=3).to_frame().astype(object)
    frame.loc[0, "VDQ01"] = 7
    frame.loc[2, "VDQ05"] = "x"
    frame["phone"] = "555"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    res = run(app, "analyze", tmp_path / "bad.csv", "-i", "vdq", "-o", tmp_path / "r.html", "--covariate", "group")
    assert res.exit_code == 2
    assert "2 problem(s)" in res.output and "VDQ01" in res.output and "VDQ05" in res.output
    # an extra column is never a reason to refuse the file: it is named in a warning and left out
    assert "warning:" in res.output and "1 column(s) not used: phone" in " ".join(res.output.split())
    assert not (tmp_path / "r.html").exists()


def test_build_norms_writes_only_when_asked(app, tmp_path):
    spec = instruments.scoring_spec(instruments.load("ppi"))
    rs.simulate(spec, 400, seed=4).to_frame().to_csv(tmp_path / "p.csv", index=False)
    args = [
        "build-norms",
        tmp_path / "p.csv",
        "-i",
        "ppi",
        "--norm-id",
        "pilot",
        "--norm-version",
        "0.1",
        "--population",
        "pilot sample",
        "--from",
        "2025-01-01",
        "--to",
        "2025-03-31",
        "-g",
        "group",
        "--root",
        tmp_path / "norms",
        "--min-group-n",
        "50",
    ]
    res = run(app, *args)
    assert res.exit_code == 0, res.output
    assert "nothing written" in res.output and not (tmp_path / "norms").exists()
    res = run(app, *args, "--write")
    assert res.exit_code == 0, res.output
    meta = tmp_path / "norms" / f"ppi-{instruments.load('ppi').version}" / "pilot-0.1.json"
    table = rs.read_norms(meta)
    assert table.sample.n == 400 and table.sample.population == "pilot sample"
    res = run(app, *args, "--write")
    assert res.exit_code == 2 and "already exists" in res.output


def test_export_is_pseudonymized(app, tmp_path):
    spec = instruments.scoring_spec(instruments.load("vdq"))
    frame = rs.simulate(spec, 10, seed=5).to_frame()
    frame.to_csv(tmp_path / "v.csv", index=False)
    salt = tmp_path / "study.salt"
    res = run(app, "export", tmp_path / "v.csv", "-i", "vdq", "-o", tmp_path / "out.xlsx", "--salt-file", salt)
    assert res.exit_code == 2 and "--create-salt" in res.output
    res = run(
        app,
        "export",
        tmp_path / "v.csv",
        "-i",
        "vdq",
        "-o",
        tmp_path / "out.xlsx",
        "--salt-file",
        salt,
        "--create-salt",
        "-c",
        "group",
    )
    assert res.exit_code == 0, res.output
    assert oct(salt.stat().st_mode)[-3:] == "600"
    out = pd.read_excel(tmp_path / "out.xlsx")
    assert (
        "id" not in out.columns and out["pid"].tolist() == rs.pseudonyms(frame["id"], salt.read_text().strip()).tolist()
    )
    assert not set(frame["id"]) & set(out.astype(str).to_numpy().ravel())


def test_simulate_validates_options(app, tmp_path):
    res = run(app, "simulate", "-i", "sds", "-o", tmp_path / "x.csv", "--group-means", "a=1")
    assert res.exit_code == 2 and "--groups" in res.output
    res = run(app, "simulate", "-i", "sds", "-o", tmp_path / "x.csv", "--dif", "NOPE=1")
    assert res.exit_code == 2 and "not an item" in res.output


def test_ordinal_holland_definition_simulate_and_analyze_without_instrument_option(app, tmp_path):
    """A 1–5 RIASEC research definition: the circumplex section is there, and -i is not needed."""
    from tests.test_holland_indices import ordinal_holland

    folder = ordinal_holland(tmp_path / "def", n_items=4)
    data = tmp_path / "r5.csv"
    res = run(app, "simulate", "--definition", folder, "-o", data, "-n", "400", "--seed", "3")
    assert res.exit_code == 0, res.output
    report = tmp_path / "r5.html"
    res = run(app, "analyze", data, "--definition", folder, "-o", report, "--lang", "en")
    assert res.exit_code == 0, res.output
    page = report.read_text()
    assert "RIASEC circumplex" in page and "riasec5@0.1" in page


def test_circumplex_of_an_ordinal_holland_inventory_recovers_the_hexagon(tmp_path):
    from tests.test_holland_indices import ordinal_holland

    spec = instruments.scoring_spec(instruments.load_path(ordinal_holland(tmp_path, n_items=6), check_activities=False))
    sim = rs.simulate(spec, 3000, trait_corr=rs.hexagon_correlations(0.6, 0.3, 0.05), seed=5)
    ia = rs.item_analysis(spec, sim.responses)
    ct = rs.circumplex_test(ia.intercorrelations, "RIASEC")  # scales are defined in R I A S E C order
    # every one of the 72 order predictions met; p is then 12/720, the 12 symmetries of the hexagon
    assert ct.correspondence_index == 1.0 and ct.p_value == pytest.approx(12 / 720)
    assert ct.by_distance[1] > ct.by_distance[2] > ct.by_distance[3]
