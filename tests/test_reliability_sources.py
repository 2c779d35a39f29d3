"""Where the reliabilities behind SEM bands and reliable change come from, end to end.

Two genuine sources only: the chosen norm table (Cronbach's α and SD of its sample,
stored with the table) and the answers this service holds (once enough administrations
of the instrument version are scored). Every expected number is computed here from the
same answers with the textbook formulas, never with the code under test:

    α = k/(k−1) · (1 − Σσ²ᵢ / σ²ₜ),  SEM = SD · √(1 − α),  band = score ± 1.645 · SEM,
    RCI = (x₂ − x₁) / (√2 · SEM)   (Jacobson & Truax, 1991).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
import re

import numpy as np
import pytest

import instruments
import reports
import scoring
from api.db.session import transaction
from api.db.tables import Result
from scoring import research
from tests.api_helpers import administer
from tests.conftest import PASSWORDS

VDQ = instruments.load("vdq")
SPEC = instruments.scoring_spec(VDQ)
EN, KA = reports.strings("en"), reports.strings("ka")
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


# -- data and the textbook formulas ----------------------------------------------------------


def generated(n: int, seed: int) -> list[dict[str, str]]:
    """n VDQ answer sets in which each scale's items share a latent trait (so α is clearly positive)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        theta = {s.id: rng.normal() for s in VDQ.scales}
        answers = {}
        for item in VDQ.items:
            t = theta.get(item.scale, 0.0) if item.scale else 0.0
            v = int(np.clip(np.rint(2.5 + 1.1 * t + rng.normal(0, 0.7)), 1, 4))
            answers[item.id] = str(5 - v if item.keyed == -1 else v)
        out.append(answers)
    return out


def pattern(strained: bool) -> dict[str, str]:
    """Every barrier strong and certainty low (strained), or the other way round."""
    hi, lo = ("4", "1") if strained else ("1", "4")
    return {i.id: (hi if (i.scale != "certainty") == (i.keyed == 1) else lo) for i in VDQ.items}


def keyed(answers: list[dict[str, str]], scale: str) -> np.ndarray:
    """People × items of one scale, reversed items turned round (1–4: 5 − x)."""
    items = [i for i in VDQ.items if i.scale == scale]
    return np.array(
        [[(5 - int(a[i.id])) if i.keyed == -1 else int(a[i.id]) for i in items] for a in answers], dtype=float
    )


def textbook(answers: list[dict[str, str]]) -> dict[str, tuple[float, float]]:
    """Scale → (Cronbach's α, SD of the scale score); VDQ scales are item means."""
    out = {}
    for s in VDQ.scales:
        x = keyed(answers, s.id)
        k = x.shape[1]
        alpha = k / (k - 1) * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
        sd = float((x.mean(axis=1) if s.score == "mean" else x.sum(axis=1)).std(ddof=1))
        out[s.id] = (float(alpha), sd)
    return out


def sem_of(alpha: float, sd: float) -> float:
    return sd * math.sqrt(1 - alpha)


