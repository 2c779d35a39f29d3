"""Norm-referenced scores in reports: PR / T / stanine for the psychologist, a plain phrase at
most for the employment department, and every way a wrong norm table could slip in refused.

The norm tables are fitted with ``build_norms`` to a hand-made sample of 25 people in which,
for every scale, a known number of people score below the fixture person (B-001), a known
number score the same and the rest score above. The expectations are then computed here by
hand, not with the code under test:

    PR = 100 · (cum_freq_below + freq / 2) / N         (mid-point percentile rank)
    T  = 50 + 10 · Φ⁻¹(PR / 100)                       (PR kept inside 0.1 … 99.9)
    stanine = 1 + number of the cuts 4, 11, 23, 40, 60, 77, 89, 96 that PR reaches

With N = 25 every PR is a whole number (4·below + 2·equal), so the displayed PR is exact.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from datetime import date
from html import unescape
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

import instruments
import reports
from api.cli.reports import register
from reports import ReportError
from scoring import research as rs
from tests.test_reports_data import PERSON, ppi_answers, profile, records, sds_answers, vdq_answers

N = 25
CUTS = (4, 11, 23, 40, 60, 77, 89, 96)
KINDS = ("vdq", "sds", "ppi")
MODEL = {"vdq": "decision", "sds": "holland", "ppi": "bipolar"}
"""build_profile takes norm tables (and reliabilities) by the instrument's model, never by its id."""
POPULATION = "Pilot sample of the fund's beneficiaries, 2025"


# -- a hand-made sample ------------------------------------------------------------------------


def _grid(inst: instruments.Instrument, scale_id: str) -> list[float]:
    """Every complete score of a scale, written out from the definition (not from scoring)."""
    n = sum(1 for it in inst.items if it.scale == scale_id and it.repeat_of is None)
    lo, hi = inst.response.min, inst.response.max  # type: ignore[union-attr]
    if inst.response.kind == "paired":  # type: ignore[union-attr]
        return [float(v) for v in range(-hi * n, hi * n + 1)]
    sums = range(lo * n, hi * n + 1)
    mean = inst.scale(scale_id).score == "mean"
    return [s / n if mean else float(s) for s in sums]


def _plan(kind: str) -> dict[str, tuple[int, int]]:
    """Scale → (people below B-001, people with B-001's score); the rest of the 25 score above."""
    inst = instruments.load(kind)
    out = {}
    for k, s in enumerate(inst.scales):
        grid = _grid(inst, s.id)
        x = _score(kind, s.id)
        equal = 1 + k % 3
        if x <= grid[0]:
            below = 0
        elif x >= grid[-1]:
            below = N - equal
        else:
            below = (3 + 5 * k) % (N - equal)
        out[s.id] = (below, equal)
    return out


def _score(kind: str, scale_id: str) -> float:
    """B-001's score on one scale, from the fixture's result record."""
    value = records()[kind].scale(scale_id).score  # type: ignore[union-attr]
    assert value is not None
    return float(value)


def _sample(kind: str) -> np.ndarray:
    inst = instruments.load(kind)
    cols = []
    for s in inst.scales:
        grid = _grid(inst, s.id)
        x = _score(kind, s.id)
        below, equal = _plan(kind)[s.id]
        lower = [v for v in grid if v < x]
        higher = [v for v in grid if v > x]
        col = [lower[i % len(lower)] for i in range(below)] + [x] * equal
        col += [higher[i % len(higher)] for i in range(N - below - equal)]
        assert len(col) == N
        cols.append(col)
    return np.array(cols, dtype=float).T


def _expected(kind: str) -> dict[str, tuple[float, float, int]]:
    """Scale → (PR, T, stanine), by hand."""
    out = {}
    for sid, (below, equal) in _plan(kind).items():
        pr = 100 * (below + equal / 2) / N
        t = 50 + 10 * NormalDist().inv_cdf(min(max(pr, 0.1), 99.9) / 100)
        out[sid] = (pr, t, 1 + sum(pr >= c for c in CUTS))
    return out


def _pr_text(pr: float) -> str:
    return "<1" if pr < 1 else ">99" if pr > 99 else str(int(pr))  # PRs here are whole numbers


def _t_text(t: float) -> str:
    return str(math.floor(t + 0.5))


