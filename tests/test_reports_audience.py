"""The one audience rule, as a property: a packet never carries clinical detail its parts do not cover.

For random packet part sets (non-empty subsets of ``reports.PACKET_PARTS``) and random VDQ answers
(so the emotional-strain barrier is sometimes salient, sometimes not; some answers blank, so
validity flags are sometimes raised), the packet view (``reports.packet_view``) as JSON, and the
HTML rendered from it (text and the SVG charts inside it), never contain:

- the emotional-strain scale's name, description or narrative texts (ka and en, from the definition
  and ``decision.barrier.emotional_strain.*``) or its id;
- the names and descriptions of the clinical activities (catalogue activities with ``clinical = true``);
- any validity-flag text (and, without the clinical part, not even the plain caution sentence);

unless ``clinical`` is one of the parts; and the sections of parts not chosen are absent (no intake
fields without ``intake_summary``, no activities without ``activities``, no instrument sections
without ``profile``). The beneficiary's view never carries clinical detail, whatever the answers.
The forbidden texts are read from the definition, the catalogue and the strings files here,
not from the code under test. PDFs are checked on a few fixed examples (they are slow).
"""

from __future__ import annotations

import base64
import io
import json
import re
import tomllib
from html import escape, unescape
from pathlib import Path

import pandas as pd
import pypdf
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import instruments
import reports
from api.scoring_facade import records_of_frame
from tests.test_reports_data import PERSON, intake_record, ppi_answers, record, sds_answers, vdq_answers

VDQ = instruments.load("vdq")
STRAIN = "emotional_strain"
LANGS = ("ka", "en")
STRINGS = Path(reports.__file__).parent / "strings"


def _flat(lang: str) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(prefix: str, node: object) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            out[prefix] = str(node)

    walk("", tomllib.loads((STRINGS / f"{lang}.toml").read_text(encoding="utf-8")))
    return out


TEXTS = {lang: _flat(lang) for lang in LANGS}


def _fragments(text: str) -> list[str]:
    """The literal parts of a text with placeholders (each long enough to be telling)."""
    return [p.strip() for p in re.split(r"\{[^}]*\}", text) if len(p.strip()) >= 12]


def _strain_texts(lang: str) -> list[str]:
    scale = VDQ.scale(STRAIN)
    out = [scale.name.get(lang)]
    if scale.description is not None:
        out.append(scale.description.get(lang))
    out += [v for k, v in TEXTS[lang].items() if k.startswith(f"decision.barrier.{STRAIN}.")]
    return out


def _clinical_activity_texts(lang: str) -> list[str]:
    out = []
    for a in instruments.activities():
        if a.clinical:
            out.append(a.name.get(lang))
            if a.description is not None:
                out.append(a.description.get(lang))
    return out


def _flag_texts(lang: str) -> list[str]:
    return [f for k, v in TEXTS[lang].items() if k.startswith("flag.") for f in _fragments(v)]


CLINICAL = {lang: _strain_texts(lang) + _clinical_activity_texts(lang) for lang in LANGS}
FLAGS = {lang: _flag_texts(lang) for lang in LANGS}
CAUTION = {lang: TEXTS[lang]["ui.validity.caution"] for lang in LANGS}
INTAKE_FORM = instruments.load("intake")
FIELD_LABELS = {lang: [f.label.get(lang) for f in INTAKE_FORM.packet_fields] for lang in LANGS}
SECTION_HEADINGS = {  # the sections of each part, by their headings in the employment view
    "intake_summary": ("intake", "group"),
    "profile": ("interests", "personality", "decision", "start_wishes", "matches_other"),  # the person's wishes first
    "activities": ("activities",),
}


def _visible(html: str) -> str:
    """The HTML's text and the text inside its SVG charts, whitespace collapsed."""
    svgs = [base64.b64decode(x).decode("utf-8") for x in re.findall(r"data:image/svg\+xml;base64,([^\"]+)", html)]
    body = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
    body = re.sub(r'src="data:[^"]*"', "", body)
    text = " ".join([body, *svgs])
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", text)))


# -- the fixed records and the random VDQ ------------------------------------------------------------

OTHERS = [intake_record(), record("sds", sds_answers()), record("ppi", ppi_answers())]


def _vdq(levels: dict[str, int], jitter: list[int | None]) -> object:
    """A VDQ record: each scale at its level (1–4) with per-item jitter; None leaves the item blank."""
    answers: dict[str, object] = {"id": PERSON}
    for it, j in zip(VDQ.items, jitter, strict=True):
        if j is None:
            answers[it.id] = ""
            continue
        v = min(4, max(1, levels[it.scale] + j))  # type: ignore[index]
        answers[it.id] = v if it.keyed == 1 else 5 - v
    (rec,) = records_of_frame(VDQ, pd.DataFrame([answers]).astype(object))
    return rec


vdq_records = st.builds(
    _vdq,
    st.fixed_dictionaries(
        {s.id: st.sampled_from((1, 2, 3, 4, 4)) if s.id == STRAIN else st.integers(1, 4) for s in VDQ.scales}
    ),
    st.lists(st.sampled_from((-1, 0, 0, 0, 1, None)), min_size=len(VDQ.items), max_size=len(VDQ.items)),
)
part_sets = st.sets(st.sampled_from(reports.PACKET_PARTS), min_size=1).map(sorted)


def _profile(vdq: object) -> reports.Profile:
    return reports.build_profile(PERSON, [*OTHERS, vdq])  # type: ignore[list-item]