def day_en(d: dt.date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


# -- helpers for the service ----------------------------------------------------------------


def store(service, answer_sets: list[dict[str, str]], code: str | None = None) -> list[dict]:  # type: ignore[no-untyped-def]
    """Administer and submit each answer set (a new beneficiary for each unless ``code`` is given)."""
    sw, psy = service.client("social_worker"), service.client("psychologist")
    out = []
    for answers in answer_sets:
        who = code or sw.post("/v1/beneficiaries", json={"name": "ტესტი"}).json()["code"]
        out.append(administer(psy, who, "vdq", answers))
    return out


def report_json(service, result_id: str, lang: str = "en", audience: str = "psychologist", **extra) -> dict:  # type: ignore[no-untyped-def]
    r = service.client("psychologist").get(
        f"/v1/results/{result_id}/report", params={"lang": lang, "audience": audience, "format": "json", **extra}
    )
    assert r.status_code == 200, r.text
    return json.loads(r.content)


def sems(view: dict) -> dict[str, list[float] | None]:
    d = view["decision"]
    return {"certainty": d["certainty"]["sem"], **{b["id"]: b["sem"] for b in d["barriers"]}}


def scale_scores(result: dict) -> dict[str, float | None]:
    """Scale id → reported score, from a result's typed record (as the REST API gives it)."""
    return {s["id"]: s["score"] for s in result["record"]["scales"]}


def check_bands(view: dict, scores: dict, expected: dict[str, tuple[float, float]]) -> int:
    """Every scale's band is score ± 1.645·SD·√(1−α) where α > 0, and absent where α ≤ 0."""
    shown = sems(view)
    drawn = 0
    for sid, band in shown.items():
        alpha, sd = expected[sid]
        if alpha <= 0:
            assert band is None, sid
            continue
        half = 1.645 * sem_of(alpha, sd)
        assert band == pytest.approx([scores[sid] - half, scores[sid] + half], rel=1e-9, abs=1e-12), sid
        drawn += 1
    return drawn


# -- the service's own data -----------------------------------------------------------------


def test_bands_from_stored_answers_appear_only_from_the_threshold_on(service):
    service.settings.reliability_min_n = 12
    answers = generated(11, seed=3)
    results = store(service, answers)
    below = report_json(service, results[-1]["id"])
    assert all(b is None for b in sems(below).values())
    assert below["sem_note"] == EN.get("ui.sem.none") and below["sem_sources"] == []
    page = service.client("psychologist").get(f"/v1/results/{results[-1]['id']}/report", params={"lang": "en"})
    assert EN.get("ui.sem.none") in html.unescape(page.text)

    answers += generated(1, seed=4)
    results += store(service, answers[-1:])
    newest = results[-1]
    expected = textbook(answers)
    assert expected["certainty"][0] > 0.5  # the generated data really hang together
    view = report_json(service, newest["id"])
    assert check_bands(view, scale_scores(newest), expected) >= 8
    assert view["sem_note"] == EN.get("ui.sem.shown")
    as_of = dt.datetime.fromisoformat(newest["created_at"]).date()
    sentence = f"Cronbach's α and SD from 12 administrations held in this service (as of {day_en(as_of)})"
    assert view["sem_sources"] == [EN.get("ui.sem.source", instrument=VDQ.title.en, source=sentence)]

    # the HTML shows the same band and names the source
    text = html.unescape(
        service.client("psychologist").get(f"/v1/results/{newest['id']}/report", params={"lang": "en"}).text
    )
    alpha, sd = expected["certainty"]
    c, half = scale_scores(newest)["certainty"], 1.645 * sem_of(alpha, sd)
    assert f"{c - half:.2f}–{c + half:.2f}" in text
    assert sentence in text and EN.get("ui.sem.none") not in text

    # Georgian: the same numbers, the sentence in Georgian with a Georgian date
    ka = report_json(service, newest["id"], lang="ka")
    assert sems(ka) == sems(view)
    assert len(ka["sem_sources"]) == 1
    assert "12 შევსებიდან" in ka["sem_sources"][0] and as_of.strftime("%d.%m.%Y") in ka["sem_sources"][0]

    # the employment department and the beneficiary keep seeing no SEM at all
    for audience in ("employment", "beneficiary"):
        other = report_json(service, newest["id"], audience=audience)
        assert all(b is None for b in sems(other).values())
        assert other["sem_sources"] == [] and other["sem_note"] is None


def test_the_estimate_follows_new_results(service):
    """A new result (a new cache key) gives a fresh estimate; the count and date are the data's."""
    service.settings.reliability_min_n = 10
    answers = generated(10, seed=5)
    results = store(service, answers)
    first = report_json(service, results[-1]["id"])
    check_bands(first, scale_scores(results[-1]), textbook(answers))
    answers += generated(3, seed=6)
    results += store(service, answers[-3:])
    again = report_json(service, results[0]["id"])
    check_bands(again, scale_scores(results[0]), textbook(answers))
    assert "13 administrations" in again["sem_sources"][0]


def test_an_estimate_from_99_percent_of_the_results_is_served_then_renewed(service):
    """With 100 stored, one more result serves the estimate of the 100 (it names N = 100);
    two more (98 %) make a new one of all 102."""
    service.settings.reliability_min_n = 100
    code = service.client("social_worker").post("/v1/beneficiaries", json={"name": "ტესტი"}).json()["code"]
    answers = generated(102, seed=8)
    results = store(service, answers[:100], code=code)
    first = report_json(service, results[-1]["id"])
    assert "100 administrations" in first["sem_sources"][0]
    results += store(service, answers[100:101], code=code)
    served = report_json(service, results[-1]["id"])
    assert "100 administrations" in served["sem_sources"][0]
    check_bands(served, scale_scores(results[-1]), textbook(answers[:100]))
    results += store(service, answers[101:], code=code)
    renewed = report_json(service, results[-1]["id"])
    assert "102 administrations" in renewed["sem_sources"][0]
    check_bands(renewed, scale_scores(results[-1]), textbook(answers))


# -- a norm table ---------------------------------------------------------------------------


def _norm_sample(n: int, seed: int) -> tuple[list[dict[str, str]], np.ndarray, np.ndarray]:
    answers = generated(n, seed)
    block = np.array([[a[i] for i in VDQ.item_ids] for a in answers], dtype=object)
    x = scoring.parse_block(SPEC, block)
    return answers, x, scoring.score(SPEC, x).scales.score


def _table(n: int = 200, seed: int = 11, norm_id: str = "pilot") -> tuple[research.NormTable, list[dict[str, str]]]:
    answers, x, scores = _norm_sample(n, seed)
    table = research.build_norms(
        SPEC,
        scores,
        responses=x,
        norm_id=norm_id,
        version="1.0",
        population="pilot sample",
        collected_from=dt.date(2027, 1, 1),
        collected_to=dt.date(2027, 3, 1),
    )
    return table, answers


def test_a_norm_table_carries_the_textbook_alpha_of_its_sample(tmp_path):
    table, answers = _table()
    expected = textbook(answers)
    assert set(table.reliability) == {s.id for s in VDQ.scales}
    for sid, (alpha, sd) in expected.items():
        assert table.reliability[sid].alpha == pytest.approx(alpha, rel=1e-9)
        assert table.reliability[sid].sd == pytest.approx(sd, rel=1e-9)
        assert table.reliability[sid].n == 200
    _, meta = research.write_norms(table, tmp_path)
    back = research.read_norms(meta)
    assert {k: (v.alpha, v.sd, v.n) for k, v in back.reliability.items()} == {
        k: (v.alpha, v.sd, v.n) for k, v in table.reliability.items()
    }
    # built from scores alone (no answers), a table carries no reliability
    bare = research.build_norms(
        SPEC,
        _norm_sample(50, 2)[2],
        norm_id="bare",
        version="1",
        population="p",
        collected_from=dt.date(2027, 1, 1),
        collected_to=dt.date(2027, 1, 2),
    )
    assert bare.reliability == {}


def test_an_old_norm_file_without_reliabilities_still_loads_and_shows_no_band(tmp_path):
    table, _ = _table(norm_id="old")
    _, meta = research.write_norms(table, tmp_path)
    data = json.loads(meta.read_text(encoding="utf-8"))
    del data["reliability"]  # as files were written before tables carried it
    meta.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    old = research.read_norms(meta)
    assert old.reliability == {} and old.sample.n == 200
    (rec,) = scoring.score(
        SPEC, scoring.parse_block(SPEC, np.array([[pattern(True)[i] for i in VDQ.item_ids]], dtype=object))
    ).records()
    profile = reports.build_profile("1", [rec], norms={"decision": old})  # norm tables by model
    view = json.loads(reports.render_json(profile, "en", "psychologist"))
    assert all(b is None for b in sems(view).values())
    assert view["sem_note"] == EN.get("ui.sem.none") and view["sem_sources"] == []
    assert view["decision"]["certainty"]["norm"] is not None  # the norms themselves are used
    # the same table with its reliabilities gives bands from them
    full = reports.build_profile("1", [rec], norms={"decision": table})
    view = json.loads(reports.render_json(full, "en", "psychologist"))
    assert all(b is not None for b in sems(view).values())


def test_a_report_with_a_norm_table_takes_the_tables_values(service, tmp_path, monkeypatch):
    from api.domain import reporting

    table, norm_answers = _table()
    research.write_norms(table, tmp_path)
    monkeypatch.setattr(reporting, "norms_root", lambda: tmp_path)
    # enough stored data for an estimate of the service's own, which the table must take precedence over
    service.settings.reliability_min_n = 10
    stored = generated(10, seed=21)
    results = store(service, stored)
    result = results[-1]
    own = report_json(service, result["id"])
    check_bands(own, scale_scores(result), textbook(stored))

    normed = report_json(service, result["id"], norm="vdq/pilot")
    check_bands(normed, scale_scores(result), textbook(norm_answers))
    assert normed["sem_sources"] == [
        EN.get(
            "ui.sem.source",
            instrument=VDQ.title.en,
            source="Cronbach's α and SD in the sample of norm table vdq/pilot@1.0 (N = 200)",
        )
    ]
    assert normed["provenance"][0]["norm_table"]["id"] == "pilot"
    text = html.unescape(
        service.client("psychologist")
        .get(f"/v1/results/{result['id']}/report", params={"lang": "ka", "norm": "vdq/pilot"})
        .text
    )
    assert "ნორმატიული ცხრილის vdq/pilot@1.0 შერჩევაში (N = 200)" in text


# -- reliable change -----------------------------------------------------------------------


def test_compare_shows_reliable_change_by_the_jacobson_truax_index(service):
    from api.domain import reporting
    from api.web.core import strings as web_strings

    service.settings.reliability_min_n = 12
    sw = service.client("social_worker")
    code = sw.post("/v1/beneficiaries", json={"name": "ცვლილება"}).json()["code"]
    others = generated(10, seed=31)
    store(service, others)
    before, after = pattern(True), pattern(False)
    (r1,) = store(service, [before], code)
    (r2,) = store(service, [after], code)
    expected = textbook([*others, before, after])

    with transaction(service.app.state.sessions) as s:
        profile = reporting.profile_from(s, service.settings, code, [s.get(Result, r2["id"])], s.get(Result, r1["id"]))
    view = reports.build_view(profile, "en", "psychologist")
    (change,) = view["changes"]
    marked = 0
    for row in change["rows"]:
        alpha, sd = expected[row["id"]]
        if alpha <= 0:
            assert row["rci"] is None
            continue
        x1, x2 = scale_scores(r1)[row["id"]], scale_scores(r2)[row["id"]]
        rci = (x2 - x1) / (math.sqrt(2) * sem_of(alpha, sd))
        assert row["rci"] == pytest.approx(rci, rel=1e-9)
        assert row["reliable"] == (abs(rci) >= 1.96)
        marked += abs(rci) >= 1.96
    assert marked >= 8  # from every barrier strong to every barrier weak: reliably changed
    assert change["rci_note"] == EN.get("ui.change.rci")

    # the web comparison page shows the marks and where the reliability comes from
    web = service.client()
    page = web.get("/sign-in")
    token = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = web.post(
        "/sign-in",
        data={"username": "psychologist", "password": PASSWORDS["psychologist"], "csrf": token},
        follow_redirects=False,
    )
    assert r.status_code == 303
    page = web.get(f"/beneficiaries/{code}/compare", params={"before": r1["id"], "after": r2["id"]})
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert text.count(web_strings("ka")["compare.reliable"]) >= marked
    assert "12 შევსებიდან" in text


def test_the_cli_report_takes_reliabilities_from_the_chosen_norm_table(tmp_path):
    import pandas as pd
    import typer
    from typer.testing import CliRunner

    from api.cli.reports import register

    app = typer.Typer(pretty_exceptions_enable=False)
    register(app)
    app.command("other")(lambda: None)  # keeps ``report`` a named sub-command, as in the real CLI
    table, norm_answers = _table()
    _, meta = research.write_norms(table, tmp_path / "norms")
    answers = {"id": "B-001", **pattern(True)}
    pd.DataFrame([answers]).to_csv(tmp_path / "vdq.csv", index=False)
    out = tmp_path / "out"
    args = ["report", "--vdq", str(tmp_path / "vdq.csv"), "-o", str(out), "-f", "json", "-l", "en", "-q"]
    plain = CliRunner().invoke(app, [*args, "-o", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    view = json.loads((tmp_path / "plain" / "B-001_psychologist_en.json").read_text(encoding="utf-8"))
    assert all(b is None for b in sems(view).values()) and view["sem_note"] == EN.get("ui.sem.none")

    result = CliRunner().invoke(app, [*args, "--norms", str(meta)])
    assert result.exit_code == 0, result.output
    view = json.loads((out / "B-001_psychologist_en.json").read_text(encoding="utf-8"))
    scores = (
        scoring.score(SPEC, scoring.parse_block(SPEC, np.array([[answers[i] for i in VDQ.item_ids]], dtype=object)))
        .to_frame()
        .iloc[0]
    )
    assert check_bands(view, scores.to_dict(), textbook(norm_answers)) == len(VDQ.scales)
    assert "norm table vdq/pilot@1.0 (N = 200)" in view["sem_sources"][0]