def _table(kind: str, **kw: object) -> rs.NormTable:
    spec = instruments.scoring_spec(instruments.load(kind))
    args: dict[str, object] = {
        "norm_id": "pilot",
        "version": "1.0",
        "population": POPULATION,
        "collected_from": date(2025, 1, 10),
        "collected_to": date(2025, 4, 30),
        "min_group_n": 1,
    }
    args.update(kw)
    return rs.build_norms(spec, _sample(kind), **args)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def norm_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The three tables written as versioned files and the paths of their .json metadata."""
    root = tmp_path_factory.mktemp("norms")
    return {k: rs.write_norms(_table(k), root)[1] for k in KINDS}


@pytest.fixture(scope="module")
def tables(norm_files: dict[str, Path]) -> dict[str, rs.NormTable]:
    return {k: rs.read_norms(p) for k, p in norm_files.items()}


@pytest.fixture(scope="module")
def normed(tables: dict[str, rs.NormTable]) -> reports.Profile:
    return profile(norms={MODEL[k]: t for k, t in tables.items()})


def _dates(lang: str) -> dict[str, str]:
    """The norm sample's collection dates as a report in ``lang`` writes them."""
    return (
        {"start": "10.01.2025", "end": "30.04.2025"}
        if lang == "ka"
        else {"start": "10 January 2025", "end": "30 April 2025"}
    )


