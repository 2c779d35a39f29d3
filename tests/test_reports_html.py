"""HTML and JSON reports for fixed inputs: content, audiences, escaping, provenance."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from html import unescape

import pytest

import instruments
import reports
from instruments import Text
from reports import Reliability, ReportConfig, ReportError
from tests.test_reports_data import PERSON, profile, record, records, vdq_answers

VDQ = instruments.load("vdq")
STRAIN = VDQ.scale("emotional_strain").name
ACTIVITIES = {a.id: a for a in instruments.activities()}
CLINICAL_ACTIVITIES = [ACTIVITIES["psychological_support"].name, ACTIVITIES["stress_management"].name]
FUND = Text(
    ka="ადამიანით ვაჭრობის (ტრეფიკინგის) მსხვერპლთა, დაზარალებულთა დაცვისა და დახმარების სახელმწიფო ფონდი",
    en="State Fund for the Protection of and Assistance to Victims of Human Trafficking",
)
WEIGHTS = ((22, 10, 4), (10, 5, 2), (4, 2, 1))


def _text(html: str) -> str:
    """Visible text: tags and the inline style/charts removed, entities decoded."""
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    html = re.sub(r'src="data:[^"]*"', "", html)
    return unescape(re.sub(r"<[^>]+>", " ", html))


@pytest.fixture(scope="module")
def person() -> reports.Profile:
    return profile()


def _expected_top(lang: str) -> list[str]:
    """Independently: occupations with M ≥ 26 against SAE, reachable from secondary education,
    suitable, and not ruled out by the fixture's constraints (night shifts, no driving licence)."""
    with (instruments.data_dir() / "occupations.csv").open(encoding="utf-8") as fh:
        out = []
        for r in csv.DictReader(fh):
            tags = r["tags"].split(";")
            if r["excluded"] == "1" or "night" in tags or "security" in tags or r["isco"][:3] in ("832", "833"):
                continue
            m = sum(WEIGHTS[i][j] for i in range(3) for j in range(3) if "SAE"[i] == r["riasec"][j])
            if m >= 26 and int(r["training_level"]) <= 3:
                out.append(r[f"name_{lang}"])
    return out


@pytest.mark.parametrize("lang", ["ka", "en"])
@pytest.mark.parametrize("audience", reports.AUDIENCES)
def test_report_contains_code_and_matched_occupations(person: reports.Profile, lang: str, audience: str) -> None:
    text = _text(reports.render_html(person, lang, audience))
    assert ("SAE" in text) == (audience != "beneficiary")  # the beneficiary reads no letter codes
    expected = _expected_top(lang)
    assert len(expected) >= 3
    for name in expected:  # an English name standing as a heading takes a capital ("Tour guide")
        assert name in text or (lang == "en" and name[0].upper() + name[1:] in text), name


@pytest.mark.parametrize("lang", ["ka", "en"])
@pytest.mark.parametrize("audience", reports.AUDIENCES)
def test_every_report_names_versions_norms_date_administrator_and_confidentiality(
    person: reports.Profile, lang: str, audience: str
) -> None:
    text = _text(reports.render_html(person, lang, audience))
    s = reports.strings(lang)
    for iid in ("intake", "vdq", "sds", "ppi"):
        assert f"{iid}@{instruments.load(iid).version}" in text
    assert "1.0.0" in text  # engine version
    assert s.get("ui.prov.no_norms") in text
    assert ("14.03.2025" if lang == "ka" else "14 March 2025") in text
    assert "Psychologist M. K." in text
    assert s.get(f"ui.confidential.{audience}") in text


def test_hostile_name_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    p = profile(name=hostile, administrator='"><img src=x onerror=alert(2)>')
    for audience in reports.AUDIENCES:
        html = reports.render_html(p, "ka", audience)
        assert hostile not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script" not in html.lower()
    assert json.loads(reports.render_json(p, "en", "employment"))["meta"]["name"] == hostile


