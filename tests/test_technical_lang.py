"""The technical report speaks Georgian and English (issue 15): the HTML page in the language asked
for, the JSON unchanged (English field names and notes), every text in both strings files."""

from __future__ import annotations

import html
import json
import re
import string
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

import instruments
from api.cli.research import register
from reports import technical
from reports._strings import STRINGS_DIR, read_strings
from scoring import research as rs
from tests.api_helpers import Web
from tests.test_studies import codes, make_study, participate

KA = {k: v for k, v in read_strings(STRINGS_DIR / "ka.toml").items() if k.startswith("technical.")}
EN = {k: v for k, v in read_strings(STRINGS_DIR / "en.toml").items() if k.startswith("technical.")}

# English sentences of the report as it was written before it was translated: none may be left on a
# Georgian page (nor the English of the record's notes)
ENGLISH = (
    "Technical report",
    "Item statistics",
    "Reliability",
    "Scale intercorrelations",
    "Factor structure",
    "Factor analysis skipped",
    "RIASEC circumplex",
    "Differential item functioning",
    "Norms of this sample",
    "Methods and references",
    "Missing-value codes",
    "Scale scores",
    "Undefined for these data",
    "not an official norm table",
    "parallel analysis",
    "Mantel–Haenszel, matched",
    "Ordinal logistic regression",
    "random subsample",
    "Reference ",
    "each covariance from the rows",
    "the mean of the answered items",
    "do not vary",
    "no norms",
    "respondents",
)