def _text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _rows(html: str) -> list[list[str]]:
    """Table body rows as lists of visible cell texts."""
    out = []
    for tr in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)
        if cells:
            out.append([re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", c))).strip() for c in cells])
    return out


def _contains_run(cells: list[str], run: list[str]) -> bool:
    return any(cells[i : i + len(run)] == run for i in range(len(cells) - len(run) + 1))


# -- the sample is what the expectations assume ---------------------------------------------------


def test_the_hand_made_sample_gives_the_hand_computed_table(tables: dict[str, rs.NormTable]) -> None:
    """Cross-check of the fixture: the fitted table holds exactly the hand-computed PRs."""
    for kind in KINDS:
        t = tables[kind].table
        for sid, (pr, _, stanine) in _expected(kind).items():
            row = t[(t.group == "all") & (t.scale == sid) & np.isclose(t.raw, _score(kind, sid))]
            assert len(row) == 1
            assert row.pr.iloc[0] == pytest.approx(pr) and row.stanine.iloc[0] == stanine
    spread = {round(pr) for k in KINDS for pr, _, _ in _expected(k).values()}
    assert len(spread) >= 8 and min(spread) < 11 and max(spread) > 89  # low, middle and high ranks


def test_percentile_and_plain_phrase_rounding() -> None:
    from reports._view import about_of_100, percentile_text

    assert [percentile_text(x) for x in (0.0, 0.5, 1.0, 12.5, 12.49, 50.0, 99.0, 99.5, 100.0)] == [
        "<1",
        "<1",
        "1",
        "13",
        "12",
        "50",
        "99",
        ">99",
        ">99",
    ]
    assert [about_of_100(x) for x in (0.0, 2.4, 7.5, 12.4, 58.0, 62.5, 97.6, 100.0)] == [5, 5, 10, 10, 60, 65, 95, 95]


def test_default_group_is_the_norm_tables_whole_sample() -> None:
    from reports._context import NORM_ALL
    from scoring.research._norms import ALL

    assert NORM_ALL == ALL


# -- the psychologist sees PR / T / stanine and the table --------------------------------------


@pytest.mark.parametrize("lang", ["en", "ka"])
def test_psychologist_sees_pr_t_and_stanine_of_every_scale(normed: reports.Profile, lang: str) -> None:
    html = reports.render_html(normed, lang, "psychologist", charts=False)
    body = _rows(html)
    text = _text(html)
    s = reports.strings(lang)
    for kind in KINDS:
        inst = instruments.load(kind)
        for sid, (pr, t, stanine) in _expected(kind).items():
            scale = inst.scale(sid)
            want = [_pr_text(pr), _t_text(t), str(stanine)]
            if kind == "vdq" and scale.role == "certainty":
                assert s.get("ui.norms.inline", pr=want[0], t=want[1], stanine=want[2]) in text
                continue
            label = f"{scale.letter} · {scale.name.get(lang)}" if kind == "sds" else scale.name.get(lang)
            hits = [r for r in body if label in r[:2]]
            assert len(hits) == 1, (sid, label)
            assert _contains_run(hits[0], want), (sid, hits[0], want)
    for head in ("ui.col.pr", "ui.col.t", "ui.col.stanine"):
        assert f'<th class="num">{s.get(head)}</th>' in html


@pytest.mark.parametrize("lang", ["en", "ka"])
def test_psychologist_provenance_names_table_population_and_n(normed: reports.Profile, lang: str) -> None:
    text = _text(reports.render_html(normed, lang, "psychologist", charts=False))
    s = reports.strings(lang)
    line = s.get(
        "ui.norms.prov.pro",
        ref="pilot@1.0",
        population=POPULATION,
        group=s.get("ui.norms.group_all"),
        n=N,
        **_dates(lang),
    )
    for kind in KINDS:
        assert f"{instruments.load(kind).title.get(lang)}: {kind}@{instruments.load(kind).version}" in text
    assert text.count(line) == len(KINDS)  # once in each normed instrument's provenance line
    assert s.get("ui.norms.method") in text
    assert s.get("ui.prov.norms_note") not in text  # no longer "no norm table exists"
    assert s.get("ui.norms.synthetic") not in text
    data = json.loads(reports.render_json(normed, lang, "psychologist"))
    sds = next(p for p in data["provenance"] if p["instrument"] == "sds")
    assert sds["norm_table"] == {
        "id": "pilot",
        "version": "1.0",
        "population": POPULATION,
        "n": N,
        "group": "all",
        "collected_from": "2025-01-10",
        "collected_to": "2025-04-30",
        "synthetic": False,
    }
    s_type = next(t for t in data["holland"]["types"] if t["letter"] == "S")
    pr, t, stanine = _expected("sds")["S"]
    assert s_type["norm"]["pr"] == pytest.approx(pr) and s_type["norm"]["t"] == pytest.approx(t, abs=0.01)
    assert s_type["norm"]["stanine"] == stanine
    assert all(p["norm_table"] is None for p in data["provenance"] if p["instrument"] == "intake")


def test_profile_carries_the_table_ref(normed: reports.Profile) -> None:
    assert normed.decision.provenance.norm_table == "pilot@1.0"  # type: ignore[union-attr]
    assert normed.holland.provenance.norms.n == N  # type: ignore[union-attr]
    assert normed.intake.provenance.norm_table is None  # type: ignore[union-attr]


def test_a_group_uses_its_own_ranks_and_n() -> None:
    """Group 'site=a' (the first 10 rows): PR of S counted by hand within those 10."""
    site = ["a"] * 10 + ["b"] * 15
    table = _table("sds", groups={"site": site}, min_group_n=10)
    sample = _sample("sds")[:10, [s.id for s in instruments.load("sds").scales].index("S")]
    x = _score("sds", "S")
    pr = 100 * (sum(v < x for v in sample) + sum(v == x for v in sample) / 2) / 10
    p = profile(norms={"holland": table}, norm_group="site=a")
    s_type = next(t for t in p.holland.types if t.letter == "S")  # type: ignore[union-attr]
    assert s_type.norm is not None and s_type.norm.pr == pytest.approx(pr)
    assert p.holland.provenance.norms.n == 10 and p.holland.provenance.norms.group == "site=a"  # type: ignore[union-attr]
    text = _text(reports.render_html(p, "en", "psychologist", charts=False))
    assert (
        reports.strings("en").get(
            "ui.norms.prov.pro", ref="pilot@1.0", population=POPULATION, group="site=a", n=10, **_dates("en")
        )
        in text
    )
    with pytest.raises(ReportError, match="no group 'site=c'"):
        profile(norms={"holland": table}, norm_group="site=c")


def test_only_some_instruments_normed_says_which_are_criterion_based(tables: dict[str, rs.NormTable]) -> None:
    p = profile(norms={"holland": tables["sds"]})
    s = reports.strings("en")
    text = _text(reports.render_html(p, "en", "psychologist", charts=False))
    rest = s.join([instruments.load("vdq").title.en, instruments.load("ppi").title.en])
    assert s.get("ui.norms.partial", instruments=rest) in text
    assert s.get("ui.col.stanine") in text
    data = json.loads(reports.render_json(p, "en", "psychologist"))
    assert all(b["norm"] is None for b in data["decision"]["barriers"])
    assert all(d["norm"] is None for d in data["bipolar"]["dimensions"])
    assert all(t["norm"] is not None for t in data["holland"]["types"])


def test_without_norms_reports_still_say_bands_are_criterion_based() -> None:
    p = profile()
    for lang in ("ka", "en"):
        s = reports.strings(lang)
        for audience in ("psychologist", "employment"):
            html = reports.render_html(p, lang, audience, charts=False)
            text = _text(html)
            assert s.get("ui.prov.norms_note") in text and s.get("ui.prov.no_norms") in text
            assert s.get("ui.col.stanine") not in text and "ui.norms" not in html


# -- the employment department and the beneficiary -----------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ka"])
def test_employment_gets_a_plain_phrase_and_no_t_or_stanine(normed: reports.Profile, lang: str) -> None:
    s = reports.strings(lang)
    html = reports.render_html(normed, lang, "employment", charts=False)
    text = _text(html)
    for head in ("ui.col.pr", "ui.col.t", "ui.col.stanine"):
        assert f'<th class="num">{s.get(head)}</th>' not in html
    assert "N = " not in text and "Φ" not in text and s.get("ui.norms.method") not in text
    assert "stanine" not in text.lower() and "სტანაინი" not in text and not re.search(r"\bPR \d", text)
    # the code's types S, A, E (PR 98, 58, 4): PR to the nearest 5, kept within 5…95, for "about k of 100"
    view = reports.build_view(normed, lang, "employment")
    shown = {t["letter"]: t["compared"] for t in view["holland"]["top"]}
    assert shown == {L: s.get("ui.norms.compared", k=k) for L, k in (("S", 95), ("A", 60), ("E", 5))}
    for phrase in shown.values():
        assert phrase in text
    assert s.get("ui.norms.plain", population=POPULATION, n=N) in text
    assert s.get("ui.norms.prov.plain", ref="pilot@1.0", population=POPULATION, n=N) in text
    data = json.loads(reports.render_json(normed, lang, "employment"))
    assert all(t["norm"] is None for t in data["holland"]["types"])
    assert all(b["norm"] is None for b in data["decision"]["barriers"])
    assert data["decision"]["certainty"]["norm"] is None
    assert all(d["norm"] is None for d in data["bipolar"]["dimensions"])
    assert all(p["norm_table"] is None for p in data["provenance"])
    assert not re.search(r'"(pr|t|stanine|pr_text|t_text)":', json.dumps(data))


def test_employment_phrase_never_reveals_a_clinical_barrier(normed: reports.Profile) -> None:
    strain = instruments.load("vdq").scale("emotional_strain").name.en
    view = reports.build_view(normed, "en", "employment")
    assert strain not in json.dumps(view, ensure_ascii=False)
    assert all(b["compared"] for b in view["decision"]["barriers"])


@pytest.mark.parametrize("lang", ["en", "ka"])
def test_beneficiary_sees_no_comparison_numbers(normed: reports.Profile, lang: str) -> None:
    s = reports.strings(lang)
    html = reports.render_html(normed, lang, "beneficiary", charts=False)
    text = _text(html)
    compared = s.get("ui.norms.compared", k=0).split("0")[0]
    assert compared not in text
    assert s.get("ui.col.stanine") not in text and "N = " not in text
    assert "pilot@1.0" in text  # the report still names the table it used


# -- refusals -------------------------------------------------------------------------------


def test_a_table_of_another_instrument_or_version_is_refused(tables: dict[str, rs.NormTable]) -> None:
    other_version = dataclasses.replace(tables["sds"], instrument_version="2.0")
    sds, vdq = (re.escape(instruments.load(k).version) for k in ("sds", "vdq"))  # results: the newest versions
    with pytest.raises(ReportError, match=rf"built for sds@2\.0.*holland result is sds@{sds}"):
        profile(norms={"holland": other_version})
    with pytest.raises(ReportError, match=rf"built for sds@{sds}.*decision result is vdq@{vdq}"):
        profile(norms={"decision": tables["sds"]})
    other_definition = dataclasses.replace(tables["ppi"], instrument_hash="0" * 64)
    with pytest.raises(ReportError, match="another definition"):
        profile(norms={"bipolar": other_definition})


def test_wrong_keys_and_missing_results_are_refused(tables: dict[str, rs.NormTable]) -> None:
    r = records()
    with pytest.raises(ReportError, match="no holland result"):
        reports.build_profile(PERSON, [r["vdq"]], norms={"holland": tables["sds"]})
    with pytest.raises(ReportError, match="'intake'"):
        profile(norms={"intake": tables["sds"]})
    with pytest.raises(ReportError, match="'sds'"):  # an instrument id is not a model
        profile(norms={"sds": tables["sds"]})
    with pytest.raises(ReportError, match="must be a NormTable"):
        profile(norms={"holland": {"S": 50}})


def test_a_synthetic_table_is_refused_unless_a_test_allows_it() -> None:
    synthetic = _table("sds", synthetic=True)
    with pytest.raises(ReportError, match="simulated data"):
        profile(norms={"holland": synthetic})
    allowed = profile(norms={"holland": synthetic}, allow_synthetic=True)
    s = reports.strings("en")
    for audience in reports.AUDIENCES:  # even in a test, it is never shown as a real norm
        assert s.get("ui.norms.synthetic") in _text(reports.render_html(allowed, "en", audience, charts=False))


def test_a_score_outside_the_table_is_refused(tables: dict[str, rs.NormTable]) -> None:
    sds = records()["sds"]
    high = sds.model_copy(
        update={"scales": tuple(x.model_copy(update={"score": 40.0}) if x.id == "S" else x for x in sds.scales)}
    )
    with pytest.raises(ReportError, match="outside the table"):
        reports.build_profile(PERSON, [high], norms={"holland": tables["sds"]})


def _ipsative_ppi() -> instruments.Instrument:
    """The PPI definition made ipsative (one pair a choice between two scales), same id, version and
    hash: given to ``build_profile`` it is the definition the PPI record is reported with."""
    inst = instruments.load("ppi")
    first = dataclasses.replace(inst.items[0], left_scale="EI", right_scale="SN")
    return dataclasses.replace(inst, items=(first, *inst.items[1:]))


def test_an_ipsative_instrument_never_gets_norms(tables: dict[str, rs.NormTable]) -> None:
    ipsative = _ipsative_ppi()
    with pytest.raises(ReportError, match="ipsative"):
        profile(norms={"bipolar": tables["ppi"]}, definitions=[ipsative])
    p = profile(definitions=[ipsative])
    assert p.bipolar is not None and p.bipolar.provenance.ipsative
    html = reports.render_html(p, "en", "psychologist", charts=False)
    assert reports.strings("en").get("ui.col.stanine") not in html
    assert not profile().bipolar.provenance.ipsative  # type: ignore[union-attr]  # the shipped one is not


def test_the_view_never_shows_norms_on_ipsative_scores(normed: reports.Profile) -> None:
    """Even a profile assembled by hand with an ipsative section carrying norms shows none of them."""
    b = normed.bipolar
    assert b is not None and all(d.norm is not None for d in b.dimensions)
    forced = dataclasses.replace(
        normed, bipolar=dataclasses.replace(b, provenance=dataclasses.replace(b.provenance, ipsative=True))
    )
    view = reports.build_view(forced, "en", "psychologist")
    assert not view["bipolar"]["normed"] and all(d["norm"] is None for d in view["bipolar"]["dimensions"])
    ppi = next(p for p in view["provenance"] if p["instrument"] == "ppi")
    assert ppi["norm_table"] is None and ppi["norms"] == reports.strings("en").get("ui.prov.no_norms")
    assert view["holland"]["normed"]  # the other sections keep theirs


# -- PDF ------------------------------------------------------------------------------------


def test_georgian_psychologist_pdf_with_norms(normed: reports.Profile, caplog: pytest.LogCaptureFixture) -> None:
    import io
    import logging

    import pypdf

    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        pdf = reports.render_pdf(normed, "ka", "psychologist")
    assert [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")] == []
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "სტანაინი" in text and "pilot@1.0" in text and "N = 25" in text


# -- CLI ------------------------------------------------------------------------------------

app = typer.Typer(pretty_exceptions_enable=False)
register(app)


@app.command()
def _placeholder() -> None:
    """Keeps ``report`` a named sub-command, as in the real CLI."""


runner = CliRunner()


def _inputs(tmp: Path) -> list[str]:
    args = []
    for kind, answers in (("vdq", vdq_answers()), ("sds", sds_answers()), ("ppi", ppi_answers())):
        path = tmp / f"{kind}.csv"
        pd.DataFrame([answers]).to_csv(path, index=False)
        args += [f"--{kind}", str(path)]
    return args


def test_cli_norms_end_to_end(tmp_path: Path, norm_files: dict[str, Path]) -> None:
    out = tmp_path / "out"
    norms = [a for k in ("sds", "vdq") for a in ("--norms", str(norm_files[k]))]
    result = runner.invoke(app, ["report", *_inputs(tmp_path), *norms, "-o", str(out), "-f", "html", "-l", "en", "-q"])
    assert result.exit_code == 0, result.output
    html = (out / f"{PERSON}_psychologist_en.html").read_text(encoding="utf-8")
    body = _rows(html)
    pr, t, stanine = _expected("sds")["S"]
    social = next(r for r in body if r[0] == f"S · {instruments.load('sds').scale('S').name.en}")
    assert _contains_run(social, [_pr_text(pr), _t_text(t), str(stanine)])
    s = reports.strings("en")
    text = _text(html)
    assert (
        s.get(
            "ui.norms.prov.pro",
            ref="pilot@1.0",
            population=POPULATION,
            group=s.get("ui.norms.group_all"),
            n=N,
            **_dates("en"),
        )
        in text
    )
    assert s.get("ui.norms.partial", instruments=instruments.load("ppi").title.en) in text


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda tmp, files: tmp / "missing.json", "not a readable norm table"),
        (lambda tmp, files: _write(tmp / "broken.json", "{not json"), "not a readable norm table"),
        (lambda tmp, files: files["sds"].with_suffix(".csv"), "give the table's .json file"),
        (lambda tmp, files: _edited(tmp, files["sds"], instrument_version="2.0"), "built for sds@2.0"),
        (lambda tmp, files: _synthetic(tmp), "simulated data"),
    ],
)
def test_cli_bad_norm_file_writes_nothing(tmp_path: Path, norm_files: dict[str, Path], make, message: str) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "out"
    path = make(tmp_path, norm_files)
    result = runner.invoke(
        app, ["report", *_inputs(tmp_path), "--norms", str(path), "-o", str(out), "-f", "html", "-q"]
    )
    assert result.exit_code == 2, result.output
    assert message in result.output and "No report was written" in result.output
    assert not out.exists() or list(out.iterdir()) == []


