"""No report contradicts itself or its records about aspirations, education and prorated scores.

Every audience (psychologist, employment, beneficiary) is rendered in Georgian and English, as HTML
and JSON, for people with and without an intake, with aspirations from the intake only, from the
SDS only (``aspiration_1..3`` columns), from both (differing), from neither, and with and without
the education answer. Each statement the report makes is checked against what the records hold,
with expectations computed here by hand:

- a report never says "no aspired occupation was given" when one was;
- the congruence shown is Iachan's M, Brown & Gore's C and Zener & Schnuelle's index between the
  person's code and the first aspiration with a code, taken from the SDS when the SDS has
  aspirations, else from the intake (one source for the whole report);
- the note that the SDS's aspirations are used appears exactly when both gave aspirations;
- the education filter note names the intake's education answer (or says education is unknown);
- a prorated total shows the same value, to one decimal, with the prorated mark, in every
  audience, in the text, in the charts and in the JSON.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import json
import re
from dataclasses import dataclass
from html import unescape

import pypdf
import pytest

import instruments
import reports
from tests.test_reports_data import intake_record, record, sds_answers

PERSON = "B-001"
CODE = "SAE"  # the fixture's SDS code (checked in test_reports_data)
INTAKE_ASPIRATIONS = {"asp": ("cook", "hairdresser", "nanny"), "none": (), "uncoded": ("astronaut",)}
SDS_ASPIRATIONS = ("hairdresser", "ESC")  # an occupation and a code typed in
HEXAGON = "RIASEC"
MAX_LEVEL = {"none": 2, "primary": 2, "basic": 2, "secondary": 3, "vocational": 4, "bachelor": 5, "master": 5}

with (instruments.data_dir() / "occupations.csv").open(encoding="utf-8") as _fh:
    _OCCUPATIONS = list(csv.DictReader(_fh))
with (instruments.DEFINITIONS / "intake" / "1.1" / "options.csv").open(encoding="utf-8") as _fh:
    _EDUCATION = {r["value"]: r for r in csv.DictReader(_fh) if r["field"] == "education_level"}


# -- the congruence indices, by hand ---------------------------------------------------------------


def iachan(p: str, q: str) -> int:
    weights = {(0, 0): 22, (0, 1): 10, (0, 2): 4, (1, 0): 10, (1, 1): 5, (1, 2): 2, (2, 0): 4, (2, 1): 2, (2, 2): 1}
    return sum(w for (i, j), w in weights.items() if p[i] == q[j])


def brown_gore(p: str, q: str) -> int:
    """3·X1 + 2·X2 + X3; X = 3 same letter, 2 adjacent on the hexagon, 1 alternate, 0 opposite."""

    def closeness(a: str, b: str) -> int:
        steps = abs(HEXAGON.index(a) - HEXAGON.index(b))
        return 3 - min(steps, 6 - steps)

    return 3 * closeness(p[0], q[0]) + 2 * closeness(p[1], q[1]) + closeness(p[2], q[2])


def zener_schnuelle(p: str, q: str) -> int:
    rules = (
        (6, p == q),
        (5, p[:2] == q[:2]),
        (4, sorted(p) == sorted(q)),
        (3, p[0] == q[0]),
        (2, (p[0], p[1]) == (q[1], q[0])),
        (1, p[0] in q[1:]),
    )
    return next((v for v, holds in rules if holds), 0)


def test_the_hand_made_indices() -> None:
    # worked by hand: SAE against cook REA, hairdresser ASE, nanny SAC
    assert [iachan(CODE, q) for q in ("REA", "ASE", "SAC", "SAE")] == [4, 21, 27, 28]
    assert [brown_gore(CODE, q) for q in ("REA", "ASE", "SAC", "RIC")] == [3, 13, 17, 6]
    assert brown_gore("RIA", "SEC") == 0  # every letter opposite
    assert [zener_schnuelle(CODE, q) for q in ("SAE", "SAC", "ESA", "SRI", "ASR", "RAS", "RIC")] == [
        6,
        5,
        4,
        3,
        2,
        1,
        0,
    ]


# -- the cases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    intake: str | None
    """None: no intake; else a key of INTAKE_ASPIRATIONS."""
    sds_aspirations: bool
    education: bool
    """The intake records an education answer ("secondary") or none."""

    @property
    def id(self) -> str:
        edu = "" if self.intake is None else ("-edu" if self.education else "-noedu")
        return f"intake_{self.intake}-sds_{'asp' if self.sds_aspirations else 'none'}{edu}"

    def records(self) -> list[object]:
        answers = sds_answers()
        if self.sds_aspirations:
            answers.update({f"aspiration_{k + 1}": a for k, a in enumerate(SDS_ASPIRATIONS)})
        out: list[object] = [record("sds", answers)]
        if self.intake is not None:
            rec = intake_record(aspired_occupations=";".join(INTAKE_ASPIRATIONS[self.intake]))
            if not self.education:  # as a form version that left the answer optional would store it
                rec = rec.model_copy(update={"values": {**rec.values, "education_level": None}})
            out.append(rec)
        return out

    @property
    def intake_given(self) -> tuple[str, ...]:
        return INTAKE_ASPIRATIONS[self.intake] if self.intake else ()

    @property
    def used(self) -> tuple[str, ...]:
        """The one source of aspirations: the SDS's when it has any, else the intake's."""
        return SDS_ASPIRATIONS if self.sds_aspirations else self.intake_given


CASES = [Case(None, sds, True) for sds in (False, True)] + [
    Case(i, sds, edu) for i, sds, edu in itertools.product(INTAKE_ASPIRATIONS, (False, True), (True, False))
]
RENDERS = list(itertools.product(reports.AUDIENCES, ("ka", "en")))


def _occupation(given: str) -> dict[str, str] | None:
    key = given.strip().casefold()
    return next((o for o in _OCCUPATIONS if key in (o["name_en"].casefold(), o["name_ka"].casefold())), None)


def _code(given: str) -> str | None:
    occ = _occupation(given)
    if occ is not None:
        return occ["riasec"]
    return given.upper() if len(given) == 3 and set(given.upper()) <= set(HEXAGON) else None


def _shown_name(given: str, lang: str) -> str:
    occ = _occupation(given)
    return occ[f"name_{lang}"] if occ else given


def _text(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    html = re.sub(r'src="data:[^"]*"', "", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _svgs(html: str) -> list[str]:
    return [base64.b64decode(x).decode("utf-8") for x in re.findall(r"data:image/svg\+xml;base64,([^\"]+)", html)]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: c.id)
def rendered(request: pytest.FixtureRequest) -> tuple[Case, reports.Profile, dict[tuple[str, str], tuple[str, dict]]]:
    case: Case = request.param
    p = reports.build_profile(PERSON, case.records())  # type: ignore[arg-type]
    out = {}
    for audience, lang in RENDERS:
        html = _text(reports.render_html(p, lang, audience, charts=False))
        data = json.loads(reports.render_json(p, lang, audience))
        out[(audience, lang)] = (html, data)
    return case, p, out


def _shows_intake(audience: str) -> bool:
    return audience != "beneficiary"


# -- aspirations -----------------------------------------------------------------------------------


def test_no_report_says_no_aspiration_was_given_when_one_was(rendered) -> None:  # type: ignore[no-untyped-def]
    case, _, out = rendered
    for (audience, lang), (text, data) in out.items():
        s = reports.strings(lang)
        said_none = s.get("ui.label.no_aspirations") in text
        if case.used:
            assert not said_none, (audience, lang)
        else:  # the psychologist's technical block says so; the others do not discuss congruence
            assert said_none == (audience == "psychologist"), (audience, lang)
            assert (data["intake"] or {}).get("aspirations", []) == []
        coded = [a for a in case.used if _code(a)]
        no_code = s.get("ui.label.no_coded_aspiration") in text
        assert no_code == (audience == "psychologist" and bool(case.used) and not coded), (audience, lang)
        if audience == "psychologist":
            assert data["holland"]["aspirations_given"] == bool(case.used)


def test_congruence_is_computed_against_the_aspiration_used(rendered) -> None:  # type: ignore[no-untyped-def]
    case, profile, out = rendered
    first = next((a for a in case.used if _code(a)), None)
    for (audience, lang), (text, data) in out.items():
        s = reports.strings(lang)
        label = s.get("ui.label.congruence")
        if audience != "psychologist":
            assert "congruence" not in data["holland"] and f"{label}:" not in text
            continue
        if first is None:
            assert data["holland"]["congruence"] is None
            said = s.get("ui.label.no_coded_aspiration" if case.used else "ui.label.no_aspirations")
            assert f"{label}: {said}" in text
            continue
        q = _code(first)
        assert q is not None
        m, c, zs = iachan(CODE, q), brown_gore(CODE, q), zener_schnuelle(CODE, q)
        assert data["holland"]["congruence"] == {"m": [m, m], "c": [c, c], "zs": [zs, zs]}
        assert data["holland"]["congruence_with"] == {"name": _shown_name(first, lang), "code": q}
        line = (
            f"{label}: {s.get('ui.label.congruence_with', occupation=_shown_name(first, lang), code=q)} "
            f"{s.get('ui.label.congruence_values', m=m, c=c, zs=zs)}"
        )
        assert line in text, (lang, line)
    # the same in the profile every section reads
    assert [a.given for a in profile.aspirations] == list(case.used)
    source = "holland" if case.sds_aspirations else "intake" if case.intake_given else None
    assert profile.aspirations_source == source


def test_coherence_follows_the_aspirations_used(rendered) -> None:  # type: ignore[no-untyped-def]
    case, _, out = rendered
    codes = [_code(a) for a in case.used[:3]]
    expected = None
    if len(codes) == 3 and all(codes):
        same = sum(c[0] == codes[0][0] for c in codes[1:])  # type: ignore[index]
        expected = ("low", "average", "high")[same]
    for (audience, _lang), (_, data) in out.items():
        if audience == "psychologist":
            assert (data["holland"]["coherence"] or {}).get("level") == expected


def test_the_aspirations_listed_are_the_ones_used(rendered) -> None:  # type: ignore[no-untyped-def]
    case, _, out = rendered
    for (audience, lang), (text, data) in out.items():
        s = reports.strings(lang)
        if not _shows_intake(audience) or case.intake is None:
            assert data["intake"] is None
            continue
        listed = [a["name"] for a in data["intake"]["aspirations"]]
        assert listed == [_shown_name(a, lang) for a in case.used]
        for a in case.used:
            assert _shown_name(a, lang) in text
        heading = s.get("ui.label.aspirations_sds" if case.sds_aspirations else "ui.label.aspirations")
        note = f"{s.get('ui.aspiration.from_sds')} " if case.sds_aspirations and case.intake_given else ""
        table = f"{heading} {note}{s.get('ui.col.occupation')}"  # heading, note, the table's first column
        assert (table in text) == bool(case.used), (audience, lang)
        # the intake's own answer is still shown as given, in its field
        field = next(f for f in data["intake"]["fields"] if f["id"] == "aspired_occupations")
        assert field["value"] == (s.join(_shown_name(a, lang) for a in case.intake_given) or None)
        notes = [a["note"] for a in data["intake"]["aspirations"]]
        for given, note in zip(case.used, notes, strict=True):
            if _occupation(given) is None:
                key = "ui.aspiration.code_only" if _code(given) else "ui.aspiration.unknown"
                assert note == s.get(key), given


def test_the_sds_versus_intake_note_appears_exactly_when_both_gave_aspirations(rendered) -> None:  # type: ignore[no-untyped-def]
    case, _, out = rendered
    both = bool(case.sds_aspirations and case.intake_given)
    for (audience, lang), (text, data) in out.items():
        note = reports.strings(lang).get("ui.aspiration.from_sds")
        shown = both and _shows_intake(audience)
        assert (note in text) == shown, (audience, lang)
        assert (data["intake"] or {}).get("aspirations_note") == (note if shown else None)
        assert note not in json.dumps({k: v for k, v in data.items() if k != "intake"}, ensure_ascii=False)


# -- education -------------------------------------------------------------------------------------


def test_the_education_filter_names_the_intakes_answer(rendered) -> None:  # type: ignore[no-untyped-def]
    case, _, out = rendered
    known = case.intake is not None and case.education
    for (audience, lang), (text, data) in out.items():
        s = reports.strings(lang)
        if audience == "beneficiary":  # in everyday words: no training levels (review #74)
            note = s.get("ui.match.you.education_filter" if known else "ui.match.you.education_unknown")
            other = s.get("ui.match.you.education_unknown" if known else "ui.match.you.education_filter")
        elif known:
            label = _EDUCATION["secondary"][f"label_{lang}"]
            note = s.get("ui.match.education_filter", education=label, max=MAX_LEVEL["secondary"])
            other = s.get("ui.match.education_unknown")
        else:
            note = s.get("ui.match.education_unknown")
            other = s.get("ui.match.education_filter", education="x", max=3)[:25]
        assert data["matches"]["filter_note"] == note, (audience, lang)
        assert note in text
        assert other not in text
        if data["intake"] is not None:
            field = next(f for f in data["intake"]["fields"] if f["id"] == "education_level")
            assert field["value"] == (_EDUCATION["secondary"][f"label_{lang}"] if case.education else None)


# -- a prorated score --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prorated() -> tuple[reports.Profile, float]:
    """SDS with one Enterprising item left blank (it was liked): E is 11 of 21 answered, prorated to 22."""
    inst = instruments.load("sds")
    answers = sds_answers()
    first_e = next(it.id for it in inst.items if inst.scale(it.scale).letter == "E")
    assert answers[first_e] == "like"
    answers[first_e] = ""
    rec = record("sds", answers)
    value = 11 * 22 / 21  # by hand: the answered items' sum stands for all 22
    assert rec.scale("E").score == pytest.approx(value) and rec.scale("E").prorated  # type: ignore[union-attr]
    return reports.build_profile(PERSON, [rec, intake_record()]), value


@pytest.mark.parametrize("audience, lang", RENDERS)
def test_a_prorated_score_reads_the_same_everywhere(prorated, audience: str, lang: str) -> None:  # type: ignore[no-untyped-def]
    p, value = prorated
    s = reports.strings(lang)
    shown = f"{value:.1f}".replace(".", "," if lang == "ka" else ".")  # 11.5 / 11,5
    mark = s.get("ui.prorated", n=1)
    data = json.loads(reports.render_json(p, lang, audience))
    e = next(t for t in data["holland"]["types"] if t["letter"] == "E")
    assert round(e["total"], 1) == round(value, 1) and e["prorated"] == mark
    assert all(t["prorated"] is None for t in data["holland"]["types"] if t["letter"] != "E")
    html = reports.render_html(p, lang, audience)
    text = _text(html)
    name = instruments.load("sds").scale("E").name.get(lang)
    if audience == "beneficiary":  # no counts and no "prorated" in the beneficiary's own report
        assert mark not in text and not re.findall(r"\d\*", text)
        drawn = [t for svg in _svgs(html) for t in re.findall(r">([^<>]*)</text>", svg)]
        assert drawn and not [t for t in drawn if re.search(r"\d", t)], drawn
        return
    assert f"{name} (E) {shown}* ({mark})" in text  # the note under the charts, in every staff audience
    starred = re.findall(r"(\d+(?:[.,]\d+)?)\*", text)
    assert starred and set(starred) == {shown}, starred  # no other rounding of it anywhere in the text
    charts = _svgs(html)
    bars = [svg for svg in charts if f"{shown}*" in svg]
    assert len(bars) == (2 if audience == "psychologist" else 1)  # the bars, and the hexagon for the psychologist
    for svg in charts:
        assert not re.search(r"11[.,]52|>12\*<", svg)
    if audience == "psychologist":  # the table cell
        row = re.search(r"<tr><td>E · [^<]*</td>(.*?)</tr>", html, flags=re.S)
        assert row is not None and f"<strong>{shown}*</strong>" in row.group(1)


def test_a_prorated_score_in_the_pdf(prorated) -> None:  # type: ignore[no-untyped-def]
    p, value = prorated
    pdf = reports.render_pdf(p, "ka", "employment")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert f"{value:.1f}*".replace(".", ",") in text
    assert reports.strings("ka").get("ui.prorated", n=1) in text