def _text(page: str) -> str:
    """The words of a page: no style, no images, no tags, no references list (citations stay English)."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r'src="[^"]*"', "", page)
    page = page.split('<ul class="note">')[0]
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _fragments(text: str) -> list[str]:
    """The literal parts of a strings text between its {placeholders}."""
    return [lit.strip() for lit, *_ in string.Formatter().parse(text) if lit.strip()]


def assert_georgian(page: str) -> None:
    words = _text(page)
    for sentence in ENGLISH:
        assert sentence not in words, sentence
    # no run of three lower-case English words (a sentence left untranslated); names are capitalised
    runs = set(re.findall(r"\b[a-z]{2,}(?: [a-z]{2,}){2,}\b", words))
    assert runs <= {"listwise within scale"}, runs  # the policy's own name, in brackets after the Georgian
    # no fragment of an English text of the [technical] section that the Georgian does not share
    for key, en in EN.items():
        if key.startswith(("technical.col.", "technical.chart.")):
            continue  # short labels (n, SD, α …) are the same in both languages
        for frag in _fragments(en):
            if len(frag) >= 12 and frag not in KA[key]:
                assert frag not in words, (key, frag)


@pytest.fixture(scope="module")
def sds_report(tmp_path_factory: pytest.TempPathFactory) -> technical.TechnicalReport:
    inst = instruments.load("sds")
    spec = instruments.scoring_spec(inst)
    frame = rs.simulate(spec, rs.as_groups({"f": 250, "m": 250}), seed=8, missing=0.02).to_frame()
    path = tmp_path_factory.mktemp("sds") / "sds.csv"
    frame.to_csv(path, index=False)
    return technical.analyze(inst, rs.read_dataset(path, spec, covariates=["group"]), groups=["group"], seed=1)


def test_the_strings_of_the_technical_report_are_in_both_languages():
    assert set(KA) == set(EN) and len(KA) > 100
    for key in KA:
        assert set(_fragments(KA[key])) != set() and KA[key].strip()
        fields = {f for _, f, _, _ in string.Formatter().parse(KA[key]) if f}
        assert fields == {f for _, f, _, _ in string.Formatter().parse(EN[key]) if f}, key
    # the glossary's terms for the psychometric headings
    assert KA["technical.h_items"] == "პუნქტების სტატისტიკა" and KA["technical.h_reliability"] == "სანდოობა"
    assert KA["technical.h_factor"] == "ფაქტორული სტრუქტურა"
    assert KA["technical.h_dif"] == "პუნქტის დიფერენციული ფუნქციონირება (DIF)"
    assert "გაზომვის სტანდარტული შეცდომა" in KA["technical.reliability_note"]
    assert "სანდოობის ინტერვალით" in KA["technical.reliability_note"]
    assert "პარალელური ანალიზი" in KA["technical.factor_parallel"]


def test_the_georgian_page_has_every_heading_and_no_english(sds_report):
    page = technical.render_html(sds_report, "ka")
    assert '<html lang="ka">' in page
    words = _text(page)
    for key in ("h_items", "h_reliability", "h_intercorrelations", "h_factor", "h_circumplex", "h_dif", "h_norms"):
        assert KA[f"technical.{key}"] in words, key
    for n, key in enumerate(("h_items", "h_reliability", "h_intercorrelations", "h_factor", "h_circumplex"), 1):
        assert f"{n}. {KA[f'technical.{key}']}" in words
    assert f"6. {KA['technical.h_dif']}" in words and f"7. {KA['technical.h_norms']}" in words
    # the DIF section of a binary instrument (Mantel–Haenszel), its note and summary in Georgian
    assert "ETS კლასები" in words and "საბაზისო ჯგუფი f (n = " in words and "ფოკუსური ჯგუფი m" in words
    assert "პროპორციული გადაანგარიშება (prorate)" in words  # the scale scores' policy
    assert "ამ მონაცემთა ნაკრების აღწერითი ნორმები (N = 500)" in words
    assert "პუნქტი" in words and "სკალა" in words and "სტანაინი" in words  # column headers
    assert_georgian(page)
    # numbers with the Georgian decimal comma
    alpha = sds_report.scales[0].alpha
    assert alpha is not None and f"{alpha:.3f}".replace(".", ",") in words


def test_the_english_page_and_the_json_are_english(sds_report):
    page = technical.render_html(sds_report, "en")
    assert '<html lang="en">' in page and "1. Item statistics" in page and "7. Norms of this sample" in page
    assert "პუნქტ" not in _text(page).split("Technical report: ")[1]  # only the instrument's title may be ka
    data = json.loads(technical.render_json(sds_report))
    assert data["meta"]["missing_description"].startswith("pairwise: each covariance")
    assert data["meta"]["scores_policy"].startswith("prorate: the mean of the answered items")
    assert data["dif"][0]["note"].startswith("Mantel–Haenszel, matched on the scale's total score")
    assert data["dif"][0]["summary"].startswith("Reference f (n = ")


def test_undefined_statistics_and_a_skipped_factor_analysis_in_georgian(tmp_path):
    inst = instruments.load("vdq")
    spec = instruments.scoring_spec(inst)
    frame = rs.simulate(spec, 5, seed=9).to_frame().drop(columns=["group"])
    certainty = [i.id for i in inst.items if i.scale == "certainty"]
    frame[certainty] = 3  # nobody varies on the certainty items
    path = tmp_path / "five.csv"
    frame.to_csv(path, index=False)
    report = technical.analyze(inst, rs.read_dataset(path, spec))
    # 5 complete rows for the 56 VDQ items: no factor analysis; the JSON keeps the English
    assert report.factor.skipped == (
        "Factor analysis skipped: 5 complete respondents for 56 items (or an item without variance)."
    )
    assert any("certainty" in n and "do not vary" in n for n in report.meta.notes)
    page = technical.render_html(report, "ka")
    words = _text(page)
    assert "ფაქტორული ანალიზი არ ჩატარდა: 56 პუნქტზე მხოლოდ 5 სრული ცდისპირია" in words
    assert f"{inst.ref}: სკალა certainty: პუნქტ(ებ)ი {', '.join(certainty)} ამ მონაცემებში არ ვარირებს" in words
    assert "ამ მონაცემებისთვის განუსაზღვრელია" in words
    assert_georgian(page)
    en = technical.render_html(report, "en")
    assert "Factor analysis skipped: 5 complete respondents for 56 items" in en


def test_a_report_read_back_from_json_renders_in_english_only(sds_report):
    back = technical.TechnicalReport.model_validate_json(technical.render_json(sds_report))
    assert back.model_dump() == sds_report.model_dump()  # the same record; the texts as data are not in JSON
    assert "Mantel–Haenszel, matched" in technical.render_html(back, "en")
    with pytest.raises(ValueError, match="only in English"):
        technical.render_html(back, "ka")


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer(pretty_exceptions_enable=False)

    @a.callback()
    def main() -> None:
        """test app"""

    register(a)
    return a


def test_analyze_writes_georgian_by_default_and_checks_lang(app, tmp_path):
    spec = instruments.scoring_spec(instruments.load("vdq"))
    data = tmp_path / "v.csv"
    frame = rs.simulate(spec, rs.as_groups({"a": 200, "b": 200}), seed=2).to_frame().rename(columns={"group": "sex"})
    frame.to_csv(data, index=False)
    out = tmp_path / "v.html"
    runner = CliRunner()
    args = ["analyze", str(data), "-i", "vdq", "-o", str(out), "-g", "sex", "--dif-max-rows", "300"]
    res = runner.invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    page = out.read_text(encoding="utf-8")
    assert '<html lang="ka">' in page
    words = _text(page)
    assert "ორდინალური ლოგისტიკური რეგრესია (Zumbo, 1999), 300 სტრიქონის შემთხვევით ქვეშერჩევაზე" in words
    assert "ფოკუსური ჯგუფი b, საბაზისო ჯგუფი a" in words and "RIASEC" not in words
    assert_georgian(page)
    res = runner.invoke(app, [*args, "--lang", "fr"], catch_exceptions=False)
    assert res.exit_code == 2 and "--lang must be ka or en" in res.output


def test_the_researchers_page_speaks_the_pages_language(service):
    sid = make_study(service, instruments=[{"id": "vdq"}])["id"]
    for k, code in enumerate(codes(service, sid, 4)):
        participate(service, code, {"gender": ("female", "male")[k % 2]}, seed=40 + k)
    web = Web(service, "researcher")
    ka = web.get(f"/studies/{sid}/analysis/vdq")
    assert ka.status_code == 200 and '<html lang="ka">' in ka.text
    assert KA["technical.h_items"] in ka.text and "Item statistics" not in ka.text
    en = web.get(f"/studies/{sid}/analysis/vdq", params={"lang": "en"})
    assert en.status_code == 200 and "1. Item statistics" in en.text
    res = service.client("researcher")
    r = res.get(f"/v1/studies/{sid}/analysis", params={"instrument": "vdq", "format": "html", "lang": "en"})
    assert r.status_code == 200 and "1. Item statistics" in r.text
    r = res.get(f"/v1/studies/{sid}/analysis", params={"instrument": "vdq", "format": "html"})
    assert r.status_code == 200 and KA["technical.h_items"] in r.text
    assert res.get(f"/v1/studies/{sid}/analysis", params={"instrument": "vdq", "lang": "fr"}).status_code == 422


def test_schema_unchanged_by_the_translation():
    """The JSON Schema (docs/technical-report.schema.json) has no field for the texts as data."""
    schema = json.loads((Path(__file__).parents[1] / "docs" / "technical-report.schema.json").read_text("utf-8"))
    assert schema == technical.json_schema() and "_texts" not in json.dumps(schema)


def test_an_uploaded_files_report_speaks_the_pages_language(service):
    from tests.test_research_uploads import ITEMS, VDQ, as_csv, upload, vdq_rows

    rows = [{"id": f"P{k}", **{i: str(1 + (k * 7 + j) % 4) for j, i in enumerate(ITEMS)}} for k in range(12)]
    body = as_csv(vdq_rows(rows, extra=("id",)))
    web = Web(service, "researcher")
    r = upload(web, "/datasets?lang=ka", "pilot.csv", body, instrument=VDQ.ref, action="analyse")
    assert r.status_code == 200 and '<html lang="ka">' in r.text and KA["technical.h_items"] in r.text
    assert_georgian(r.text)
    r = upload(web, "/datasets?lang=en", "pilot.csv", body, instrument=VDQ.ref, action="analyse")
    assert r.status_code == 200 and "1. Item statistics" in r.text