def test_cli_refuses_two_tables_for_one_instrument_and_a_table_without_input(
    tmp_path: Path, norm_files: dict[str, Path]
) -> None:
    out = tmp_path / "out"
    twice = runner.invoke(
        app,
        [
            "report",
            *_inputs(tmp_path),
            "--norms",
            str(norm_files["sds"]),
            "--norms",
            str(norm_files["sds"]),
            "-o",
            str(out),
            "-q",
        ],
    )
    assert twice.exit_code == 2 and "one per instrument" in twice.output
    sds_only = tmp_path / "sds.csv"
    pd.DataFrame([sds_answers()]).to_csv(sds_only, index=False)
    unused = runner.invoke(
        app, ["report", "--sds", str(sds_only), "--norms", str(norm_files["vdq"]), "-o", str(out), "-q"]
    )
    assert unused.exit_code == 2 and "no --vdq input" in unused.output
    group = runner.invoke(
        app,
        [
            "report",
            "--sds",
            str(sds_only),
            "--norms",
            str(norm_files["sds"]),
            "--norm-group",
            "gender=f",
            "-o",
            str(out),
            "-q",
        ],
    )
    assert group.exit_code == 2 and "no norm group 'gender=f'" in group.output
    assert not out.exists() or list(out.iterdir()) == []


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _edited(tmp: Path, meta_path: Path, **changes: object) -> Path:
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta.update(changes)
    folder = tmp / "edited"
    folder.mkdir()
    (folder / meta["table"]).write_bytes((meta_path.parent / meta["table"]).read_bytes())
    return _write(folder / meta_path.name, json.dumps(meta))


def _synthetic(tmp: Path) -> Path:
    return rs.write_norms(_table("sds", synthetic=True), tmp / "synthetic", allow_synthetic=True)[1]
