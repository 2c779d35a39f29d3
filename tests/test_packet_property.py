"""No clinical detail reaches the employment department unless the consent covers it: for random
consents (packet parts) and random results, the packet's stored content (JSON), its HTML and its PDF
carry no clinical text unless the packet carries the 'clinical' part; parts not chosen are absent.
On SQLite and on PostgreSQL, through the REST API as the social worker and the officer use it."""

from __future__ import annotations

import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

import instruments
import reports
from tests.api_helpers import INTAKE, administer, answers_for

PARTS = list(reports.PACKET_PARTS)


def clinical_texts() -> set[str]:
    """Every text that is clinical detail, in both languages, from the definitions and the texts."""
    out: set[str] = set()
    for iid, ver in instruments.available():
        inst = instruments.load(iid, ver)
        for s in inst.scales:
            if s.clinical:
                out |= {s.name.ka, s.name.en}
    for a in instruments.activities():
        if a.clinical:
            out |= {a.name.ka, a.name.en}
    for lang in reports.LANGS:
        strings = reports.strings(lang)
        for key in strings:
            if key.startswith(("flag.", "decision.barrier.emotional_strain.", "ui.validity.")):
                out.add(strings.get(key, margin="2").split(".")[0][:40])
    return {t for t in out if t}


CLINICAL = clinical_texts()


def _vdq(strained: bool, seed: int) -> dict[str, str]:
    answers = answers_for("vdq", seed)
    if strained:  # every emotional-strain statement fully true: the barrier is salient
        inst = instruments.load("vdq")
        for it in inst.items_of("emotional_strain"):
            answers[it.id] = "4" if it.keyed == 1 else "1"
    return answers


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    parts=st.lists(st.sampled_from(PARTS), min_size=1, max_size=4, unique=True),
    strained=st.booleans(),
    seed=st.integers(0, 50),
)
def test_no_clinical_detail_without_the_clinical_part(service, parts: list[str], strained: bool, seed: int) -> None:  # type: ignore[no-untyped-def]
    sw, psy = service.client("social_worker"), service.client("psychologist")
    officer = service.client("employment_officer")
    code = sw.post("/v1/beneficiaries", json={"name": "თეა"}).json()["code"]
    administer(sw, code, "intake", {**INTAKE, "notes": "CONFIDENTIAL-NOTE"})
    administer(psy, code, "vdq", _vdq(strained, seed))
    administer(psy, code, "sds", answers_for("sds", seed))
    sw.post(f"/v1/beneficiaries/{code}/consents", json={"addressee": "ssa-employment", "scope": PARTS})
    p = sw.post("/v1/packets", json={"beneficiary": code, "addressee": "ssa-employment", "parts": parts}).json()
    assert sw.post(f"/v1/packets/{p['id']}/send").status_code == 201
    content = json.dumps(officer.get(f"/v1/packets/{p['id']}").json(), ensure_ascii=False)
    html = officer.get(f"/v1/packets/{p['id']}/report", params={"lang": "ka"}).text
    html += officer.get(f"/v1/packets/{p['id']}/report", params={"lang": "en"}).text
    surfaces = {"content": content, "html": html}
    if seed % 5 == 0:  # the PDF is slow: some examples only
        pdf = officer.get(f"/v1/packets/{p['id']}/report", params={"lang": "en", "format": "pdf"}).content
        surfaces["pdf"] = " ".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    for where, text in surfaces.items():
        assert "CONFIDENTIAL-NOTE" not in text, where  # a free-text note is never in a packet
        if "clinical" not in parts:
            leaked = sorted(t for t in CLINICAL if t in text)
            assert leaked == [], (where, parts, leaked)
    view = json.loads(content)["content"]["views"]["en"]
    assert (view["intake"] is not None) == ("intake_summary" in parts)
    assert (view["decision"] is not None) == ("profile" in parts)
    assert bool(view["activities"]) <= ("activities" in parts)
    if "clinical" in parts and "profile" in parts and strained:
        name = instruments.load("vdq").scale("emotional_strain").name.en
        assert name in content  # and with the part, it is there