def _strain_salient(p: reports.Profile) -> bool:
    return p.decision is not None and any(b.id == STRAIN and b.band == "salient" for b in p.decision.barriers)


def check_packet(p: reports.Profile, parts: list[str], lang: str, html: str | None = None) -> None:
    """Everything the property says, for one packet in one language (``html``: rendered elsewhere)."""
    view = reports.packet_view(p, lang, parts)
    data = reports.view_json(view)
    raw = html if html is not None else reports.render_view_html(view)
    text = _visible(raw)
    clinical = "clinical" in parts
    t = TEXTS[lang]
    for where in (data, text):
        if not clinical:
            for x in CLINICAL[lang]:
                assert x not in where, (parts, x)
            assert CAUTION[lang] not in where, parts
        for x in FLAGS[lang]:  # the employment department never reads the flags themselves
            assert x not in where, (parts, x)
    if not clinical:
        assert STRAIN not in data
        assert all(b["id"] != STRAIN for b in (view["decision"] or {}).get("barriers", []))
    # the sections of the parts that were not chosen are absent, those chosen are there
    for part, headings in SECTION_HEADINGS.items():
        for h in headings:
            assert (f"<h2>{t[f'ui.heading.pro.{h}']}</h2>" in raw) == (part in parts), (parts, h)
    if "intake_summary" not in parts:
        assert view["intake"] is None and view["group"] is None
        for label in FIELD_LABELS[lang]:  # a field is printed "label: value"
            assert f'<span class="k">{escape(label)}:</span>' not in raw, (parts, label)
    else:
        assert [f["id"] for f in view["intake"]["fields"]] == [f.id for f in INTAKE_FORM.packet_fields]
        assert all(f'<span class="k">{escape(label)}:</span>' in raw for label in FIELD_LABELS[lang])
    if "activities" not in parts:
        assert view["activities"] == [] and t["ui.label.no_activities"] not in text
        for rec in p.activities:  # an activity is listed as <span class="name">…</span> (names may recur in narratives)
            assert f'<span class="name">{escape(rec.activity.name.get(lang))}</span>' not in raw, (
                parts,
                rec.activity.id,
            )
    else:
        assert view["activities"]
    if "profile" not in parts:
        assert all(view[k] is None for k in ("decision", "holland", "bipolar", "matches", "validity"))
        assert "SAE" not in text and view["changes"] == []
    else:
        assert view["holland"]["code"] == "SAE"
    # the test can see what it forbids: with consent the strain barrier is named, and if salient, helped
    if clinical and "profile" in parts:
        assert VDQ.scale(STRAIN).name.get(lang) in text
    if clinical and "activities" in parts and _strain_salient(p):
        assert any(x in text for x in _clinical_activity_texts(lang))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vdq=vdq_records, parts=part_sets)
def test_a_packet_carries_only_its_parts_and_clinical_detail_only_with_consent(vdq: object, parts: list[str]) -> None:
    p = _profile(vdq)
    event(f"emotional strain salient: {_strain_salient(p)}")
    event(f"validity flags: {bool(p.decision and p.decision.flags)}")
    for lang in LANGS:
        check_packet(p, parts, lang)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vdq=vdq_records)
def test_the_beneficiary_view_never_carries_clinical_detail(vdq: object) -> None:
    p = _profile(vdq)
    for lang in LANGS:
        view = reports.build_view(p, lang, "beneficiary")
        data = reports.view_json(view)
        text = _visible(reports.render_view_html(view))
        for where in (data, text):
            for x in [*CLINICAL[lang], *FLAGS[lang], CAUTION[lang]]:
                assert x not in where, x
        assert STRAIN not in data and not view["clinical_included"] and view["validity"] is None


def test_the_strategy_reaches_both_sides() -> None:
    """The random answers do make the strain barrier salient, and not salient (else the property is idle)."""
    high = _vdq({s.id: 4 if s.id == STRAIN else 1 for s in VDQ.scales}, [0] * len(VDQ.items))
    low = _vdq({s.id: 1 for s in VDQ.scales}, [0] * len(VDQ.items))
    assert _strain_salient(_profile(high)) and not _strain_salient(_profile(low))


def test_the_check_catches_a_leak() -> None:
    """The property's check fails on a view that does show clinical detail without the part."""
    p = _profile(record("vdq", vdq_answers()))  # the fixture: emotional strain salient
    assert _strain_salient(p)
    leaked = reports.render_html(p, "en", "employment", consent_includes_clinical=True)
    with pytest.raises(AssertionError):
        check_packet(p, ["profile", "activities"], "en", html=leaked)


@pytest.mark.parametrize(
    "parts", [["profile", "activities"], ["intake_summary"], ["profile", "activities", "clinical"]]
)
def test_the_packet_pdf_follows_the_same_rule(parts: list[str]) -> None:
    p = _profile(record("vdq", vdq_answers()))  # emotional strain salient
    view = reports.packet_view(p, "ka", parts)
    pdf = reports.render_view_pdf(view, charts=False)
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages))
    strain = VDQ.scale(STRAIN).name.ka
    if "clinical" in parts:
        assert strain in text  # the extraction can see it when it is there
    else:
        for x in CLINICAL["ka"]:
            assert x not in text, x
    for x in FLAGS["ka"]:
        assert x not in text
    assert (TEXTS["ka"]["ui.heading.pro.activities"] in text) == ("activities" in parts)
    assert (f"{FIELD_LABELS['ka'][0]}:" in text) == ("intake_summary" in parts)  # the intake's first field
    assert json.loads(reports.view_json(view))["packet_parts"] == sorted(parts)