@pytest.mark.parametrize("lang", ["ka", "en"])
def test_employment_never_shows_emotional_strain_without_consent(person: reports.Profile, lang: str) -> None:
    assert person.decision is not None and any(
        b.id == "emotional_strain" and b.band == "salient" for b in person.decision.barriers
    )
    without = reports.render_html(person, lang, "employment")
    for html in (without, reports.render_json(person, lang, "employment")):
        assert STRAIN.get(lang) not in html and "emotional_strain" not in html
        for name in CLINICAL_ACTIVITIES:
            assert name.get(lang) not in html
    with_consent = reports.render_html(person, lang, "employment", consent_includes_clinical=True)
    assert STRAIN.get(lang) in with_consent
    assert all(n.get(lang) in with_consent for n in CLINICAL_ACTIVITIES)
    assert STRAIN.get(lang) in reports.render_html(person, lang, "psychologist")


@pytest.mark.parametrize("lang", ["ka", "en"])
def test_beneficiary_sees_nothing_clinical_and_is_addressed_as_you(person: reports.Profile, lang: str) -> None:
    html = reports.render_html(person, lang, "beneficiary")
    text = _text(html)
    assert STRAIN.get(lang) not in html
    assert all(n.get(lang) not in html for n in CLINICAL_ACTIVITIES)
    s = reports.strings(lang)
    assert s.get("intake.group.III") not in text  # no job-seeker group
    assert s.get("flag.code_tied")[:30] not in text  # no validity flags
    assert ("თქვენ" if lang == "ka" else "your") in text
    with pytest.raises(ReportError, match="never carry clinical"):
        reports.render_html(person, lang, "beneficiary", consent_includes_clinical=True)


def test_psychologist_says_when_no_reliability_exists_and_shows_sem_bands_when_it_does(person: reports.Profile) -> None:
    s = reports.strings("en")
    plain = _text(reports.render_html(person, "en", "psychologist"))
    assert s.get("ui.sem.none") in plain
    rel = {"decision": {"certainty": Reliability(r=0.84, sd=0.6, source="pilot 2025")}}  # keyed by model
    with_rel = profile(reliabilities=rel)
    text = _text(reports.render_html(with_rel, "en", "psychologist"))
    sem = 0.6 * (1 - 0.84) ** 0.5
    lo, hi = 1 - 1.645 * sem, 1 + 1.645 * sem  # the fixture's certainty is 1.00
    assert f"{lo:.2f}–{hi:.2f}" in text
    assert s.get("ui.sem.shown") in text
    employment = _text(reports.render_html(with_rel, "en", "employment"))
    assert f"{lo:.2f}–{hi:.2f}" not in employment


def test_sem_band_is_never_drawn_for_ipsative_scores() -> None:
    from reports._context import _sem_band

    rel = Reliability(r=0.8, sd=2.0, source="x")
    assert _sem_band(10.0, rel, ipsative=False) is not None
    assert _sem_band(10.0, rel, ipsative=True) is None


def test_fund_name_is_configuration(person: reports.Profile) -> None:
    default = reports.render_html(person, "ka", "employment")
    assert FUND.ka not in default and reports.strings("ka").get("ui.fund_generic") in default
    configured = profile(config=ReportConfig(fund_name=FUND))
    assert FUND.ka in reports.render_html(configured, "ka", "employment")
    assert FUND.en in reports.render_html(configured, "en", "employment")


def test_georgian_report_has_no_georgian_capitals(person: reports.Profile) -> None:
    for audience in reports.AUDIENCES:
        assert not re.search("[\u1c90-\u1cbf]", reports.render_html(person, "ka", audience))


def test_a_missing_text_fails_the_render(person: reports.Profile, monkeypatch: pytest.MonkeyPatch) -> None:
    table = dict(reports.strings("ka")._table)  # noqa: SLF001
    del table["ui.heading.pro.interests"]
    broken = reports._strings.Strings("ka", table)  # noqa: SLF001
    monkeypatch.setattr(reports._render, "strings", lambda lang: broken)  # noqa: SLF001
    monkeypatch.setattr(reports._view, "strings", lambda lang: broken)  # noqa: SLF001
    with pytest.raises(ReportError, match="ui.heading.pro.interests"):
        reports.render_html(person, "ka", "psychologist", charts=False)


def test_json_matches_the_audience(person: reports.Profile) -> None:
    data = json.loads(reports.render_json(person, "en", "psychologist"))
    assert data["holland"]["code"] == "SAE"
    assert data["group"]["group"] == "III"
    assert data["decision"]["status"] == "undecided"
    assert [m["name"] for m in data["matches"]["suggested"]][:1] == ["cosmetologist"]
    assert data["provenance"][1] == {
        "instrument": "vdq",
        "model": "decision",
        "version": VDQ.version,
        "title": VDQ.title.en,
        "checksum": VDQ.content_hash[:12],
        "engine_version": "1.0.0",
        "norms": "no norm table — bands are criterion-based",
        "norm_table": None,
    }
    beneficiary = json.loads(reports.render_json(person, "en", "beneficiary"))
    assert beneficiary["group"] is None and beneficiary["validity"] is None
    assert beneficiary["matches"]["suggested"][0]["m"] is None


def test_single_instrument_report_and_per_instrument_title() -> None:
    r = records()
    p = reports.build_profile(PERSON, [r["vdq"]], administrator="A", administered=date(2025, 1, 2))
    text = _text(reports.render_html(p, "en", "psychologist"))
    assert f"{VDQ.title.en}: interpretation" in text
    assert reports.strings("en").get("ui.note.no_sds.pro") in text
    # the note is about matching (the profile part): a packet without that part does not carry it
    assert reports.packet_view(p, "en", ["profile"])["notes"] == [reports.strings("en").get("ui.note.no_sds.pro")]
    assert reports.packet_view(p, "en", ["activities"])["notes"] == []


def test_change_between_two_administrations(person: reports.Profile) -> None:
    earlier = record("vdq", vdq_answers({**{s.id: 3 for s in VDQ.scales}, "certainty": 2}))
    p = profile(previous=[earlier], previous_date=date(2024, 12, 1))
    psych = reports.build_view(p, "en", "psychologist")
    rows_ = {r["id"]: r for r in psych["changes"][0]["rows"]}
    assert rows_["information"]["before"] == 3 and rows_["information"]["after"] == 4
    assert rows_["certainty"]["change"] == -1
    employment = reports.build_view(p, "en", "employment")
    assert "emotional_strain" not in {r["id"] for r in employment["changes"][0]["rows"]}
    html = reports.render_html(p, "en", "psychologist")
    assert "1 December 2024" in html and "change_decision" not in html  # charts are keyed by model
    with pytest.raises(ReportError, match="no current one"):
        reports.build_profile(PERSON, [records()["sds"]], previous=[earlier])


def test_a_record_that_does_not_fit_its_definition_is_refused() -> None:
    """Records carry no person id (the caller joins them), so "a row of another person" has no
    equivalent any more; a record is checked against the definition it names instead."""
    r = records()
    with pytest.raises(ReportError, match="two holland results"):
        reports.build_profile(PERSON, [r["sds"], r["sds"]])
    vdq = instruments.load("vdq")
    as_vdq = r["sds"].model_copy(
        update={
            "provenance": r["sds"].provenance.model_copy(update={"instrument": "vdq", "content_hash": vdq.content_hash})
        }
    )
    with pytest.raises(ReportError, match="is a decision instrument, but the record is a holland result"):
        reports.build_profile(PERSON, [as_vdq])
    other_hash = r["vdq"].model_copy(
        update={"provenance": r["vdq"].provenance.model_copy(update={"content_hash": "0" * 64})}
    )
    with pytest.raises(ReportError, match="another definition"):
        reports.build_profile(PERSON, [other_hash])
    no_s = r["sds"].model_copy(update={"scales": tuple(x for x in r["sds"].scales if x.id != "S")})
    with pytest.raises(ReportError, match="no score for its scale 'S'"):
        reports.build_profile(PERSON, [no_s])
    bad_code = r["sds"].model_copy(update={"codes": ("XYZ",)})
    with pytest.raises(ReportError, match="XYZ"):
        reports.build_profile(PERSON, [bad_code])
    with pytest.raises(ReportError, match="audience"):
        reports.render_html(profile(), "ka", "public")
    with pytest.raises(ReportError, match="language"):
        reports.render_html(profile(), "ru", "psychologist")


def test_a_record_without_a_code_gets_no_matching() -> None:
    """The former "column 'code' is missing" row: a record whose code was not computed."""
    no_code = records()["sds"].model_copy(update={"codes": (), "consistency": ()})
    p = reports.build_profile(PERSON, [no_code])
    assert p.matches is None and p.notes == ("ui.note.no_code",)
    for lang in ("ka", "en"):
        text = _text(reports.render_html(p, lang, "employment"))
        assert reports.strings(lang).get("ui.note.no_code.pro") in text


def test_validity_flags_explained_for_the_psychologist_only() -> None:
    """All 'like': every type ties (120 admissible orderings), a flat profile, flags raised."""
    inst = instruments.load("sds")
    rec = record("sds", {"id": PERSON, **{it.id: "like" for it in inst.items}})
    flags = {str(f) for f in rec.flags}
    assert {"all_like", "code_tied", "flat_profile"} <= flags
    p = reports.build_profile(PERSON, [rec])
    assert p.matches is None and "ui.note.code_undetermined" in p.notes
    for lang in ("ka", "en"):
        s = reports.strings(lang)
        psych = _text(reports.render_html(p, lang, "psychologist"))
        for flag in flags:
            assert s.get(f"flag.{flag}", margin="3") in psych, flag
        assert s.get("holland.undetermined.pro", count=120) in psych
        assert "ASE/" not in psych  # 120 orderings are counted, not listed
        employment = _text(reports.render_html(p, lang, "employment"))
        assert s.get("ui.validity.caution") in employment
        assert not any(s.get(f"flag.{f}", margin="3") in employment for f in flags)
        beneficiary = _text(reports.render_html(p, lang, "beneficiary"))
        assert s.get("ui.validity.caution") not in beneficiary
        assert s.get("holland.undetermined.you") in beneficiary
    data = json.loads(reports.render_json(p, "en", "psychologist"))
    assert len(data["holland"]["codes"]) == 120 and data["holland"]["code"] is None


def test_hiding_a_clinical_barrier_never_turns_into_saying_there_is_none() -> None:
    """Emotional strain the only salient barrier: without consent, staff read "none among those shown"
    (the same sentence whatever the hidden levels), the beneficiary is not told nothing holds them back."""
    only_strain = {**{s.id: 1 for s in VDQ.scales}, "certainty": 4, "emotional_strain": 4}
    calm = {**{s.id: 1 for s in VDQ.scales}, "certainty": 4}
    strained = reports.build_profile(PERSON, [record("vdq", vdq_answers(only_strain))])
    relaxed = reports.build_profile(PERSON, [record("vdq", vdq_answers(calm))])
    assert [b.id for b in strained.decision.salient] == ["emotional_strain"]  # type: ignore[union-attr]
    for lang in ("ka", "en"):
        s = reports.strings(lang)
        for p in (strained, relaxed):  # employment without consent: one sentence for both
            text = _text(reports.render_html(p, lang, "employment"))
            assert s.get("ui.label.no_notable_barriers.pro_shown") in text
            assert s.get("ui.summary.no_barriers_shown") in text
            rest = text.replace(s.get("ui.label.no_notable_barriers.pro_shown"), "").replace(
                s.get("ui.summary.no_barriers_shown"), ""
            )  # (in Georgian the short sentences are part of the longer ones)
            assert s.get("ui.label.no_notable_barriers.pro") not in rest and s.get("ui.summary.no_barriers") not in rest
        consented = _text(reports.render_html(strained, lang, "employment", consent_includes_clinical=True))
        assert STRAIN.get(lang) in consented and s.get("ui.label.no_notable_barriers.pro_shown") not in consented
        assert s.get("ui.label.no_notable_barriers.pro") in _text(reports.render_html(relaxed, lang, "psychologist"))
        you = _text(reports.render_html(strained, lang, "beneficiary"))
        assert s.get("ui.label.no_notable_barriers.you") not in you
        assert s.get("ui.label.no_notable_barriers.you_talk") in you and STRAIN.get(lang) not in you
        assert s.get("ui.label.no_notable_barriers.you") in _text(reports.render_html(relaxed, lang, "beneficiary"))


def test_an_intake_record_with_a_malformed_value_is_refused() -> None:
    rec = records()["intake"]
    one = rec.model_copy(update={"values": {**rec.values, "aspired_occupations": "cook"}})  # not a list
    with pytest.raises(ReportError, match="aspired_occupations holds several answers"):
        reports.build_profile(PERSON, [one])
    unknown = rec.model_copy(update={"values": {**rec.values, "constraints": ("childcare", "moon")}})
    with pytest.raises(ReportError, match="unknown choice"):
        reports.build_profile(PERSON, [unknown])
    extra = rec.model_copy(update={"values": {**rec.values, "favourite_colour": "blue"}})
    with pytest.raises(ReportError, match="no field 'favourite_colour'"):
        reports.build_profile(PERSON, [extra])
